"""Settings, from asking to saving: the open conversation's system prompt is read on the
store's owner thread, the dialog edits the values, and Save writes them to the encrypted store
(the passcode to its own file). The window applies the new settings at once. The dialog's
History page is served by ``records`` (desktop.records_flow)."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from desktop import app_lock
from desktop.background import BackgroundOp
from desktop.dialogs.settings_dialog import SettingsDialog
from desktop.records_flow import RecordsFlow
from desktop.settings import AppSettings
from engine.catalog import CatalogModel, Sampling
from engine.storage import StoreOwner

LOAD_NOTE = (
    "Settings saved. Context size, threads and GPU layers apply the next time a model loads."
)


class SettingsFlow(QObject):
    applied = Signal(object)  # the AppSettings chosen (applied before they are saved)
    draft_prompt_chosen = Signal(
        str
    )  # the new chat's system prompt (stored with its first message)
    saved = Signal(str)  # what to tell the person
    error_raised = Signal(object)

    def __init__(self, owner: StoreOwner, window: QWidget) -> None:
        super().__init__(window)
        self._owner = owner
        self._window = window
        self.dialog: SettingsDialog | None = None
        self.records = RecordsFlow(owner, window)

    def open(
        self,
        settings: AppSettings,
        conversation_id: int | None,
        entry: CatalogModel | None,
        *,
        draft_prompt: str = "",
    ) -> None:
        """Read the conversation's system prompt (a new chat's is ``draft_prompt``, kept until
        its first message stores it), then show the dialog. One at a time: the History page's
        work reports to the dialog that asked for it."""
        if self.dialog is not None and shiboken6.isValid(self.dialog) and self.dialog.isVisible():
            self.dialog.raise_()
            return
        store = self._owner.store

        def read() -> tuple[str, bool]:
            if conversation_id is None:
                return draft_prompt, store.saved
            return store.get_conversation(conversation_id).system_prompt, store.saved

        BackgroundOp(self, read).success(
            lambda found: self._show(settings, conversation_id, *found, entry)
        ).failure(self.error_raised.emit).run(self._owner)

    def _show(
        self,
        settings: AppSettings,
        conversation_id: int | None,
        system_prompt: str,
        saved: bool,
        entry: CatalogModel | None,
    ) -> None:
        dialog = SettingsDialog(
            settings,
            system_prompt=system_prompt,
            sampling=entry.sampling if entry else Sampling(),
            reasoning=entry.reasoning if entry else None,
            has_passcode=app_lock.has_passcode(),
            history_saved=saved,
            conversation_open=conversation_id is not None,
            parent=self._window,
        )
        self.records.attach(dialog.history_page, conversation_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_dialog_accepted(dialog, settings, conversation_id))
        self.dialog = dialog
        dialog.open()

    def _on_dialog_accepted(
        self, dialog: SettingsDialog, before: AppSettings, conversation_id: int | None
    ) -> None:
        settings, prompt, passcode = (
            dialog.settings(),
            dialog.system_prompt(),
            dialog.passcode_change(),
        )
        note = LOAD_NOTE if settings.load() != before.load() else "Settings saved."
        self.applied.emit(settings)
        if conversation_id is None and prompt is not None:
            self.draft_prompt_chosen.emit(prompt)
        store = self._owner.store

        def save() -> None:
            for key, value in settings.to_store().items():
                if value is None:
                    store.delete_setting(key)
                else:
                    store.set_setting(key, value)
            if prompt is not None and conversation_id is not None:
                store.set_system_prompt(conversation_id, prompt)
            if passcode == "":
                app_lock.clear_passcode()
            elif passcode is not None:
                app_lock.set_passcode(passcode)

        BackgroundOp(self, save).success(lambda _: self.saved.emit(note)).failure(
            self.error_raised.emit
        ).run(self._owner)
