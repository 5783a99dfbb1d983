"""The sidebar's conversations: listing, search, rename, pin, and delete with an undo offer.

Store calls run on the store's owner thread; the sidebar is fed the results. Opening a
conversation is the chat session's business: this part only asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.background import BackgroundOp
from desktop.widgets.sidebar import SidebarWidget
from engine.storage import ConversationSummary, SearchHit, StoreOwner

T = TypeVar("T")

# How long a deleted conversation can be brought back before it is really deleted.
UNDO_DELETE_MS = 10_000


class ConversationList(QObject):
    open_requested = Signal(int, object)  # conversation id, message id to scroll to (or None)
    new_requested = Signal()
    deleted = Signal(str)  # the title of a conversation hidden for deletion (undo offered)
    undo_ended = Signal()  # no delete can be undone any more
    error_raised = Signal(object)

    def __init__(self, owner: StoreOwner, sidebar: SidebarWidget, parent: QObject) -> None:
        super().__init__(parent)
        self._owner = owner
        self._sidebar = sidebar
        self._summaries: list[ConversationSummary] = []
        self._pending_deletes: dict[int, QTimer] = {}
        self._current: int | None = None
        sidebar.conversation_selected.connect(self._on_sidebar_conversation_selected)
        sidebar.search_hit_selected.connect(self._on_sidebar_search_hit_selected)
        sidebar.new_requested.connect(self.new_requested)
        sidebar.rename_requested.connect(self._on_sidebar_rename_requested)
        sidebar.delete_requested.connect(self._on_sidebar_delete_requested)
        sidebar.pin_requested.connect(self._on_sidebar_pin_requested)
        sidebar.search_changed.connect(self._on_sidebar_search_changed)

    def refresh(self) -> None:
        self._op(self._owner.store.list_conversations, self._show)

    def set_current(self, conversation_id: int | None) -> None:
        """Mark the open conversation (None: a new chat, nothing marked)."""
        self._current = conversation_id
        if not self._sidebar.search_text():
            self._sidebar.select_conversation(conversation_id)

    def pending_deletes(self) -> list[int]:
        return list(self._pending_deletes)

    def can_undo(self) -> bool:
        """Whether a deletion can still be undone (what Ctrl+Z would bring back)."""
        return bool(self._pending_deletes)

    def undo(self) -> None:
        """Bring back every conversation whose deletion is still offered for undo."""
        for timer in self._pending_deletes.values():
            timer.stop()
        self._pending_deletes.clear()
        self.undo_ended.emit()
        self._show(self._summaries)

    def clear(self) -> list[int]:
        """Empty the list (the app locks); returns the conversations still waiting for
        deletion, which the caller deletes for good."""
        pending = self.pending_deletes()
        for timer in self._pending_deletes.values():
            timer.stop()
        self._pending_deletes.clear()
        self.undo_ended.emit()
        self._summaries = []
        self._sidebar.set_conversations([])
        self._sidebar.search_edit.clear()
        return pending

    def _show(self, summaries: list[ConversationSummary]) -> None:
        self._summaries = summaries
        visible = [s for s in summaries if s.id not in self._pending_deletes]
        self._sidebar.set_conversations(visible)
        if self._current is not None and not self._sidebar.search_text():
            self._sidebar.select_conversation(self._current)

    def _on_sidebar_conversation_selected(self, conversation_id: int) -> None:
        self.open_requested.emit(conversation_id, None)

    def _on_sidebar_search_hit_selected(self, conversation_id: int, message_id: int) -> None:
        self.open_requested.emit(conversation_id, message_id if message_id >= 0 else None)

    def _on_sidebar_search_changed(self, query: str) -> None:
        if not query.strip():
            self.refresh()
            return
        store = self._owner.store

        def show(hits: list[SearchHit]) -> None:
            if self._sidebar.search_text() == query:  # still what the person is looking for
                self._sidebar.set_search_results(
                    query, [h for h in hits if h.conversation_id not in self._pending_deletes]
                )

        self._op(lambda: store.search(query), show)

    def _on_sidebar_rename_requested(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            self.refresh()
            return
        store = self._owner.store
        self._op(lambda: store.rename(conversation_id, title), lambda _: self.refresh())

    def _on_sidebar_pin_requested(self, conversation_id: int, pinned: bool) -> None:
        store = self._owner.store
        self._op(lambda: store.set_pinned(conversation_id, pinned), lambda _: self.refresh())

    def _on_sidebar_delete_requested(self, conversation_id: int) -> None:
        """Hidden at once; deleted for good when the undo offer runs out (or at close)."""
        if conversation_id == self._current:
            self.new_requested.emit()
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(UNDO_DELETE_MS)
        timer.timeout.connect(lambda: self._delete_now(conversation_id))
        self._pending_deletes[conversation_id] = timer
        timer.start()
        title = next((s.title for s in self._summaries if s.id == conversation_id), "")
        self.deleted.emit(title)
        self._show(self._summaries)

    def _delete_now(self, conversation_id: int) -> None:
        if self._pending_deletes.pop(conversation_id, None) is None:
            return
        if not self._pending_deletes:
            self.undo_ended.emit()
        store = self._owner.store
        self._op(lambda: store.delete_conversation(conversation_id), lambda _: self.refresh())

    def flush_deletes(self) -> None:
        """At close: the deletions still offered for undo happen now (queued on the store)."""
        store = self._owner.store
        pending = self.clear()

        def delete() -> None:
            for conversation_id in pending:
                store.delete_conversation(conversation_id)

        if pending:
            self._owner.post(delete)

    def _op(self, fn: Callable[[], T], on_success: Callable[[T], object]) -> None:
        BackgroundOp(self, fn).success(on_success).failure(self.error_raised.emit).run(self._owner)
