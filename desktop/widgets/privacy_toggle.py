"""The privacy mode, always in view: a lock and "Local-only" until the person allows downloads.
The icons are Hearth's own (no emoji font needed)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from desktop import theme
from engine.policy import Mode

TEXT = {Mode.LOCAL_ONLY: "Local-only", Mode.DOWNLOADS_ALLOWED: "Downloads allowed"}
ICONS = {Mode.LOCAL_ONLY: "lock", Mode.DOWNLOADS_ALLOWED: "download"}
TIPS = {
    Mode.LOCAL_ONLY: "Nothing leaves this computer: no connection of any kind is allowed. "
    "Click to allow model downloads.",
    Mode.DOWNLOADS_ALLOWED: "Only model downloads you start may connect, only to the catalog's "
    "hosts. Click to go back to Local-only.",
}


class _ToggleButton(QToolButton):
    def nextCheckState(self) -> None:  # a click asks; only set_mode changes the state
        pass


class PrivacyToggleWidget(QWidget):
    """Shows the mode and asks to change it. A click only emits ``mode_change_requested`` with
    the other mode's value (``Mode``'s string); the window confirms (``PrivacyConfirmDialog``
    when widening), switches the policy, then calls ``set_mode``."""

    mode_change_requested = Signal(str)

    def __init__(self, mode: Mode = Mode.LOCAL_ONLY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = _ToggleButton()
        self.button.setCheckable(True)
        self.button.setAutoRaise(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setObjectName("privacyToggle")
        self.button.clicked.connect(self._on_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        self._mode = mode
        self.set_mode(mode)

    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode | str) -> None:
        self._mode = Mode(mode)
        self.button.setChecked(self._mode is Mode.LOCAL_ONLY)
        self.button.setText(TEXT[self._mode])
        t = theme.tokens()
        color = t.accent if self._mode is Mode.LOCAL_ONLY else t.warning
        self.button.setIcon(theme.icon(ICONS[self._mode], color))
        self.button.setToolTip(TIPS[self._mode])
        self.button.setAccessibleName(f"Privacy mode: {self._mode.label}")
        self.button.setAccessibleDescription(TIPS[self._mode])

    def text(self) -> str:
        return self.button.text()

    def _on_button_clicked(self) -> None:
        other = Mode.DOWNLOADS_ALLOWED if self._mode is Mode.LOCAL_ONLY else Mode.LOCAL_ONLY
        self.mode_change_requested.emit(other.value)
