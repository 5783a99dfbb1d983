"""The chat's turn state, in one place: the open conversation, the model's readiness, the turn
streaming now and those waiting, and what send, regenerate, edit, continue and stop do.

The window and its parts ask the session; only the session talks to the model thread. A turn
is one immutable ``TurnRequest`` whose cancel control is made here, so Stop always stops the
turn it was pressed for. The view is addressed by message id: a placeholder id while a turn
has none yet, the stored id once it has; a view that is gone (another conversation opened, the
app locked) is skipped, never written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from desktop._turn_view import (
    Branches,
    ReplyStream,
    Shown,
    path_and_branches,
    placeholder_ids,
    shown,
    tokens_used,
)
from desktop._unsaved_replies import UnsavedReplies
from desktop.background import BackgroundOp
from desktop.settings import LoadSettings
from desktop.widgets.transcript_view import TranscriptView
from desktop.workers.documents import SharedEmbedder
from desktop.workers.inference_worker import (
    InferenceWorker,
    TitleRequest,
    TurnKind,
    TurnOutcome,
    TurnRequest,
)
from engine.errors import HearthError
from engine.inference import GenerationOptions, Notice
from engine.storage import Message, StoreOwner
from engine.storage.types import Source

T = TypeVar("T")

# Repaint streaming text at most this often (about 30 times a second).
FLUSH_INTERVAL_MS = 33


class ChatSession(QObject):
    """Owns the turns of the chat shown in ``transcript``. Lives on the GUI thread."""

    busy_changed = Signal(bool)  # a turn is running or waiting
    idle = Signal()  # no turn runs and none waits (lock and forget wait for this)
    conversation_changed = Signal(object)  # the open conversation's id, or None (a new chat)
    conversations_changed = Signal()  # something the conversation list shows may have changed
    model_loading = Signal()
    model_loaded = Signal(str, int)  # display name, context size in tokens
    model_failed = Signal(object)  # HearthError
    context_used = Signal(int, int)  # tokens the conversation and the draft take, context size
    turn_finished = Signal(object)  # TurnOutcome of every turn, once its view is updated
    transcript_shown = Signal(bool)  # True: messages are shown; False: the empty new chat
    status_message = Signal(str, int)  # text, milliseconds
    error_raised = Signal(object)  # an exception from a store call, for the error presenter
    returned = Signal(str, object)  # a question never sent, and its files: to the composer
    library_changed = Signal(object)  # the library the open chat answers from (id), or None
    _run_requested = Signal(object)  # TurnRequest, to the worker (queued)
    _load_requested = Signal(str, object)  # spec, LoadSettings
    _forget_requested = Signal()
    _count_requested = Signal(str)
    _title_requested = Signal(object)  # TitleRequest

    def __init__(
        self,
        owner: StoreOwner,
        transcript: TranscriptView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._owner = owner
        self._transcript = transcript
        self._conversation_id: int | None = None
        self._view = 0  # counts views opened, so late results for an older one are dropped
        self._ready = False
        self._n_ctx = 0
        self._stream: ReplyStream | None = None
        self._waiting: deque[TurnRequest] = deque()
        # Each waiting turn's (question id, reply id, view) in the transcript.
        self._keys: dict[int, tuple[int | None, int, int]] = {}
        self._busy_shown = False
        self._used = 0  # tokens the open conversation's last turn took (prompt and reply)
        self._draft = ("", 0)  # the composer's text and its tokens
        # Questions sent while the open conversation is still being read: asked once shown
        # (showing it would otherwise replace their messages in the view).
        self._after_load: list[tuple[str, tuple[Path, ...]]] | None = None
        self._closing = False
        self.options = GenerationOptions()  # sampling for the next turns (from the settings)
        self.load_settings = LoadSettings()
        # The system prompt of the new chat, before its first message stores it.
        self.draft_system_prompt = ""
        self.default_system_prompt = ""
        # The library the open conversation answers from; for a new chat, kept here until its
        # first question makes the conversation.
        self._library_id: int | None = None
        self.embedder = SharedEmbedder()  # shared with the Library's indexing

        self._thread = QThread(self)
        self._thread.setObjectName("inference")
        self._worker = InferenceWorker(owner.routed(), self.embedder)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._run_requested.connect(self._worker.run_turn)
        self._load_requested.connect(self._worker.load)
        self._forget_requested.connect(self._worker.forget_context)
        self._count_requested.connect(self._worker.count_tokens)
        self._title_requested.connect(self._worker.write_title)
        self._worker.title_written.connect(lambda _id: self.conversations_changed.emit())
        self._title: TitleRequest | None = None  # the title being written, if any
        self._worker.tokens_counted.connect(self._on_worker_tokens_counted)
        self._worker.model_loaded.connect(self._on_worker_model_loaded)
        self._worker.model_failed.connect(self._on_worker_model_failed)
        self._worker.turn_started.connect(self._on_worker_turn_started)
        self._worker.text_received.connect(self._on_worker_text_received)
        self._worker.notice_received.connect(self._on_worker_notice_received)
        self._worker.turn_ended.connect(self._on_worker_turn_ended)
        self._worker.activity_changed.connect(self._on_worker_activity_changed)
        self._worker.attachment_failed.connect(self._on_worker_attachment_failed)
        self._worker.sources_found.connect(self._on_worker_sources_found)
        self._thread.start()

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)

        transcript.regenerate_requested.connect(self.regenerate)
        transcript.edit_requested.connect(self.edit)
        transcript.continue_requested.connect(self.continue_reply)
        transcript.branch_requested.connect(self.switch_branch)
        transcript.answer_now_requested.connect(self.answer_now)
        # Replies shown in full that the disk could not hold, until they are stored.
        self._unsaved = UnsavedReplies(owner, transcript, self)
        self._unsaved.saved.connect(self._on_unsaved_saved)
        transcript.save_again_requested.connect(self._unsaved.save)

    # -- state ----------------------------------------------------------------------------------

    @property
    def worker(self) -> InferenceWorker:
        return self._worker

    @property
    def conversation_id(self) -> int | None:
        return self._conversation_id

    @property
    def busy(self) -> bool:
        """A turn is running, or waiting for the model or for the turn before it."""
        return self._stream is not None or bool(self._waiting)

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def library_id(self) -> int | None:
        """The library the open chat answers from (None: only attached files, if any)."""
        return self._library_id

    def choose_library(self, library_id: int | None) -> None:
        """Answer from ``library_id`` (None: no library); stored with the open conversation,
        or kept for a new chat until its first question stores it."""
        if library_id == self._library_id:
            return
        self._set_library(library_id)
        conversation_id = self._conversation_id
        if conversation_id is not None:
            store = self._owner.store
            self._store_op(
                lambda: store.set_conversation_library(conversation_id, library_id),
                lambda _none: None,
            )

    def _set_library(self, library_id: int | None) -> None:
        self._library_id = library_id
        self.library_changed.emit(library_id)

    # -- the model ------------------------------------------------------------------------------

    def load(self, spec: str) -> None:
        """Load ``spec`` (a catalog id or a path) on the model thread; turns asked for
        meanwhile wait for it."""
        self._ready = False
        self.model_loading.emit()
        self._load_requested.emit(spec, self.load_settings)

    def _on_worker_model_loaded(self, name: str, n_ctx: int) -> None:
        self._ready = True
        self._n_ctx = n_ctx
        self.model_loaded.emit(name, n_ctx)
        self._emit_context()
        self._dispatch()

    def _on_worker_model_failed(self, exc: HearthError) -> None:
        self.model_failed.emit(exc)
        if self._stream is None:  # questions waiting for this model get its error
            while self._waiting:
                self._fail_waiting(self._waiting.popleft(), exc.user_message)
            self._became_idle()

    # -- the context gauge ---------------------------------------------------------------------

    def count_draft(self, text: str) -> None:
        """The composer's text changed: its tokens are counted on the model thread."""
        if not text.strip():
            self._draft = ("", 0)
            self._emit_context()
        elif self._ready:
            self._count_requested.emit(text)

    def _on_worker_tokens_counted(self, text: str, count: int) -> None:
        self._draft = (text, count)
        self._emit_context()

    def _set_used(self, used: int) -> None:
        self._used = used
        self._emit_context()

    def _emit_context(self) -> None:
        if self._n_ctx:
            self.context_used.emit(self._used + self._draft[1], self._n_ctx)

    # -- opening conversations ------------------------------------------------------------------

    def new_conversation(self) -> None:
        """An empty chat; it is stored when its first question is sent. A running turn is
        stopped (kept as 'interrupted')."""
        self.stop()
        self._view += 1
        self._drop_after_load()
        self.draft_system_prompt = self.default_system_prompt
        self._set_conversation(None)
        self._set_library(None)
        self._set_used(0)
        self._transcript.clear()
        self.transcript_shown.emit(False)

    def open_conversation(self, conversation_id: int, *, scroll_to: int | None = None) -> None:
        """Show a stored conversation's active branch (or, with ``scroll_to``, the branch that
        holds that message, scrolled to it). A running turn is stopped first."""
        if conversation_id == self._conversation_id and scroll_to is None:
            return
        self.stop()
        self._view += 1
        view = self._view
        self._set_conversation(conversation_id)
        self._drop_after_load()
        self._after_load = []
        store = self._owner.store

        def load() -> tuple[Shown, int | None]:
            if scroll_to is not None:
                target = store.get_message(scroll_to)
                if target.id not in {m.id for m in store.active_path(conversation_id)}:
                    store.switch_branch(target.id)  # a hit on another branch: show that one
            library = store.conversation_library(conversation_id)
            return shown(store, conversation_id), None if library is None else library.id

        def show(result: tuple[Shown, int | None]) -> None:
            if self._view != view:
                return  # the person moved on meanwhile
            (path, branches, sources), library_id = result
            self._set_library(library_id)
            path = self._unsaved.as_shown(path)
            self._transcript.set_messages(path, branches, focus=scroll_to, sources=sources)
            self._unsaved.show_notices()
            self.transcript_shown.emit(True)
            self._set_used(tokens_used(path))
            if scroll_to is not None and (w := self._transcript.message_widget(scroll_to)):
                self._transcript.ensureWidgetVisible(w)
                w.mark()
            waiting, self._after_load = self._after_load or [], None
            for text, files in waiting:
                self.send(text, files)

        def failed(exc: Exception) -> None:
            if self._view == view:
                waiting, self._after_load = self._after_load or [], None
                for text, files in waiting:
                    self.returned.emit(text, files)
            self.error_raised.emit(exc)

        BackgroundOp(self, load).success(show).failure(failed).run(self._owner)

    def hide(self) -> None:
        """Clear the view but remember the open conversation (the app locks)."""
        self._view += 1
        self._drop_after_load()
        self._transcript.clear()

    def reload(self) -> None:
        """Show the open conversation again (after unlocking)."""
        conversation_id, self._conversation_id = self._conversation_id, None
        if conversation_id is None:
            self.new_conversation()
        else:
            self.open_conversation(conversation_id)

    def switch_branch(self, message_id: int, index: int) -> None:
        if self.busy or message_id < 0 or self._conversation_id is None:
            return
        store, view, conversation_id = self._owner.store, self._view, self._conversation_id

        def switch() -> Shown:
            siblings = store.siblings(message_id)
            store.switch_branch(siblings[max(0, min(index, len(siblings) - 1))].id)
            return shown(store, conversation_id)

        def show(result: Shown) -> None:
            if self._view == view:
                path, branches, sources = result
                self._transcript.set_messages(
                    self._unsaved.as_shown(path), branches, sources=sources
                )
                self._unsaved.show_notices()

        self._store_op(switch, show)

    def _drop_after_load(self) -> None:
        waiting, self._after_load = self._after_load or [], None
        for text, files in waiting:
            self.returned.emit(text, files)

    def _set_conversation(self, conversation_id: int | None) -> None:
        if conversation_id != self._conversation_id:
            self._conversation_id = conversation_id
            self.conversation_changed.emit(conversation_id)

    # -- turns ----------------------------------------------------------------------------------

    def send(self, text: str, attachments: Sequence[Path] = ()) -> None:
        """Ask ``text`` in the open conversation (a new one if none is open), with the files
        in ``attachments`` (read on the model thread before the question is sent)."""
        text = text.strip()
        if not text:
            return
        files = tuple(attachments)
        if self._after_load is not None:
            self._after_load.append((text, files))
            return
        self._draft = ("", 0)  # the composer is empty again: it counts no more
        request = self._request(TurnKind.SEND, text=text, attachments=files)
        question_key, reply_key = placeholder_ids(request)
        self._transcript.add_message("user", text, message_id=question_key)
        self._transcript.add_message("assistant", message_id=reply_key, streaming=True)
        self._enqueue(request, question_key, reply_key)

    def regenerate(self, reply_id: int) -> None:
        """A new answer beside ``reply_id``; the old one stays as a version."""
        if self.busy or not self._ready or reply_id < 0:
            return
        request = self._request(TurnKind.REGENERATE, message_id=reply_id)
        _, reply_key = placeholder_ids(request)
        self._transcript.remove_from(reply_id)
        self._transcript.add_message("assistant", message_id=reply_key, streaming=True)
        self._enqueue(request, None, reply_key)

    def edit(self, message_id: int, text: str) -> None:
        """Ask the edited question beside ``message_id``; the original stays as a version."""
        text = text.strip()
        if self.busy or not self._ready or message_id < 0 or not text:
            return
        request = self._request(TurnKind.EDIT, text=text, message_id=message_id)
        question_key, reply_key = placeholder_ids(request)
        self._transcript.remove_from(message_id)
        self._transcript.add_message("user", text, message_id=question_key)
        self._transcript.add_message("assistant", message_id=reply_key, streaming=True)
        self._enqueue(request, question_key, reply_key)

    def continue_reply(self, reply_id: int) -> None:
        """Continue a stopped reply where it ended; its text keeps growing in place."""
        widget = self._transcript.message_widget(reply_id)
        if (
            self.busy
            or not self._ready
            or widget is None
            or widget is not self._transcript.last_message()
        ):
            return
        widget.set_status("streaming")
        self._enqueue(self._request(TurnKind.CONTINUE, message_id=reply_id), None, reply_id)

    def stop(self) -> None:
        """Esc / Stop: end the running turn (what was written is kept) and drop the waiting
        ones. A waiting question goes back to ``returned`` so no typed text is lost."""
        if self._stream is not None:
            self._stream.request.control.cancel()
        if self._title is not None:
            self._title.control.cancel()
            self._title = None
        while self._waiting:
            self._fail_waiting(self._waiting.popleft(), "Stopped before it started.")
        if self._stream is None:
            self._became_idle()

    def answer_now(self) -> None:
        if self._stream is not None:
            self._stream.request.control.answer_now()

    def forget_context(self) -> None:
        """Wipe the model's memory of the last turns (queued behind a stopping turn)."""
        self._forget_requested.emit()

    def shutdown(self) -> None:
        """Stop the turn, let the model thread finish its loop, free the model there."""
        if self._closing:
            return
        self._closing = True
        self.stop()
        self._flush_timer.stop()
        self._thread.quit()
        self._thread.wait()
        self._worker.unload()
        self.embedder.close()

    def _request(
        self,
        kind: TurnKind,
        *,
        text: str = "",
        message_id: int | None = None,
        attachments: tuple[Path, ...] = (),
    ) -> TurnRequest:
        return TurnRequest(
            kind,
            self._conversation_id,
            self.options,
            text=text,
            message_id=message_id,
            system_prompt=self.draft_system_prompt if self._conversation_id is None else "",
            attachments=attachments,
            library_id=self._library_id,
        )

    def _enqueue(self, request: TurnRequest, question_key: int | None, reply_key: int) -> None:
        self._waiting.append(request)
        self._keys[request.id] = (question_key, reply_key, self._view)
        self.transcript_shown.emit(True)
        self._transcript.scroll_to_bottom()
        if not self._busy_shown:
            self._busy_shown = True
            self.busy_changed.emit(True)
        if not self._ready:
            self.status_message.emit("Waiting for the model to load…", 0)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand the next waiting turn to the model thread, once it is free and loaded."""
        if self._stream is not None or not self._waiting or not self._ready or self._closing:
            return
        request = self._waiting.popleft()
        if self._title is not None:  # the person comes first: the title can wait
            self._title.control.cancel()
            self._title = None
        question_key, reply_key, view = self._keys.pop(request.id)
        if view != self._view:  # asked in a view that is gone: it waited, so it never ran
            self._dispatch()
            return
        self._stream = ReplyStream(
            request, self._transcript, question_key, reply_key, request.conversation_id
        )
        self._flush_timer.start()
        # Queued on the store's lane ahead of the turn's first save: space freed meanwhile
        # stores them first, and the question follows the whole reply.
        self._unsaved.save_all()
        self._run_requested.emit(request)

    def _fail_waiting(self, request: TurnRequest, error: str) -> None:
        _question, reply_key, view = self._keys.pop(request.id, (None, 0, -1))
        if view == self._view and (widget := self._transcript.message_widget(reply_key)):
            widget.finish("error")
            widget.show_error(error)
        if request.kind is TurnKind.SEND:
            self.returned.emit(request.text, request.attachments)

    # -- from the model thread ------------------------------------------------------------------

    def _current(self, request_id: int) -> ReplyStream | None:
        stream = self._stream
        return stream if stream is not None and stream.request.id == request_id else None

    def _on_worker_turn_started(self, request_id: int, question: Message, reply_id: int) -> None:
        stream = self._current(request_id)
        if stream is None:
            return
        stream.stored(question, reply_id)
        if stream.request.conversation_id is None:
            # A new chat was just stored: it is the open one if the person is still there.
            if self._conversation_id is None and self._transcript.message_widget(reply_id):
                self._set_conversation(question.conversation_id)
                chosen = self._library_id
                if chosen != stream.request.library_id:  # chosen again while it was asked
                    self._library_id = stream.request.library_id
                    self.choose_library(chosen)
            self.conversations_changed.emit()

    # The model thread's news of the reply, queued to these slots (so they run here).

    def _on_worker_text_received(self, request_id: int, kind: str, text: str) -> None:
        if stream := self._current(request_id):
            stream.add_text(kind, text)

    def _flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def _on_worker_notice_received(self, request_id: int, notice: Notice) -> None:
        if stream := self._current(request_id):
            stream.notice(notice)

    def _on_worker_activity_changed(self, request_id: int, text: str) -> None:
        if stream := self._current(request_id):
            stream.activity(text)

    def _on_worker_attachment_failed(self, request_id: int, problem: str) -> None:
        if stream := self._current(request_id):
            stream.note(problem)

    def _on_worker_sources_found(self, request_id: int, sources: list[Source]) -> None:
        if stream := self._current(request_id):
            stream.set_sources(sources)

    def _on_worker_turn_ended(self, request_id: int, outcome: TurnOutcome) -> None:
        stream = self._current(request_id)
        if stream is None:
            return
        self._flush()
        self._flush_timer.stop()
        self._stream = None
        stream.finish(outcome)
        if outcome.unsaved is not None:
            self._unsaved.keep(outcome.unsaved, outcome.error)
        if outcome.unsent:  # nothing was stored: the question and its files go back
            self.returned.emit(stream.request.text, stream.request.attachments)
        if outcome.reply is not None:
            s = outcome.reply.stats
            if self._transcript.message_widget(stream.reply_key) is not None:
                self._set_used(s.prompt_tokens + s.generated_tokens)
        if outcome.saved is not None:
            self._refresh_branches(outcome.saved.conversation_id)
            self.conversations_changed.emit()
        self.turn_finished.emit(outcome)
        saved = outcome.saved
        if (
            stream.request.kind is TurnKind.SEND
            and stream.request.conversation_id is None
            and outcome.status == "done"
            and saved is not None
            and saved.content.strip()
            and not self._waiting
        ):
            # A new conversation's first reply: the local model names it, in the background.
            self._title = TitleRequest(saved.conversation_id, stream.request.text, saved.content)
            self._title_requested.emit(self._title)
        if self._waiting:
            self._dispatch()
        else:
            self._became_idle()

    def _on_unsaved_saved(self, message: Message) -> None:
        self._refresh_branches(message.conversation_id)
        self.conversations_changed.emit()

    def _became_idle(self) -> None:
        if self._stream is None and not self._waiting and self._busy_shown:
            self._busy_shown = False
            self.busy_changed.emit(False)
            self.idle.emit()

    def _refresh_branches(self, conversation_id: int) -> None:
        """Version switchers for the shown messages (an edit or regenerate adds versions),
        and the stored stats of the finished reply."""
        if conversation_id != self._conversation_id:
            return
        store, view = self._owner.store, self._view

        def show(result: tuple[list[Message], Branches]) -> None:
            if self._view != view:
                return
            path, branches = result
            for message in path:
                if (w := self._transcript.message_widget(message.id)) is not None:
                    w.set_branch(*branches.get(message.id, (0, 1)))
                    if message.stats is not None:
                        w.set_stats(message.stats)

        self._store_op(lambda: path_and_branches(store, conversation_id), show)

    def _store_op(self, fn: Callable[[], T], on_success: Callable[[T], object]) -> None:
        BackgroundOp(self, fn).success(on_success).failure(self.error_raised.emit).run(self._owner)
