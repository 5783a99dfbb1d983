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


# -- private documents ---------------------------------------------------------------------

DocumentStatus = Literal["indexed", "failed", "missing"]


@dataclass(frozen=True)
class Library:
    """A named collection of files and folders (``conversation_id`` set: the files attached
    in that conversation, not listed among the person's libraries)."""

    id: int
    name: str
    conversation_id: int | None
    embedder: str  # the embedding model whose vectors its chunks carry; "" for none


@dataclass(frozen=True)
class LibrarySummary:
    library: Library
    documents: int
    failed: int
    chunks: int


@dataclass(frozen=True)
class DocumentRecord:
    """One file of a library as last indexed. ``problem`` says why a failed file has no text."""

    id: int
    library_id: int
    path: str
    kind: str
    size: int
    mtime_ns: int
    sha256: str
    pages: int
    status: DocumentStatus
    problem: str
    chunks: int


@dataclass(frozen=True)
class FileFacts:
    """A file as it was when read: where, which reader, and what notices a change."""

    path: str
    kind: str
    size: int
    mtime_ns: int
    sha256: str = ""  # "" when the file could not be read at all


@dataclass(frozen=True)
class ChunkText:
    """A passage to store: its page (1-based; 0 when the format has no pages) and text."""

    page: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A stored passage with where it came from."""

    chunk_id: int
    document_id: int
    path: str
    page: int
    text: str


@dataclass(frozen=True)
class Source:
    """Passage ``number`` as a reply was given it (a copy: it outlives the document)."""

    number: int
    document_id: int | None
    path: str
    page: int
    text: str
