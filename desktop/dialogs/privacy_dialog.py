"""The privacy panel: what tried to leave this computer, how the history is protected, where
each kind of data lives, and *Forget everything*.

The dialog reads nothing itself: the window hands it the session's ledger entries and what the
store says (read on the storage thread), and it asks the window to forget through
``forget_requested`` once the person has confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.dialogs.new_passphrase_dialog import NewPassphraseDialog
from engine.policy import EgressAttempt

LEDGER_COLUMNS = ("Time", "What", "Where", "Mode", "Outcome")
FORGET_TEXT = (
    "This deletes every conversation, your settings, the egress log and the database key, "
    "and removes the app-lock passcode. It cannot be undone. Downloaded models stay."
)


def ask_forget_everything(parent: QWidget) -> bool:
    """The confirmation for *Forget everything*; Cancel is the default (Enter or Esc)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Forget everything?",
        "Forget everything Hearth keeps about you?",
        parent=parent,
    )
    box.setObjectName("forget_confirm_dialog")
    box.setInformativeText(FORGET_TEXT)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    forget = box.addButton("Forget Everything", QMessageBox.ButtonRole.DestructiveRole)
    forget.setAccessibleName("Forget everything")
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is forget


class PrivacyDialog(QDialog):
    """``set_store_details`` fills the parts that come from the store once they are read."""

    forget_requested = Signal()
    passphrase_requested = Signal(str)  # the new passphrase; "" for the keychain again

    def __init__(
        self,
        session_entries: Sequence[EgressAttempt],
        locations: Sequence[tuple[str, str]],
        mode_label: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Privacy")
        self.setObjectName("privacy_dialog")
        self.resize(theme.em(self, 44), theme.em(self, 30))

        self.mode_label = QLabel(f"Mode: {mode_label}")
        self.mode_label.setAccessibleName("Privacy mode")
        self.session_label = QLabel()
        self.session_label.setAccessibleName("This session's egress attempts")
        self.ledger_table = QTableWidget(0, len(LEDGER_COLUMNS))
        self.ledger_table.setObjectName("ledger_table")
        self.ledger_table.setAccessibleName("Egress log of this session")
        self.ledger_table.setHorizontalHeaderLabels(LEDGER_COLUMNS)
        self.ledger_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ledger_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.ledger_table.verticalHeader().hide()
        self.ledger_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.stored_label = QLabel("Reading the log kept in your history…")
        self.stored_label.setAccessibleName("Egress log kept in the store")

        ledger_box = QGroupBox("What tried to leave this computer")
        ledger_layout = QVBoxLayout(ledger_box)
        for w in (self.mode_label, self.session_label, self.ledger_table, self.stored_label):
            ledger_layout.addWidget(w)

        self.protection_label = QLabel("…")
        self.protection_label.setWordWrap(True)
        self.protection_label.setAccessibleName("How your history is protected")
        self.protection_button = QPushButton()
        self.protection_button.setAutoDefault(False)
        self.protection_button.hide()  # until the store says how it is protected
        self.protection_button.clicked.connect(self._on_protection_button_clicked)
        self._passphrase = False
        protection_box = QGroupBox("How your history is protected")
        protection_layout = QVBoxLayout(protection_box)
        protection_layout.addWidget(self.protection_label)
        protection_layout.addWidget(self.protection_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.locations_form = QFormLayout()
        self._location_labels: dict[str, QLabel] = {}
        for what, where in locations:
            label = QLabel(where)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            label.setAccessibleName(what)
            self._location_labels[what] = label
            self.locations_form.addRow(what, label)
        locations_box = QGroupBox("Where your data lives")
        locations_box.setLayout(self.locations_form)

        self.forget_button = QPushButton("Forget Everything…")
        self.forget_button.setAccessibleName("Forget everything")
        self.forget_button.setToolTip(FORGET_TEXT)
        self.forget_button.setAutoDefault(False)
        self.forget_button.clicked.connect(self._on_forget_button_clicked)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.buttons.addButton(self.forget_button, QDialogButtonBox.ButtonRole.DestructiveRole)

        layout = QVBoxLayout(self)
        layout.addWidget(ledger_box, 1)
        layout.addWidget(protection_box)
        layout.addWidget(locations_box)
        layout.addWidget(self.buttons)
        self.set_session_entries(session_entries)

    def set_session_entries(self, entries: Sequence[EgressAttempt]) -> None:
        attempts = list(entries)
        if not attempts:
            self.session_label.setText("0 connections this session.")
            self.ledger_table.hide()
        else:
            blocked = sum(not e.allowed for e in attempts)
            self.session_label.setText(
                f"{len(attempts)} entr{'y' if len(attempts) == 1 else 'ies'} this session, "
                f"{blocked} blocked."
            )
            self.ledger_table.show()
        self.ledger_table.setRowCount(0)
        for e in attempts:
            row = self.ledger_table.rowCount()
            self.ledger_table.insertRow(row)
            cells = (
                e.time.astimezone().strftime("%H:%M:%S"),
                e.action.value,
                e.target or e.module,
                e.mode.label,
                "allowed" if e.allowed else "blocked",
            )
            for column, text in enumerate(cells):
                self.ledger_table.setItem(row, column, QTableWidgetItem(text))

    def set_store_details(
        self, protection: str, stored_count: int, saved: bool, kind: str = ""
    ) -> None:
        """``kind`` is the store's protection ("keychain", "passphrase", "memory")."""
        self.protection_label.setText(protection)
        self._passphrase = kind == "passphrase"
        self.protection_button.setText(
            "Use the System Keychain Instead…" if self._passphrase else "Use a Passphrase…"
        )
        self.protection_button.setVisible(saved and kind in ("keychain", "passphrase"))
        self.stored_label.setText(
            f"{stored_count} entr{'y' if stored_count == 1 else 'ies'} kept in your encrypted "
            "history in all."
            if saved
            else "The egress log is not saved (memory only)."
        )

    def location(self, what: str) -> str:
        return self._location_labels[what].text()

    def ledger_rows(self) -> list[list[str]]:
        t = self.ledger_table
        return [
            [
                item.text() if (item := t.item(r, c)) is not None else ""
                for c in range(t.columnCount())
            ]
            for r in range(t.rowCount())
        ]

    def _on_protection_button_clicked(self) -> None:
        if self._passphrase:
            answer = QMessageBox.question(
                self,
                "Use the system keychain",
                "Encrypt your history with a new random key kept in the system keychain? "
                "Hearth will no longer ask for your passphrase; other programs of your account "
                "that the keychain lets in could read the key.",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.passphrase_requested.emit("")
            return
        dialog = NewPassphraseDialog(self)
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                self.passphrase_requested.emit(dialog.passphrase())
        finally:
            dialog.deleteLater()

    def _on_forget_button_clicked(self) -> None:
        if ask_forget_everything(self):
            self.forget_requested.emit()
            self.accept()
