"""What the window shows while Hearth is locked: no conversation text, only a way back in.

A centred column no wider than a comfortable line: a drawn lock, what has happened in plain
words, the passcode field (focused when shown) and Unlock. Enter unlocks. Every text wraps,
so nothing is cut at any window size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop import theme

COLUMN_EMS = 24  # the widest the column gets, in ems: a comfortable line
HINT = "Your conversations are hidden until you unlock Hearth."
HINT_PASSCODE = "Enter your passcode to see them again."
HINT_NO_PASSCODE = "No passcode is set, so Unlock opens them again. You can set one in Settings."
HINT_PASSPHRASE = (
    "Your history is encrypted with your passphrase: enter it to open the history again."
)


class LockScreenWidget(QWidget):
    """Emits ``unlock_requested`` with the typed passcode ("" when none is set); the window
    checks it and reopens the store, then calls ``show_problem`` or leaves the lock screen."""

    unlock_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")  # the app stylesheet gives it the window colour
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.icon_label = QLabel()
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.icon_label.setAccessibleName("Locked")
        self.title_label = QLabel("Hearth is locked")
        self.title_label.setObjectName("lockTitle")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * theme.TYPE["title"])
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setAccessibleName("Hearth is locked")
        self.hint_label = QLabel()
        self.hint_label.setAccessibleName("How to unlock")
        self.passcode_edit = QLineEdit()
        self.passcode_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passcode_edit.setAccessibleName("Passcode")
        self.passcode_edit.setPlaceholderText("Passcode")
        self.passcode_edit.returnPressed.connect(self._on_unlock_button_clicked)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setProperty("role", "primary")
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._on_unlock_button_clicked)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("errorLabel")
        self.problem_label.setAccessibleName("Unlock problem")
        self.problem_label.hide()
        for label in (self.title_label, self.hint_label, self.problem_label):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            label.setTextFormat(Qt.TextFormat.PlainText)

        # The column spans the layout (a wrapped label, or a widget holding one, given an
        # alignment in a box layout is laid out one line high); resizeEvent centres it by
        # widening the side margins instead, up to a comfortable line length.
        self.column = QWidget()
        inner = QVBoxLayout(self.column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(theme.em(self, 0.6))
        inner.addWidget(self.icon_label)
        inner.addWidget(self.title_label)
        inner.addWidget(self.hint_label)
        inner.addSpacing(theme.em(self, 0.4))
        inner.addWidget(self.passcode_edit)
        inner.addWidget(self.unlock_button)
        inner.addWidget(self.problem_label)
        self._layout = QVBoxLayout(self)
        self._layout.addStretch(1)
        self._layout.addWidget(self.column)
        self._layout.addStretch(2)
        self._fit_column()
        self._apply_icon()

    def reset(self, *, needs_passcode: bool, passphrase: bool = False) -> None:
        """Back to an empty form; the unlock button waits for ``set_ready``. With
        ``passphrase`` the field asks for the history's passphrase (it is the key itself)."""
        self.passcode_edit.clear()
        self.passcode_edit.setVisible(needs_passcode or passphrase)
        name = "Passphrase" if passphrase else "Passcode"
        self.passcode_edit.setAccessibleName(name)
        self.passcode_edit.setPlaceholderText(name)
        if passphrase:
            hint = HINT_PASSPHRASE
        else:
            hint = HINT_PASSCODE if needs_passcode else HINT_NO_PASSCODE
        self.hint_label.setText(f"{HINT} {hint}")
        self.problem_label.hide()
        self.set_ready(False)

    def set_ready(self, ready: bool) -> None:
        """Whether the store is closed and unlocking can start (a reply may still be
        stopping)."""
        self.unlock_button.setEnabled(ready)
        self.passcode_edit.setEnabled(ready)
        if ready:
            self._focus_input()

    def show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.show()
        self.passcode_edit.selectAll()
        self.set_ready(True)

    def _focus_input(self) -> None:
        """The passcode field when there is one, else Unlock (so Enter or Space unlocks)."""
        target = self.unlock_button if self.passcode_edit.isHidden() else self.passcode_edit
        if target.isEnabled():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _apply_icon(self) -> None:
        size = theme.em(self, 3)
        pixmap = theme.icon("lock", theme.tokens().accent, size=size * 2).pixmap(QSize(size, size))
        self.icon_label.setPixmap(pixmap)

    def _on_unlock_button_clicked(self) -> None:
        if not self.unlock_button.isEnabled():
            return
        self.set_ready(False)
        self.unlock_requested.emit(self.passcode_edit.text())

    # ---- events -----------------------------------------------------------------------------

    def _fit_column(self) -> None:
        margin = theme.em(self, 1.5)
        side = max(margin, (self.width() - theme.em(self, COLUMN_EMS)) // 2)
        self._layout.setContentsMargins(side, margin, side, margin)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_column()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._focus_input()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter unlocks wherever the focus is on this screen (the field's own Enter comes
        # through returnPressed; the second call finds Unlock disabled and does nothing).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._on_unlock_button_clicked()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_icon()  # the lock is drawn in the scheme's accent
