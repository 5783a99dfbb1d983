"""Asked at start when the history is protected by a passphrase: one password field, what it
opens, and the two ways on (Open, or Quit / carry on without the history). The caller tries the
passphrase and calls ``show_problem`` when it does not open the history."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class PassphraseDialog(QDialog):
    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passphrase_dialog")
        self.setWindowTitle("Open your history")
        self.message_label = QLabel(
            f"{message} Enter it to open your conversations. It never leaves this computer, "
            "and nobody can recover it for you."
        )
        self.message_label.setWordWrap(True)
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Passphrase")
        self.passphrase_edit.setPlaceholderText("Passphrase")
        self.problem_label = QLabel()
        self.problem_label.setObjectName("errorLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.other_button = buttons.addButton(
            "Other Choices…", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.open_button.setDefault(True)
        self.open_button.setEnabled(False)
        self.passphrase_edit.textChanged.connect(
            lambda text: self.open_button.setEnabled(bool(text))
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        layout.addWidget(self.passphrase_edit)
        layout.addWidget(self.problem_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)
        self.passphrase_edit.setFocus()

    def passphrase(self) -> str:
        return self.passphrase_edit.text()

    def show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.show()
        self.passphrase_edit.selectAll()
        self.passphrase_edit.setFocus()
