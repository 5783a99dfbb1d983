"""Settings → History, from asking to done: Back Up (a file name, a passphrase typed twice),
Restore (a backup, its passphrase, what it would add, then adding on consent) and Export (a
folder, a word that the files are not encrypted, then the files). The file dialogs are Qt's
own (desktop.dialogs.file_dialogs); every store call runs on the store's owner thread
(engine.records), never on this one.

The work is owned by this flow, which lives as long as the window: a restore that finishes
after the Settings dialog closed still refreshes the conversation list (``restored``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.background import BackgroundOp
from desktop.dialogs.file_dialogs import choose_new_path, choose_paths
from desktop.dialogs.history_page import BackupPassphraseDialog, HistoryPage
from desktop.errors import show_error
from engine import records
from engine.records import Exported, ExportFormat, MergePlan
from engine.storage import StoreOwner

T = TypeVar("T")
SHOWN_TITLES = 20  # a restore lists at most this many titles before "and N more"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class RecordsFlow(QObject):
    restored = Signal()  # conversations were added: the list must be read again

    def __init__(self, owner: StoreOwner, window: QWidget) -> None:
        super().__init__(window)
        self._owner = owner
        self._window = window
        self._page: HistoryPage | None = None
        self._conversation_id: int | None = None
        # What is on screen now, for tests to answer. Each is a child of the History page, so
        # it goes with the Settings dialog (which the lock closes).
        self.file_dialog: QFileDialog | None = None
        self.passphrase_dialog: BackupPassphraseDialog | None = None
        self.question_box: QMessageBox | None = None

    def attach(self, page: HistoryPage, conversation_id: int | None) -> None:
        """Serve the History page of a Settings dialog just made (``conversation_id``: the
        open conversation, for exporting only it)."""
        self._page, self._conversation_id = page, conversation_id
        page.backup_requested.connect(self._on_page_backup_requested)
        page.restore_requested.connect(self._on_page_restore_requested)
        page.export_requested.connect(self._on_page_export_requested)

    # -- back up ---------------------------------------------------------------------------

    def _on_page_backup_requested(self) -> None:
        name = f"hearth-backup-{datetime.date.today().isoformat()}.db"
        self.file_dialog = choose_new_path(
            self._parent(), "Back up your history to", self._ask_backup_passphrase, name=name
        )

    def _ask_backup_passphrase(self, target: Path) -> None:
        dialog = self._passphrase(new=True, file_name=target.name)
        dialog.accepted.connect(lambda: self._back_up(target, dialog.passphrase()))

    def _back_up(self, target: Path, passphrase: str) -> None:
        store = self._owner.store

        def done(count: int) -> None:
            self._done(
                f"Backed up {_plural(count, 'conversation')} to {target}, encrypted with your "
                "passphrase. Keep the passphrase: without it the backup cannot be opened."
            )

        self._run("Backing up…", lambda: records.backup(store, target, passphrase), done)

    # -- restore ---------------------------------------------------------------------------

    def _on_page_restore_requested(self) -> None:
        self.file_dialog = choose_paths(
            self._parent(), "Restore from a backup", self._ask_restore_passphrase, single=True
        )

    def _ask_restore_passphrase(self, paths: list[Path]) -> None:
        source = paths[0]
        dialog = self._passphrase(new=False, file_name=source.name)
        dialog.accepted.connect(lambda: self._plan(source, dialog.passphrase()))

    def _plan(self, source: Path, passphrase: str) -> None:
        store = self._owner.store
        self._run(
            "Reading the backup…",
            lambda: records.restore_plan(store, source, passphrase),
            lambda plan: self._offer(source, passphrase, plan),
        )

    def _offer(self, source: Path, passphrase: str, plan: MergePlan) -> None:
        if self._page is None or not shiboken6.isValid(self._page):
            return  # Settings was closed (or the app locked) meanwhile: no question out of nowhere
        held = len(plan.new) + plan.already_here
        if not plan.new:
            self._done(
                f"The backup holds {_plural(held, 'conversation')}, all already here: "
                "nothing was added."
            )
            return
        self._done("")
        titles = [f"• {title}" for _, title in plan.new[:SHOWN_TITLES]]
        if len(plan.new) > SHOWN_TITLES:
            titles.append(f"… and {len(plan.new) - SHOWN_TITLES} more")
        # The titles are in the question itself, not behind "Show Details": they are what a
        # person checks before saying yes.
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore from a backup",
            f"Add {_plural(len(plan.new), 'conversation')} from {source.name}?\n\n"
            + "\n".join(titles),
            QMessageBox.StandardButton.Cancel,
            self._parent(),
        )
        skipped = f"Already here, and left as they are: {plan.already_here}. "
        box.setInformativeText(
            (skipped if plan.already_here else "")
            + "Nothing in your history is replaced or changed."
        )
        box.setObjectName("restore_question")
        add = box.addButton(
            f"Add {_plural(len(plan.new), 'Conversation')}", QMessageBox.ButtonRole.AcceptRole
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if box.clickedButton() is add:
                self._restore(source, passphrase)
            else:
                self._done("Nothing was added.")

        box.finished.connect(answered)
        self.question_box = box
        box.open()

    def _restore(self, source: Path, passphrase: str) -> None:
        store = self._owner.store

        def done(plan: MergePlan) -> None:
            self._done(f"Added {_plural(len(plan.new), 'conversation')} from {source.name}.")
            self.restored.emit()

        self._run(
            "Adding the conversations…", lambda: records.restore(store, source, passphrase), done
        )

    # -- export ----------------------------------------------------------------------------

    def _on_page_export_requested(self, only_current: bool, fmt: str) -> None:
        ids = None
        if only_current:
            if self._conversation_id is None:
                return  # the choice is disabled without an open conversation
            ids = [self._conversation_id]
        self.file_dialog = choose_paths(
            self._parent(),
            "Export to a folder",
            lambda paths: self._confirm_export(paths[0], fmt, ids),
            folder=True,
        )

    def _confirm_export(self, folder: Path, fmt: str, ids: list[int] | None) -> None:
        what = "this conversation" if ids else "all your conversations"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Export",
            f"Write {what} into {folder}?",
            QMessageBox.StandardButton.Cancel,
            self._parent(),
        )
        box.setInformativeText(
            "The exported files are NOT encrypted: anyone who can read that folder can read "
            "them. Files already there are left as they are."
        )
        box.setObjectName("export_question")
        write = box.addButton("Export", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _r: self._export(folder, fmt, ids) if box.clickedButton() is write else None
        )
        self.question_box = box
        box.open()

    def _export(self, folder: Path, fmt: str, ids: list[int] | None) -> None:
        store = self._owner.store
        kind: ExportFormat = "md" if fmt == "md" else "json"
        self._run(
            "Exporting…",
            lambda: records.export_conversations(store, folder, kind, ids),
            self._exported,
        )

    def _exported(self, done: Exported) -> None:
        parts = [f"Wrote {_plural(done.written, 'file')} to {done.folder}. They are not encrypted."]
        if done.existing:
            parts.append(
                f"{_plural(len(done.existing), 'file')} already there "
                f"{'was' if len(done.existing) == 1 else 'were'} left as "
                f"{'it was' if len(done.existing) == 1 else 'they were'}."
            )
        if done.damaged:
            parts.append(
                f"{_plural(len(done.damaged), 'conversation')} on a damaged part of the history "
                "could not be read; Recover saves what can be read of them."
            )
        self._done(" ".join(parts))

    # -- plumbing --------------------------------------------------------------------------

    def _parent(self) -> QWidget:
        page = self._page
        return page if page is not None and shiboken6.isValid(page) else self._window

    def _passphrase(self, *, new: bool, file_name: str) -> BackupPassphraseDialog:
        dialog = BackupPassphraseDialog(new=new, file_name=file_name, parent=self._parent())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.passphrase_dialog = dialog
        dialog.open()
        return dialog

    def _run(self, doing: str, fn: Callable[[], T], on_success: Callable[[T], Any]) -> None:
        page = self._page
        if page is not None and shiboken6.isValid(page):
            page.set_busy(doing)
        BackgroundOp(self, fn).success(on_success).failure(self._failed).run(self._owner)

    def _done(self, text: str) -> None:
        page = self._page
        if page is not None and shiboken6.isValid(page):
            page.set_done(text)

    def _failed(self, exc: Exception) -> None:
        self._done("")  # the error says what happened, and what was left as it was
        show_error(self._parent(), exc)
