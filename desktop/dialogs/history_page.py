"""Settings → History: back up the whole history under a passphrase, restore a backup's
conversations, export conversations as files. The page only asks; ``desktop.records_flow``
chooses the files, runs the work on the store's thread and reports back here.

These act at once, not on Save: the page says so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from engine.records import MIN_PASSPHRASE, new_passphrase_problem

NOT_SAVED = (
    "Your history is kept in memory only, so there is nothing to back up and nowhere to "
    "restore into. Set a passphrase (or unlock the system keychain) and restart Hearth to keep "
    "your conversations."
)
NOT_ENCRYPTED = "Exported files are not encrypted: anyone who can read the folder can read them."


def _note(text: str, name: str = "hintLabel") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def _row(button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(button)
    row.addStretch(1)
    return row


class HistoryPage(QWidget):
    backup_requested = Signal()
    restore_requested = Signal()
    export_requested = Signal(bool, str)  # only the open conversation, "md" or "json"

    def __init__(
        self, *, saved: bool, conversation_open: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("history_page")
        self._saved = saved

        self.backup_button = QPushButton("Back Up…")
        self.backup_button.setAccessibleName("Back up your history")
        backup_box = QGroupBox("Back up")
        layout = QVBoxLayout(backup_box)
        layout.addWidget(
            _note(
                "An encrypted copy of your whole history, in one file, under a passphrase you "
                "choose. Without the passphrase the backup cannot be opened.",
                "",
            )
        )
        layout.addLayout(_row(self.backup_button))

        self.restore_button = QPushButton("Restore…")
        self.restore_button.setAccessibleName("Restore from a backup")
        restore_box = QGroupBox("Restore")
        layout = QVBoxLayout(restore_box)
        layout.addWidget(
            _note(
                "Adds the conversations of a backup that are not here yet. You see what it "
                "will add first; nothing here is replaced or changed.",
                "",
            )
        )
        layout.addLayout(_row(self.restore_button))
        self.not_saved_label = _note(NOT_SAVED, "noticeLabel")
        self.not_saved_label.setVisible(not saved)

        self.scope_combo = QComboBox()
        self.scope_combo.setAccessibleName("Conversations to export")
        self.scope_combo.addItem("All conversations", False)
        self.scope_combo.addItem("This conversation", True)
        if not conversation_open:
            self.scope_combo.model().item(1).setEnabled(False)  # type: ignore[attr-defined]
        self.format_combo = QComboBox()
        self.format_combo.setAccessibleName("Export format")
        self.format_combo.addItem("Markdown (.md)", "md")
        self.format_combo.addItem("JSON, every branch (.json)", "json")
        self.export_button = QPushButton("Export…")
        self.export_button.setAccessibleName("Export conversations to a folder")
        export_box = QGroupBox("Export")
        layout = QVBoxLayout(export_box)
        form = QFormLayout()
        form.addRow("Conversations", self.scope_combo)
        form.addRow("Format", self.format_combo)
        layout.addLayout(form)
        layout.addWidget(_note(NOT_ENCRYPTED, "noticeLabel"))
        layout.addLayout(_row(self.export_button))

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: how long a backup takes is not known
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(theme.em(self, 0.5))
        # The bar and the outcome keep their room when empty: the page (the dialog's tallest)
        # would otherwise squeeze the fields above to make space for them.
        keep = self.progress.sizePolicy()
        keep.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(keep)
        self.progress.hide()
        self.status_label = _note("", "")
        self.status_label.setAccessibleName("History status")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)

        page = QVBoxLayout(self)
        page.addWidget(_note("These act at once: Save and Cancel below do not apply to them."))
        for widget in (
            self.not_saved_label,
            backup_box,
            restore_box,
            export_box,
            self.progress,
            self.status_label,
        ):
            page.addWidget(widget)
        page.addStretch(1)

        self.backup_button.clicked.connect(self.backup_requested)
        self.restore_button.clicked.connect(self.restore_requested)
        self.export_button.clicked.connect(
            lambda: self.export_requested.emit(
                bool(self.scope_combo.currentData()), str(self.format_combo.currentData())
            )
        )
        self._enable(True)

    @property
    def busy(self) -> bool:
        return self.progress.isVisible()

    def set_busy(self, text: str) -> None:
        """Work is running: say what, and take no second request until it ends."""
        self._enable(False)
        self.progress.show()
        self._say(text)

    def set_done(self, text: str) -> None:
        """The work ended (or was called off): ``text`` says how."""
        self.progress.hide()
        self._enable(True)
        self._say(text)

    def _say(self, text: str) -> None:
        self.status_label.setText(text)

    def _enable(self, on: bool) -> None:
        self.backup_button.setEnabled(on and self._saved)
        self.restore_button.setEnabled(on and self._saved)
        self.export_button.setEnabled(on)


class BackupPassphraseDialog(QDialog):
    """The passphrase of a backup: typed twice for a new one (``new``), once to open one."""

    def __init__(self, *, new: bool, file_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._new = new
        self.setObjectName("backup_passphrase_dialog")
        self.setWindowTitle("Passphrase of the backup")
        explain = QLabel(
            f"Choose a passphrase for {file_name} (at least {MIN_PASSPHRASE} characters). "
            "Without it the backup cannot be opened: nobody can recover it, Hearth included."
            if new
            else f"The passphrase {file_name} was made with."
        )
        explain.setWordWrap(True)
        self.first_edit = QLineEdit()
        self.second_edit = QLineEdit()
        for edit, name in ((self.first_edit, "Passphrase"), (self.second_edit, "Once more")):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
            edit.textChanged.connect(self._check)
        form = QFormLayout()
        form.addRow("Passphrase", self.first_edit)
        if new:
            form.addRow("Once more", self.second_edit)
        else:
            self.second_edit.hide()
        self.problem_label = _note("")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(
            "Back Up" if new else "Open Backup", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(theme.em(self, 28))
        self._check()
        self.first_edit.setFocus()

    def passphrase(self) -> str:
        return self.first_edit.text()

    def _check(self) -> None:
        first = self.first_edit.text()
        again = self.second_edit.text()
        problem = ""
        if self._new:  # the rule is the engine's; an empty repeat is not a mistake yet
            problem = new_passphrase_problem(first, again or None) or (
                "" if again else "Type it once more."
            )
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self.ok_button.setEnabled(bool(first) and not problem)
