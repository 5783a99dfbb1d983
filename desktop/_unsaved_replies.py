"""Replies shown in full that the disk could not hold, for ``ChatSession``.

Each is kept here, on the GUI thread, with the notice its reply shows, until it is stored:
when the person chooses Save Again, and before every next turn (a question then follows the
whole reply, and space freed meanwhile is used without asking). Saving goes through the store
owner's lane like every other store call, so it never waits for a reply being written. A
conversation opened again shows the kept text, not the part its stored row holds.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from desktop.background import BackgroundOp
from desktop.widgets.transcript_view import TranscriptView
from desktop.workers.inference_worker import UNSAVED_NEXT
from engine.chat import UnsavedReply
from engine.errors import HearthError
from engine.storage import Message, RecordNotFound, ReplyNotStreaming, StoreOwner

log = logging.getLogger(__name__)

GONE = "This reply can no longer be saved: it was changed meanwhile. Copy keeps it."


class UnsavedReplies(QObject):
    """The replies still to be stored, by reply id."""

    saved = Signal(object)  # the stored Message, once Save Again (or the next turn) stored it

    def __init__(
        self, owner: StoreOwner, transcript: TranscriptView, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._owner = owner
        self._transcript = transcript
        self._kept: dict[int, tuple[UnsavedReply, str]] = {}  # reply id: reply, its notice
        self._saving: set[int] = set()  # asked of the store, not answered yet

    def __contains__(self, reply_id: object) -> bool:
        return reply_id in self._kept

    def keep(self, unsaved: UnsavedReply, notice: str) -> None:
        """Hold ``unsaved`` until it is stored; its reply shows ``notice``."""
        self._kept[unsaved.reply_id] = (unsaved, notice)
        self._show(unsaved.reply_id)

    def as_shown(self, path: list[Message]) -> list[Message]:
        """``path`` with each kept reply as it was shown, in place of its stored row."""
        return [
            replace(m, content=u.content, thinking=u.thinking, status=u.status)
            if (u := self._kept.get(m.id, (None, ""))[0]) is not None
            else m
            for m in path
        ]

    def show_notices(self) -> None:
        """The transcript was rebuilt: the kept replies it shows get their notice again."""
        for reply_id in self._kept:
            self._show(reply_id)

    def save(self, reply_id: int) -> None:
        """Store the kept reply ``reply_id`` (nothing if none is kept, or it is being stored)."""
        entry = self._kept.get(reply_id)
        if entry is None or reply_id in self._saving:
            return
        unsaved, store = entry[0], self._owner.store
        self._saving.add(reply_id)
        BackgroundOp(self, lambda: unsaved.save(store)).success(
            lambda message: self._on_saved(reply_id, message)
        ).failure(lambda exc: self._on_failed(reply_id, exc)).run(self._owner)

    def save_all(self) -> None:
        """Before a turn: try to store every kept reply (queued ahead of the turn's saves)."""
        for reply_id in list(self._kept):
            self.save(reply_id)

    def _on_saved(self, reply_id: int, message: Message) -> None:
        self._saving.discard(reply_id)
        self._kept.pop(reply_id, None)
        if (widget := self._transcript.message_widget(reply_id)) is not None:
            widget.saved_again()
            widget.set_stats(message.stats)
        self.saved.emit(message)

    def _on_failed(self, reply_id: int, exc: Exception) -> None:
        self._saving.discard(reply_id)
        if reply_id not in self._kept:
            return
        if isinstance(exc, (RecordNotFound, ReplyNotStreaming)):
            # Deleted with its conversation, or finished otherwise: it can never be stored.
            del self._kept[reply_id]
            if (widget := self._transcript.message_widget(reply_id)) is not None:
                widget.show_unsaved(GONE)
            return
        if isinstance(exc, HearthError):
            notice = f"Still not saved. {exc.user_message} {UNSAVED_NEXT}"
        else:  # a bug: the reply stays kept for another try
            log.error("saving a reply again failed unexpectedly: %s", type(exc).__name__)
            notice = f"Still not saved. {UNSAVED_NEXT}"
        self._kept[reply_id] = (self._kept[reply_id][0], notice)
        self._show(reply_id)

    def _show(self, reply_id: int) -> None:
        if (widget := self._transcript.message_widget(reply_id)) is not None:
            widget.show_unsaved(self._kept[reply_id][1])
