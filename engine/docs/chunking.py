"""Cutting extracted pages into passages: about ``TARGET_WORDS`` words each, cut at
paragraph ends where possible, each starting with the paragraph before it when that is short
(so a passage cut in the middle of an idea still carries its start)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from engine.storage.types import ChunkText

TARGET_WORDS = 160
MAX_WORDS = 240  # a paragraph longer than this is cut inside
OVERLAP_WORDS = 40  # the paragraph before is repeated when it is at most this long

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _units(text: str) -> Iterator[str]:
    """Paragraphs, with an over-long one cut at sentence ends (or between words)."""
    for raw in _PARAGRAPH.split(text):
        paragraph = raw.strip()
        if not paragraph:
            continue
        if len(paragraph.split()) <= MAX_WORDS:
            yield paragraph
            continue
        piece: list[str] = []
        count = 0
        for sentence in _SENTENCE_END.split(paragraph):
            words = sentence.split()
            while len(words) > MAX_WORDS:  # one endless "sentence": cut between words
                if piece:
                    yield " ".join(piece)
                    piece, count = [], 0
                yield " ".join(words[:MAX_WORDS])
                words = words[MAX_WORDS:]
            if count + len(words) > TARGET_WORDS and piece:
                yield " ".join(piece)
                piece, count = [], 0
            if words:
                piece.append(" ".join(words))
                count += len(words)
        if piece:
            yield " ".join(piece)


def chunk_pages(pages: Iterable[tuple[int, str]]) -> Iterator[ChunkText]:
    """Passages of (page number, text) pages; a passage never spans two pages."""
    for page, text in pages:
        current: list[str] = []
        count = 0
        previous = ""
        for unit in _units(text):
            words = len(unit.split())
            if current and count + words > TARGET_WORDS:
                yield ChunkText(page, "\n\n".join(current))
                last = current[-1]
                current, count = [], 0
                if len(last.split()) <= OVERLAP_WORDS and last != previous:
                    current, count = [last], len(last.split())
                previous = last
            current.append(unit)
            count += words
        if current and not (len(current) == 1 and current[0] == previous):
            yield ChunkText(page, "\n\n".join(current))
