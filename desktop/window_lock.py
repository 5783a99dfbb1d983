"""The app lock: Ctrl+L or idle time hides everything at once, stops the reply, wipes the
model's memory of the last turns and closes the store (its key leaves memory); unlocking
checks the passcode, if one is set, and reopens it.

The steps that touch the store run on its owner thread, after the reply has stopped.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop import app_lock
from desktop.background import BackgroundOp
from desktop.chat_session import ChatSession
from desktop.conversation_list import ConversationList
from desktop.widgets.lock_screen import LockScreenWidget
from engine.storage import InvalidPassphrase, StoreOwner, WrongKey

# The idle-lock setting counts in minutes.
IDLE_UNIT_MS = 60_000
# Input that counts as the person being there (resets the idle-lock timer).
_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class _ActivityFilter(QObject):
    """Application-wide event filter: reports input, lets every event through."""

    input_seen = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self.input_seen.emit()
        return False


class LockController(QObject):
    locked = Signal()  # the lock screen must show now (the store closes once the reply ends)
    store_locked = Signal()  # the store is closed and its key dropped
    unlocked = Signal()
    error_raised = Signal(object, str)  # exception, title

    def __init__(
        self,
        owner: StoreOwner,
        session: ChatSession,
        conversations: ConversationList,
        screen: LockScreenWidget,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._owner = owner
        self._session = session
        self._conversations = conversations
        self._screen = screen
        self._locked = False
        self._waiting_for_reply = False
        self._idle_minutes = 0
        self._idle_timer = QTimer(self)
        self._idle_timer.setSingleShot(True)
        self._idle_timer.timeout.connect(self.lock)
        self._activity = _ActivityFilter(self)
        self._activity.input_seen.connect(self._on_activity_input_seen)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._activity)
        # Read once: the window never changes how the history is protected.
        self._passphrase = owner.call(lambda: owner.store.protection) == "passphrase"
        session.idle.connect(self._on_session_idle)
        screen.unlock_requested.connect(self._on_lock_screen_unlock_requested)

    def set_passphrase_protected(self, on: bool) -> None:
        """The history now opens with a passphrase (on) or the keychain's key."""
        self._passphrase = on

    @property
    def is_locked(self) -> bool:
        return self._locked

    @property
    def idle_timer(self) -> QTimer:
        return self._idle_timer

    def set_idle_minutes(self, minutes: int) -> None:
        self._idle_minutes = minutes
        self._restart_idle_timer()

    def stop_watching(self) -> None:
        """At close: no more idle lock."""
        self._idle_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._activity)

    def lock(self) -> None:
        if self._locked:
            return
        self._locked = True
        self._idle_timer.stop()
        self._session.stop()
        self._session.forget_context()  # the model's KV cache holds the last turns
        self._screen.reset(needs_passcode=app_lock.has_passcode(), passphrase=self._passphrase)
        self.locked.emit()
        if self._session.busy:
            self._waiting_for_reply = True  # the store closes once the reply has stopped
        else:
            self._lock_store()

    def _on_session_idle(self) -> None:
        if self._waiting_for_reply:
            self._waiting_for_reply = False
            self._lock_store()

    def _lock_store(self) -> None:
        self._session.hide()
        pending = self._conversations.clear()
        store = self._owner.store

        def close() -> None:
            for conversation_id in pending:  # their undo offer ends with the lock
                store.delete_conversation(conversation_id)
            store.lock()

        def closed(_result: None) -> None:
            self._screen.set_ready(True)
            self.store_locked.emit()

        BackgroundOp(self, close).success(closed).failure(
            lambda exc: self.error_raised.emit(exc, "Hearth could not lock")
        ).run(self._owner)

    def _on_lock_screen_unlock_requested(self, passcode: str) -> None:
        store = self._owner.store

        def unlock() -> bool:
            if self._passphrase:  # the passphrase is the key: it is checked by opening
                try:
                    store.unlock(passphrase=passcode)
                except (WrongKey, InvalidPassphrase):
                    return False
                return True
            if app_lock.has_passcode() and not app_lock.check_passcode(passcode):
                return False
            store.unlock()
            return True

        def done(ok: bool) -> None:
            if not ok:
                secret = "passphrase" if self._passphrase else "passcode"
                self._screen.show_problem(f"Wrong {secret}. Try again.")
                return
            self._locked = False
            self.unlocked.emit()
            self._conversations.refresh()
            self._session.reload()
            self._restart_idle_timer()

        def failed(exc: Exception) -> None:
            self._screen.show_problem("Your history could not be reopened.")
            self.error_raised.emit(exc, "Hearth could not unlock")

        BackgroundOp(self, unlock).success(done).failure(failed).run(self._owner)

    def _restart_idle_timer(self) -> None:
        if self._idle_minutes > 0 and not self._locked:
            self._idle_timer.start(self._idle_minutes * IDLE_UNIT_MS)
        else:
            self._idle_timer.stop()

    def _on_activity_input_seen(self) -> None:
        if self._idle_timer.isActive():
            self._idle_timer.start()  # restart the countdown
