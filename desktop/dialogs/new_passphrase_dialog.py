"""Choosing a passphrase for the history (Privacy panel → Use a Passphrase…): typed twice, at
least ``MIN_LENGTH`` characters, with what it means said first: the key leaves the keychain,
Hearth asks for the passphrase at every start and unlock, and nobody can recover it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

MIN_LENGTH = 8  # as `hearth passphrase set`
EXPLAIN = (
    "Your history will be encrypted with a key made from this passphrase, and the key in the "
    "system keychain is deleted: other programs of your account can no longer read the history "
    "through the keychain. Hearth asks for the passphrase each time it starts and unlocks. "
    "Nobody can recover a forgotten passphrase — Hearth included."
)


class NewPassphraseDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("new_passphrase_dialog")
        self.setWindowTitle("Protect your history with a passphrase")
        explain = QLabel(EXPLAIN)
        explain.setWordWrap(True)
        self.first_edit = QLineEdit()
        self.second_edit = QLineEdit()
        for edit, name in ((self.first_edit, "Passphrase"), (self.second_edit, "Once more")):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
            edit.textChanged.connect(self._check)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("hintLabel")
        self.problem_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Passphrase", self.first_edit)
        form.addRow("Once more", self.second_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use_button = self.buttons.addButton(
            "Use This Passphrase", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)
        self._check()

    def passphrase(self) -> str:
        return self.first_edit.text()

    def _check(self) -> None:
        first, second = self.first_edit.text(), self.second_edit.text()
        if len(first) < MIN_LENGTH:
            problem = f"At least {MIN_LENGTH} characters."
        elif first != second:
            problem = "The two do not match yet."
        else:
            problem = ""
        self.problem_label.setText(problem)
        self.use_button.setEnabled(not problem)
