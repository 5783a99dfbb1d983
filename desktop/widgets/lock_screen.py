"""What the window shows while Hearth is locked: no conversation text, only a way back in."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop import theme


class LockScreenWidget(QWidget):
    """Emits ``unlock_requested`` with the typed passcode ("" when none is set); the window
    checks it and reopens the store, then calls ``show_problem`` or leaves the lock screen."""

    unlock_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lock_screen")
        self.title_label = QLabel("🔒 Hearth is locked")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.title_label.setFont(font)
        self.title_label.setAccessibleName("Hearth is locked")
        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("How to unlock")
        self.passcode_edit = QLineEdit()
        self.passcode_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passcode_edit.setAccessibleName("Passcode")
        self.passcode_edit.setPlaceholderText("Passcode")
        self.passcode_edit.setMaximumWidth(theme.em(self, 16))
        self.passcode_edit.returnPressed.connect(self._on_unlock_button_clicked)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._on_unlock_button_clicked)
        self.problem_label = QLabel()
        self.problem_label.setAccessibleName("Unlock problem")
        self.problem_label.setStyleSheet(f"color: {theme.warning_color().name()}")
        self.problem_label.hide()

        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for w in (
            self.title_label,
            self.hint_label,
            self.passcode_edit,
            self.unlock_button,
            self.problem_label,
        ):
            layout.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def reset(self, *, needs_passcode: bool) -> None:
        """Back to an empty form; the unlock button waits for ``set_ready``."""
        self.passcode_edit.clear()
        self.passcode_edit.setVisible(needs_passcode)
        self.hint_label.setText(
            "Your conversations are hidden and the history's key is out of memory. "
            + (
                "Enter your passcode to continue."
                if needs_passcode
                else "No passcode is set (Settings): Unlock reopens your history."
            )
        )
        self.problem_label.hide()
        self.set_ready(False)

    def set_ready(self, ready: bool) -> None:
        """Whether the store is closed and unlocking can start (a reply may still be
        stopping)."""
        self.unlock_button.setEnabled(ready)
        self.passcode_edit.setEnabled(ready)
        if ready and self.passcode_edit.isVisible():
            self.passcode_edit.setFocus()

    def show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.show()
        self.passcode_edit.selectAll()
        self.set_ready(True)

    def _on_unlock_button_clicked(self) -> None:
        if not self.unlock_button.isEnabled():
            return
        self.set_ready(False)
        self.unlock_requested.emit(self.passcode_edit.text())
