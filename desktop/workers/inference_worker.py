"""One thread owns the model. The GUI talks to it only through queued signals.

A turn is asked for with one immutable ``TurnRequest``, made on the GUI thread together with
its own ``GenerationControl``: Stop cancels exactly the turn it was pressed for, even before
the model thread has picked the request up. Every signal about a turn carries the request's
id, and every request ends with exactly one ``turn_ended``, whatever happens on the way.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop.settings import LoadSettings
from desktop.workers.documents import (
    NONE_READ,
    STOPPED_READING,
    SharedEmbedder,
    read_attachments,
    refresh_library,
)
from engine.catalog import load_catalog
from engine.catalog.installed import resolve
from engine.chat import Chat, Turn, UnsavedReply
from engine.docs import DocumentFinder
from engine.errors import HearthError
from engine.inference import (
    Answer,
    ChatMessage,
    FinishReason,
    GenerationControl,
    GenerationOptions,
    ModelSession,
    Notice,
    Reply,
    Thinking,
    open_model,
)
from engine.storage import ConversationStore, Message, Status, StorageError
from engine.titles import TITLE_OPTIONS, clean_title, title_for, title_prompt

log = logging.getLogger(__name__)

NO_MODEL = "No model is loaded yet."
UNEXPECTED = (
    "Something went wrong inside Hearth while answering. What was written so far is kept; "
    "try again."
)

_request_ids = itertools.count(1)


class TurnKind(StrEnum):
    SEND = "send"
    REGENERATE = "regenerate"
    EDIT = "edit"
    CONTINUE = "continue"


@dataclass(frozen=True)
class TurnRequest:
    """One turn for the model thread. ``conversation_id`` None: a new conversation, made by
    the send. ``message_id`` is the reply to regenerate or continue, or the question to edit;
    ``text`` the question (send) or its new wording (edit)."""

    kind: TurnKind
    conversation_id: int | None
    options: GenerationOptions
    text: str = ""
    message_id: int | None = None
    system_prompt: str = ""  # for a new conversation, made by this send
    attachments: tuple[Path, ...] = ()  # files attached to the question (send)
    # The library the conversation answers from, as the window shows it (a new
    # conversation's is stored when the send makes it).
    library_id: int | None = None
    id: int = field(default_factory=lambda: next(_request_ids))
    control: GenerationControl = field(default_factory=GenerationControl, compare=False)


@dataclass(frozen=True)
class TitleRequest:
    """Name ``conversation_id`` after its first exchange; cancelled by the next turn."""

    conversation_id: int
    question: str
    answer: str
    control: GenerationControl = field(default_factory=GenerationControl, compare=False)


UNSAVED_NEXT = "Free some disk space, then choose Save Again; Copy keeps it meanwhile."
NOT_SENT = "Your question was not sent, and it is back in the message box."


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended. ``reply`` has the engine's statistics when generation finished;
    ``saved`` is the stored reply (None when nothing could be stored); ``error`` is for the
    person (never chat text); ``unsent``: the question was not stored nor sent (its attached
    files could not be read, or saving it failed), so it goes back to the person;
    ``unsaved``: the reply was shown in full but not stored (a full disk), and this is what
    Save Again stores."""

    status: Status
    reply: Reply | None = None
    saved: Message | None = None
    error: str = ""
    unsent: bool = False
    unsaved: UnsavedReply | None = None


class InferenceWorker(QObject):
    """Lives on its own QThread and holds the only reference to the loaded model.

    Each turn goes through engine.chat, which saves the question and the growing reply; the
    store it is given routes those saves to the store's owner thread. Text is emitted as it
    arrives; the GUI batches repaints.
    """

    model_loaded = Signal(str, int)  # display name, context size in tokens
    model_failed = Signal(object)  # the HearthError (ModelDoesNotFit, ModelError, …)
    turn_started = Signal(int, object, int)  # request id, stored question, reply id
    text_received = Signal(int, str, str)  # request id, "thinking" | "answer", text
    notice_received = Signal(int, object)  # request id, engine.inference.Notice
    turn_ended = Signal(int, object)  # request id, TurnOutcome: once per request, always
    tokens_counted = Signal(str, int)  # the text counted, its tokens as a question
    title_written = Signal(int)  # a conversation the model has just named
    activity_changed = Signal(int, str)  # request id, what is being done before the answer
    attachment_failed = Signal(int, str)  # request id, why one attached file was not read
    sources_found = Signal(int, object)  # request id, the numbered passages (list[Source])

    def __init__(self, store: ConversationStore, embedder: SharedEmbedder | None = None) -> None:
        super().__init__()
        self._store = store
        self._embedder = embedder
        self._session: ModelSession | None = None

    @Slot(str, object)
    def load(self, spec: str, settings: LoadSettings) -> None:
        try:
            catalog = load_catalog()
            path, entry = resolve(catalog, spec or None)
            session = open_model(
                Path(path),
                entry=entry,
                n_ctx=settings.n_ctx,
                threads=settings.threads,
                gpu_layers=settings.gpu_layers,
            )
        except HearthError as exc:
            self.model_failed.emit(exc)
            return
        self.unload()
        self._session = session
        self.model_loaded.emit(session.display_name, session.n_ctx)

    @Slot(object)
    def run_turn(self, request: TurnRequest) -> None:
        outcome = TurnOutcome("error", error=UNEXPECTED)
        try:
            outcome = self._run(request)
        except Exception as exc:  # a bug: the reply says so, and the window stays usable
            log.error("turn failed unexpectedly: %s", type(exc).__name__)
        finally:
            self.turn_ended.emit(request.id, outcome)

    def _run(self, request: TurnRequest) -> TurnOutcome:
        if self._session is None:
            return TurnOutcome("error", error=NO_MODEL)
        try:
            chat = Chat(
                self._store,
                self._session,
                request.conversation_id,
                system_prompt=request.system_prompt,
                finder=self._finder(request),
            )
            attached = self._prepare_documents(chat, request)
            if isinstance(attached, TurnOutcome):
                return attached
            asked = self._ask(chat, request)
            if isinstance(asked, TurnOutcome):
                return asked
            turn = _make_turn(chat, request, attached, asked)
        except (HearthError, ValueError) as exc:
            return TurnOutcome("error", error=getattr(exc, "full_message", str(exc)))
        self.turn_started.emit(request.id, turn.question, turn.reply_id)
        if turn.sources:
            self.sources_found.emit(request.id, list(turn.sources))
        try:
            self._stream(request.id, turn)
        except HearthError as exc:
            if turn.unsaved is not None:  # kept by the window for Save Again
                told = f"This reply is not saved. {exc.user_message} {UNSAVED_NEXT}"
                status = turn.unsaved.status
                return TurnOutcome(status, turn.result, None, told, unsaved=turn.unsaved)
            return TurnOutcome("error", turn.result, turn.reply, exc.full_message)
        except Exception as exc:
            log.error("turn failed unexpectedly: %s", type(exc).__name__)
            return TurnOutcome("error", turn.result, turn.reply, UNEXPECTED)
        cancelled = turn.result is None or turn.result.finish_reason is FinishReason.CANCELLED
        return TurnOutcome("interrupted" if cancelled else "done", turn.result, turn.reply)

    def _ask(self, chat: Chat, request: TurnRequest) -> Message | TurnOutcome | None:
        """Store a send's question (None for the other kinds of turn). A question that
        cannot be stored (a full disk) is not sent: it goes back to the composer, and a
        conversation made only for it is deleted again where the disk allows."""
        if request.kind is not TurnKind.SEND:
            return None
        try:
            return chat.ask(request.text)
        except StorageError as exc:
            if request.conversation_id is None and chat.conversation_id is not None:
                with contextlib.suppress(StorageError):
                    self._store.delete_conversation(chat.conversation_id)
            return TurnOutcome("error", error=f"{NOT_SENT} {exc.full_message}", unsent=True)

    def _finder(self, request: TurnRequest) -> DocumentFinder | None:
        """A finder when documents are in play: attached files (now or earlier in the
        conversation) or a library to answer from."""
        conversation = request.conversation_id
        in_play = (
            bool(request.attachments)
            or request.library_id is not None
            or (conversation is not None and self._store.find_attachments(conversation) is not None)
        )
        if not in_play:
            return None
        embedder = None
        if self._embedder is not None:
            if not self._embedder.loaded:
                self.activity_changed.emit(request.id, "Loading the embedding model")
            embedder = self._embedder.get()
        return DocumentFinder(self._store, embedder)

    def _prepare_documents(self, chat: Chat, request: TurnRequest) -> list[int] | TurnOutcome:
        """Before a send: a new conversation's library is stored with it, and the attached
        files are read. Returns the attached documents' ids, or the outcome of a question
        that is not sent (no file could be read, or Stop was pressed meanwhile); a
        conversation made only for it is deleted again."""
        if request.kind is not TurnKind.SEND or not (
            request.attachments or request.library_id is not None
        ):
            return []
        made = request.conversation_id is None
        conversation = chat.ensure_conversation(request.text)
        if made and request.library_id is not None:
            self._store.set_conversation_library(conversation, request.library_id)
        for problem in refresh_library(
            self._store,
            conversation,
            cancelled=lambda: request.control.cancelled,
            told=lambda text: self.activity_changed.emit(request.id, text),
        ):
            self.attachment_failed.emit(request.id, problem)
        if not request.attachments:
            return []
        finder = chat.finder
        try:
            result = read_attachments(
                self._store,
                conversation,
                request.attachments,
                embedder=finder.embedder if isinstance(finder, DocumentFinder) else None,
                cancelled=lambda: request.control.cancelled,
                told=lambda text: self.activity_changed.emit(request.id, text),
            )
        except HearthError:
            if made:
                self._store.delete_conversation(conversation)
            raise
        for problem in result.problems:
            self.attachment_failed.emit(request.id, problem)
        if result.document_ids and not result.cancelled:
            return result.document_ids
        if made:
            self._store.delete_conversation(conversation)
        if result.cancelled:
            return TurnOutcome("interrupted", error=STOPPED_READING, unsent=True)
        return TurnOutcome("error", error=NONE_READ, unsent=True)

    def _stream(self, request_id: int, turn: Turn) -> None:
        for chunk in turn:
            if isinstance(chunk, Answer):
                self.text_received.emit(request_id, "answer", chunk.text)
            elif isinstance(chunk, Thinking):
                self.text_received.emit(request_id, "thinking", chunk.text)
            elif isinstance(chunk, Notice):
                self.notice_received.emit(request_id, chunk)
            # Finished: the outcome is told once the turn is saved (turn_ended).

    @Slot(object)
    def write_title(self, request: TitleRequest) -> None:
        """Name a new conversation after its first reply (in the background: a turn asked
        for meanwhile cancels this first). The title is kept only while the conversation
        still has its first title, so a name the person gave wins."""
        if self._session is None or request.control.cancelled:
            return
        try:
            reply = self._session.chat(
                title_prompt(request.question, request.answer), TITLE_OPTIONS, request.control
            )
        except HearthError:
            return
        if reply.finish_reason is FinishReason.CANCELLED:
            return
        title = clean_title(reply.answer, request.question)
        store, first = self._store, title_for(request.question)
        try:
            if store.get_conversation(request.conversation_id).title != first:
                return  # renamed by the person meanwhile
            store.rename(request.conversation_id, title)
        except HearthError:
            return
        self.title_written.emit(request.conversation_id)

    @Slot(str)
    def count_tokens(self, text: str) -> None:
        """How many tokens ``text`` takes as a question (queued behind a running turn)."""
        if self._session is not None:
            try:
                count = self._session.count_tokens([ChatMessage("user", text)])
            except HearthError:
                return
            self.tokens_counted.emit(text, count)

    @Slot()
    def forget_context(self) -> None:
        """Wipe the last turns from the model's memory (the app is locking). Queued behind a
        reply that is stopping, so it runs once that loop has ended."""
        if self._session is not None:
            self._session.forget()

    @Slot()
    def unload(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            session.close()


def _make_turn(
    chat: Chat, request: TurnRequest, attached: list[int], asked: Message | None
) -> Turn:
    """``asked``: a send's stored question.

    Raises: HearthError, ValueError (the request no longer fits the stored messages).
    """
    control, options = request.control, request.options
    if request.kind is TurnKind.SEND:
        if asked is None:
            raise ValueError("a send needs its stored question")
        return chat.answer(asked, options, control, attached=attached)
    if request.message_id is None:
        raise ValueError("this request needs a message")
    if request.kind is TurnKind.REGENERATE:
        return chat.regenerate(request.message_id, options, control)
    if request.kind is TurnKind.CONTINUE:
        return chat.continue_reply(request.message_id, options, control)
    return chat.edit(request.message_id, request.text, options, control)
