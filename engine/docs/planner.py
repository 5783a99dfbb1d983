"""How many passages a reply is given: as many of the best as fit in half of the context left
after the reply's reserve and the question, so the conversation so far keeps the other half
(the prompt trimmer drops its oldest turns only when that is not enough)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.chat_template import ChatMessage
from engine.docs.citations import numbered, passage_block
from engine.storage.types import Passage

if TYPE_CHECKING:
    from engine.inference import ModelSession

MAX_PASSAGES = 16
MIN_TOKENS_LEFT = 64  # for the instruction and the question's own framing


def passage_budget(session: ModelSession, messages: Sequence[ChatMessage], reserve: int) -> int:
    """Tokens the passages may take beside ``messages`` (ending with the question)."""
    available = session.n_ctx - reserve
    newest = session.count_text_tokens(messages[-1].content) if messages else 0
    system = (
        session.count_text_tokens(messages[0].content)
        if messages and messages[0].role == "system"
        else 0
    )
    return max(0, min(available // 2, available - newest - system - MIN_TOKENS_LEFT))


def fit_passages(
    session: ModelSession,
    messages: Sequence[ChatMessage],
    candidates: Sequence[Passage],
    *,
    reserve: int,
) -> list[Passage]:
    """The leading ``candidates`` whose numbered blocks fit the budget (at most
    ``MAX_PASSAGES``); a passage too long for what is left is skipped, not cut."""
    budget = passage_budget(session, messages, reserve)
    chosen: list[Passage] = []
    used = 0
    for passage in candidates[:MAX_PASSAGES]:
        (source,) = numbered([passage])
        cost = session.count_text_tokens(passage_block(source)) + 2  # the blank line between
        if used + cost > budget:
            continue
        chosen.append(passage)
        used += cost
    return chosen
