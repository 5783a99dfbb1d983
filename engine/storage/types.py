"""Plain values the store hands out: frozen dataclasses, no database handles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Role = Literal["system", "user", "assistant"]
Status = Literal["streaming", "done", "interrupted", "error"]
FINAL_STATUSES: frozenset[str] = frozenset({"done", "interrupted", "error"})
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class MessageStats:
    """Generation figures for an assistant message."""

    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    time_to_first_token_s: float | None = None
    tokens_per_second: float | None = None


@dataclass(frozen=True)
class Message:
    """One node of a conversation's message tree."""

    id: int
    conversation_id: int
    parent_id: int | None
    role: Role
    content: str
    thinking: str
    model_id: str
    status: Status
    stats: MessageStats | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    system_prompt: str
    pinned: bool
    active_leaf_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ConversationSummary:
    """What the conversation list shows."""

    id: int
    title: str
    updated_at: datetime
    pinned: bool


@dataclass(frozen=True)
class SearchHit:
    """One conversation that matches: in its title only when ``message_id`` is None, else
    in ``match_count`` of its messages, of which ``message_id`` is the one the snippet is from.

    ``snippet`` marks each match as «match»; ``highlights`` are the (start, end) offsets of
    the matches in ``plain_snippet`` (the snippet without markers).
    """

    conversation_id: int
    message_id: int | None
    conversation_title: str
    snippet: str
    plain_snippet: str
    highlights: tuple[tuple[int, int], ...]
    match_count: int = 1  # messages that match; 0 for a match in the title only
