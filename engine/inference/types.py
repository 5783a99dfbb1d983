"""Plain values that cross the engine's boundary: options, stream chunks, replies (messages
are :class:`engine.chat_template.ChatMessage`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class GenerationOptions:
    """Per-request settings; ``None`` means the model's catalog default."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    max_tokens: int | None = None
    thinking_budget: int | None = None
    seed: int | None = None


class GenerationControl:
    """Lets another thread stop a generation or end its thinking early. Checked between
    tokens and between prompt batches."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._answer_now = threading.Event()
        # Prompt evaluation so far (tokens done, tokens to do): written by the generating
        # thread as one tuple, read by another (a waiting indicator) without a lock.
        self._prompt: tuple[int, int] = (0, 0)

    def cancel(self) -> None:
        self._cancel.set()

    def answer_now(self) -> None:
        """Close the think block at the next token, as if the thinking budget ran out."""
        self._answer_now.set()

    def report_prompt(self, done: int, total: int) -> None:
        """Called by the engine between prompt batches."""
        self._prompt = (done, total)

    @property
    def prompt_progress(self) -> tuple[int, int]:
        """(tokens of the prompt evaluated, tokens to evaluate); (0, 0) before it starts."""
        return self._prompt

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def answer_requested(self) -> bool:
        return self._answer_now.is_set()


class NoticeKind(StrEnum):
    TRIMMED = "trimmed"  # oldest turns left out to fit the context
    BUDGET_REACHED = "budget_reached"  # thinking budget closed the think block
    ANSWER_NOW = "answer_now"  # the person ended thinking early
    CONTEXT_FULL = "context_full"  # the reply filled the context and was cut


class FinishReason(StrEnum):
    STOP = "stop"  # the model ended its reply
    LENGTH = "length"  # max_tokens or the context ran out
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Stats:
    prompt_tokens: int  # tokens of the whole prompt
    evaluated_tokens: int  # prompt tokens llama.cpp actually evaluated (the rest were reused)
    generated_tokens: int
    thinking_tokens: int
    time_to_first_token_s: float
    tokens_per_second: float  # generation only
    thinking_seconds: float


@dataclass(frozen=True)
class Thinking:
    text: str


@dataclass(frozen=True)
class Answer:
    text: str


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    message: str


@dataclass(frozen=True)
class Reply:
    thinking: str
    answer: str
    finish_reason: FinishReason
    stats: Stats
    notices: tuple[Notice, ...] = field(default=())

    @property
    def budget_reached(self) -> bool:
        return any(n.kind is NoticeKind.BUDGET_REACHED for n in self.notices)


@dataclass(frozen=True)
class Finished:
    reply: Reply


Chunk = Thinking | Answer | Notice | Finished
