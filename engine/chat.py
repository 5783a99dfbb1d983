"""A conversation turn, in one place: the CLI and the desktop both go through here.

A Conversation keeps the turns the model sees (answers only; thinking is kept beside them but
never sent back) and streams each new reply through a ModelSession.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from engine.inference import (
    ChatMessage,
    Chunk,
    Finished,
    GenerationControl,
    GenerationOptions,
    ModelSession,
    Reply,
)


@dataclass
class Turn:
    question: str
    reply: Reply | None = None


@dataclass
class Conversation:
    session: ModelSession
    system_prompt: str = ""
    turns: list[Turn] = field(default_factory=list)

    def messages_for(self, question: str) -> list[ChatMessage]:
        """What the model is sent for a new ``question``: earlier answers, never thinking."""
        msgs = [ChatMessage("system", self.system_prompt)] if self.system_prompt else []
        for turn in self.turns:
            if turn.reply is None or not turn.reply.answer:
                continue  # a failed or empty turn is not history the model should build on
            msgs.append(ChatMessage("user", turn.question))
            msgs.append(ChatMessage("assistant", turn.reply.answer))
        msgs.append(ChatMessage("user", question))
        return msgs

    def send(
        self,
        question: str,
        options: GenerationOptions | None = None,
        control: GenerationControl | None = None,
    ) -> Iterator[Chunk]:
        """Stream the reply to ``question`` and record the turn (also when cancelled).

        Raises: PromptTooLong, InferenceError, ModelError; the question is kept either way.
        """
        turn = Turn(question)
        messages = self.messages_for(question)
        self.turns.append(turn)
        for chunk in self.session.stream_chat(messages, options, control):
            if isinstance(chunk, Finished):
                turn.reply = chunk.reply
            yield chunk
