"""The privacy mode and panel: widening the mode asks first, the panel shows this session's
egress ledger and what the store keeps, and Forget everything deletes the key, the database
and the passcode once the reply has stopped."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QWidget

import engine.policy
from desktop import app_lock
from desktop.background import BackgroundOp
from desktop.chat_session import ChatSession
from desktop.conversation_list import ConversationList
from desktop.dialogs.privacy_confirm_dialog import PrivacyConfirmDialog
from desktop.dialogs.privacy_dialog import PrivacyDialog
from desktop.widgets.privacy_toggle import PrivacyToggleWidget
from engine.policy import Mode
from engine.policy.privacy_check import data_locations
from engine.storage import StoreOwner


class PrivacyFlow(QObject):
    forgotten = Signal()  # everything is deleted: the window closes, the app quits
    error_raised = Signal(object)
    protection_changed = Signal(bool)  # True: the history now opens with a passphrase

    def __init__(
        self,
        owner: StoreOwner,
        session: ChatSession,
        conversations: ConversationList,
        toggle: PrivacyToggleWidget,
        window: QWidget,
        *,
        download_hosts: list[str],
    ) -> None:
        super().__init__(window)
        self._owner = owner
        self._session = session
        self._conversations = conversations
        self._toggle = toggle
        self._hosts = download_hosts
        self._window = window
        self.dialog: PrivacyDialog | None = None
        self.forgetting = False
        toggle.mode_change_requested.connect(self._on_toggle_mode_change_requested)
        session.idle.connect(self._on_session_idle)

    def show_mode(self) -> None:
        self._toggle.set_mode(engine.policy.current_mode())

    def _on_toggle_mode_change_requested(self, value: str) -> None:
        """Widening asks first (Cancel by default); narrowing back never does."""
        mode = Mode(value)
        if mode is Mode.DOWNLOADS_ALLOWED:
            dialog = PrivacyConfirmDialog(self._hosts, self._window)
            dialog.setObjectName("privacy_confirm_dialog")
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            dialog.deleteLater()
            if not accepted:
                return
        engine.policy.set_mode(mode)
        self.show_mode()

    def open_dialog(self) -> PrivacyDialog:
        """The privacy panel; what the store holds is filled in once read."""
        self.show_mode()
        store = self._owner.store
        dialog = PrivacyDialog(
            engine.policy.ledger().entries(),
            data_locations(store.path),
            engine.policy.current_mode().label,
            self._window,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.forget_requested.connect(self._on_dialog_forget_requested)
        dialog.passphrase_requested.connect(self._on_dialog_passphrase_requested)
        self.dialog = dialog
        self._show_store_details(dialog)
        dialog.open()
        return dialog

    def _show_store_details(self, dialog: PrivacyDialog) -> None:
        store = self._owner.store

        def read() -> tuple[str, int, bool, str]:
            return (
                store.protection_description,
                store.egress_count(),
                store.saved,
                store.protection,
            )

        def show(details: tuple[str, int, bool, str]) -> None:
            dialog.set_store_details(*details)  # BackgroundOp skips this once dialog is gone

        BackgroundOp(dialog, read).success(show).failure(self.error_raised.emit).run(self._owner)

    def _on_dialog_passphrase_requested(self, passphrase: str) -> None:
        """Re-encrypt on the store's thread: under ``passphrase``, or ("") under a new random
        key in the keychain."""
        store = self._owner.store
        dialog = self.dialog
        on = bool(passphrase)

        def rekey() -> None:
            store.rekey(passphrase=passphrase or None)

        def done(_result: None) -> None:
            self.protection_changed.emit(on)
            if dialog is not None and shiboken6.isValid(dialog):
                self._show_store_details(dialog)

        BackgroundOp(self, rekey).success(done).failure(self.error_raised.emit).run(self._owner)

    def close_dialog(self) -> None:
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.reject()

    def _on_dialog_forget_requested(self) -> None:
        """Confirmed in the dialog: stop the reply, then delete the key, the database and
        the passcode; the window then closes and the app quits (decided: a restart in the
        same process would have to rebuild the store and the worker, and a quit is plainly
        final). The next start is a first run."""
        self.forgetting = True
        self._session.stop()
        if not self._session.busy:
            self._forget_now()  # else once the reply has stopped

    def _on_session_idle(self) -> None:
        if self.forgetting:
            self._forget_now()

    def _forget_now(self) -> None:
        self._conversations.clear()
        self._session.hide()
        engine.policy.ledger().detach()  # the store that kept the ledger is going away
        store = self._owner.store

        def forget() -> None:
            store.forget_everything()
            app_lock.clear_passcode()

        BackgroundOp(self, forget).success(lambda _: self.forgotten.emit()).failure(
            self.error_raised.emit
        ).run(self._owner)
