"""One thread owns the model. The GUI talks to it only through queued signals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop.settings import LoadSettings
from engine.catalog import load_catalog
from engine.catalog.installed import resolve
from engine.chat import Chat, Turn
from engine.errors import HearthError
from engine.inference import (
    Answer,
    Finished,
    GenerationControl,
    GenerationOptions,
    Notice,
    Thinking,
    open_model,
)
from engine.storage import ConversationStore


class InferenceWorker(QObject):
    """Lives on its own QThread. Holds the only reference to the loaded model.

    Each turn goes through engine.chat, which saves the question and the growing reply in the
    encrypted store. Text is emitted as it arrives; the GUI batches repaints. Cancel and
    *answer now* go through a GenerationControl, which is safe to call from the GUI thread.
    """

    model_loaded = Signal(str, int)  # display name, context size in tokens
    model_failed = Signal(object)  # the HearthError (ModelDoesNotFit, ModelError, …)
    turn_started = Signal(object, int)  # stored question (engine.storage.Message), reply id
    thinking_received = Signal(str)
    answer_received = Signal(str)
    notice_received = Signal(object)  # engine.inference.Notice
    generation_finished = Signal(object)  # engine.inference.Reply
    reply_saved = Signal(object)  # the stored reply (engine.storage.Message), however it ended
    generation_failed = Signal(str)  # user message; the question and partial reply are kept

    def __init__(self, store: ConversationStore) -> None:
        super().__init__()
        self._store = store
        self._chat: Chat | None = None
        self._conversation_id: int | None = None
        self._control = GenerationControl()
        # Sampling, length and thinking budget for the next turns (None: the model's
        # defaults from models.toml). Set from the GUI thread between turns.
        self.options = GenerationOptions()
        # Context size, threads and GPU layers for the next load (None: planned for this
        # machine). Set from the GUI thread before emitting a load.
        self.load_settings = LoadSettings()

    @property
    def conversation_id(self) -> int | None:
        return self._chat.conversation_id if self._chat else self._conversation_id

    @Slot(str)
    def load(self, spec: str) -> None:
        try:
            catalog = load_catalog()
            path, entry = resolve(catalog, spec or None)
            ls = self.load_settings
            session = open_model(
                Path(path),
                entry=entry,
                n_ctx=ls.n_ctx,
                threads=ls.threads,
                gpu_layers=ls.gpu_layers,
            )
        except HearthError as exc:
            self.model_failed.emit(exc)
            return
        conversation_id = self.conversation_id
        self.unload()
        self._chat = Chat(self._store, session, conversation_id)
        self.model_loaded.emit(session.display_name, session.n_ctx)

    @Slot(object)
    def open_conversation(self, conversation_id: int | None) -> None:
        """Answer in ``conversation_id`` from now on (None: a new one, made by the next send)."""
        self._conversation_id = conversation_id
        if self._chat is not None:
            self._chat.conversation_id = conversation_id

    @Slot(str)
    def send(self, question: str) -> None:
        self._start(
            lambda chat, control: chat.send(question, self.options, control), (HearthError,)
        )

    @Slot(int)
    def regenerate(self, reply_id: int) -> None:
        self._start(
            lambda chat, control: chat.regenerate(reply_id, self.options, control),
            (HearthError, ValueError),
        )

    @Slot(int)
    def continue_reply(self, reply_id: int) -> None:
        self._start(
            lambda chat, control: chat.continue_reply(reply_id, self.options, control),
            (HearthError, ValueError),
        )

    @Slot(int, str)
    def edit(self, message_id: int, new_text: str) -> None:
        self._start(
            lambda chat, control: chat.edit(message_id, new_text, self.options, control),
            (HearthError, ValueError),
        )

    def _start(
        self,
        make_turn: Callable[[Chat, GenerationControl], Turn],
        errors: tuple[type[Exception], ...],
    ) -> None:
        """Make a turn with a fresh GenerationControl and stream it; ``errors`` raised while
        making it are reported through ``generation_failed``."""
        chat = self._chat
        if chat is None:
            self.generation_failed.emit("No model is loaded yet.")
            return
        self._control = GenerationControl()
        try:
            turn = make_turn(chat, self._control)
        except errors as exc:
            self.generation_failed.emit(getattr(exc, "full_message", str(exc)))
            return
        self._run(turn)

    def _run(self, turn: Turn) -> None:
        self.turn_started.emit(turn.question, turn.reply_id)
        finished = None
        try:
            for chunk in turn:
                if isinstance(chunk, Answer):
                    self.answer_received.emit(chunk.text)
                elif isinstance(chunk, Thinking):
                    self.thinking_received.emit(chunk.text)
                elif isinstance(chunk, Notice):
                    self.notice_received.emit(chunk)
                elif isinstance(chunk, Finished):
                    finished = chunk.reply  # announced once the turn is saved, below
        except HearthError as exc:
            if turn.reply is not None:
                self.reply_saved.emit(turn.reply)
            self.generation_failed.emit(exc.full_message)
            return
        if turn.reply is not None:
            self.reply_saved.emit(turn.reply)
        if finished is not None:
            self.generation_finished.emit(finished)

    @Slot()
    def forget_context(self) -> None:
        """Wipe the last turns from the model's memory (the app is locking). Queued behind a
        reply that is stopping, so it runs once that loop has ended."""
        if self._chat is not None:
            self._chat.session.forget()

    def cancel(self) -> None:
        """Called from the GUI thread: only sets a flag the generation loop checks."""
        self._control.cancel()

    def answer_now(self) -> None:
        self._control.answer_now()

    @Slot()
    def unload(self) -> None:
        if self._chat is not None:
            self._conversation_id = self._chat.conversation_id
            self._chat.session.close()
            self._chat = None
