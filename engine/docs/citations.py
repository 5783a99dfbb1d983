"""Numbered passages in the prompt, and the [n] marks in the answer that cite them.

The passages go into the person's message (not the system prompt), in a fixed layout: a
follow-up question rebuilds earlier questions exactly as the model saw them, so the KV cache
of the conversation so far is reused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from engine.storage.types import Passage, Source

INSTRUCTION = (
    "Answer the question using the numbered passages from my documents. Cite the passages "
    "you use by their number in square brackets, like [1] or [2]. If the passages do not "
    "contain the answer, say so."
)
_CITATION = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def numbered(passages: Sequence[Passage]) -> list[Source]:
    """Passages as the sources of one reply, numbered from 1."""
    return [
        Source(n, p.document_id, p.path, p.page, p.text) for n, p in enumerate(passages, start=1)
    ]


def label(source: Source) -> str:
    """Where a passage comes from, for people and for the model: “tax.pdf, page 3”."""
    name = PurePath(source.path).name
    return f"{name}, page {source.page}" if source.page else name


def passage_block(source: Source) -> str:
    return f"[{source.number}] {label(source)}:\n{source.text.strip()}"


def question_with_sources(question: str, sources: Sequence[Source]) -> str:
    """What the model is sent for a question answered from ``sources``."""
    if not sources:
        return question
    blocks = "\n\n".join(passage_block(s) for s in sources)
    return f"{INSTRUCTION}\n\n{blocks}\n\nQuestion: {question}"


def cited(answer: str, sources: Sequence[Source]) -> list[int]:
    """The source numbers an answer cites, in order of first mention (unknown numbers, such
    as a year in brackets, are left out)."""
    known = {s.number for s in sources}
    seen: dict[int, None] = {}
    for match in _CITATION.finditer(answer):
        for part in match.group(1).split(","):
            n = int(part)
            if n in known:
                seen[n] = None
    return list(seen)
