"""One thread owns the model. The GUI talks to it only through queued signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from engine.catalog import load_catalog
from engine.catalog.installed import resolve
from engine.chat import Conversation
from engine.errors import HearthError
from engine.inference import (
    Answer,
    Finished,
    GenerationControl,
    GenerationOptions,
    Notice,
    Reply,
    Thinking,
    open_model,
)


class InferenceWorker(QObject):
    """Lives on its own QThread. Holds the only reference to the loaded model.

    Text is emitted as it arrives; the GUI batches repaints. Cancel and *answer now* go
    through a GenerationControl, which is safe to call from the GUI thread.
    """

    model_loaded = Signal(str)  # display name
    model_failed = Signal(str)  # user message
    thinking_received = Signal(str)
    answer_received = Signal(str)
    notice_received = Signal(str)
    generation_finished = Signal(object)  # Reply
    generation_failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._conversation: Conversation | None = None
        self._control = GenerationControl()

    @Slot(str)
    def load(self, spec: str) -> None:
        try:
            catalog = load_catalog()
            path, entry = resolve(catalog, spec or None)
            session = open_model(Path(path), entry=entry)
        except HearthError as exc:
            self.model_failed.emit(exc.full_message)
            return
        self.unload()
        self._conversation = Conversation(session)
        self.model_loaded.emit(session.display_name)

    @Slot(str)
    def send(self, question: str) -> None:
        conv = self._conversation
        if conv is None:
            self.generation_failed.emit("No model is loaded yet.")
            return
        self._control = GenerationControl()
        try:
            for chunk in conv.send(question, GenerationOptions(), self._control):
                if isinstance(chunk, Answer):
                    self.answer_received.emit(chunk.text)
                elif isinstance(chunk, Thinking):
                    self.thinking_received.emit(chunk.text)
                elif isinstance(chunk, Notice):
                    self.notice_received.emit(chunk.message)
                elif isinstance(chunk, Finished):
                    self._emit_finished(chunk.reply)
        except HearthError as exc:
            self.generation_failed.emit(exc.full_message)

    def _emit_finished(self, reply: Reply) -> None:
        self.generation_finished.emit(reply)

    def cancel(self) -> None:
        """Called from the GUI thread: only sets a flag the generation loop checks."""
        self._control.cancel()

    def answer_now(self) -> None:
        self._control.answer_now()

    @Slot()
    def unload(self) -> None:
        if self._conversation is not None:
            self._conversation.session.close()
            self._conversation = None
