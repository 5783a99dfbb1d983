"""Splits a streamed reply into thinking and answer at the model's reasoning markers.

Markers can arrive split across tokens ("</th" + "ink>"), so text that could be the start of
a marker is held back until it is clearly one or clearly not.
"""

from __future__ import annotations

from enum import Enum


class Part(Enum):
    THINKING = "thinking"
    ANSWER = "answer"


class _State(Enum):
    BEFORE = 0  # nothing but whitespace so far; an open marker may still come
    THINKING = 1
    ANSWER = 2


class ReasoningSplitter:
    """Feed decoded text; get back (part, text) pieces in order.

    ``starts_inside``: the chat template already emitted the open marker (QwQ), so the reply
    begins as thinking. An open marker is honoured only before any answer text, and only once;
    after the close marker everything is answer, even a literal "<think>" the answer quotes.
    """

    def __init__(self, open_marker: str, close_marker: str, *, starts_inside: bool) -> None:
        self._open = open_marker
        self._close = close_marker
        self._state = _State.THINKING if starts_inside else _State.BEFORE
        self._pending = ""
        self._strip_leading = True  # drop whitespace at the start of thinking and of the answer

    @property
    def in_thinking(self) -> bool:
        return self._state is _State.THINKING

    def feed(self, text: str) -> list[tuple[Part, str]]:
        self._pending += text
        out: list[tuple[Part, str]] = []
        while self._pending:
            if self._state is _State.BEFORE:
                stripped = self._pending.lstrip()
                if not stripped:
                    return out  # only whitespace yet: keep waiting
                if stripped.startswith(self._open):
                    self._pending = stripped[len(self._open) :]
                    self._enter(_State.THINKING)
                    continue
                if self._open.startswith(stripped):
                    return out  # could still become the open marker
                self._state = _State.ANSWER
                continue
            if self._state is _State.THINKING:
                index = self._pending.find(self._close)
                if index >= 0:
                    self._emit(out, Part.THINKING, self._pending[:index])
                    self._pending = self._pending[index + len(self._close) :]
                    self._enter(_State.ANSWER)
                    continue
                keep = _partial_suffix(self._pending, self._close)
                self._emit(out, Part.THINKING, self._pending[: len(self._pending) - keep])
                self._pending = self._pending[len(self._pending) - keep :]
                return out
            # ANSWER: no markers are looked for any more.
            self._emit(out, Part.ANSWER, self._pending)
            self._pending = ""
        return out

    def close_thinking(self) -> None:
        """The thinking budget closed the block: what follows is answer."""
        if self._state is not _State.ANSWER:
            self._pending = ""
            self._enter(_State.ANSWER)

    def flush(self) -> list[tuple[Part, str]]:
        """End of stream: release anything held back as a possible marker."""
        out: list[tuple[Part, str]] = []
        rest, self._pending = self._pending, ""
        part = Part.THINKING if self._state is _State.THINKING else Part.ANSWER
        self._emit(out, part, rest)
        return out

    def _enter(self, state: _State) -> None:
        self._state = state
        self._strip_leading = True

    def _emit(self, out: list[tuple[Part, str]], part: Part, text: str) -> None:
        if self._strip_leading:
            text = text.lstrip()
            if not text:
                return
            self._strip_leading = False
        if not text:
            return
        if out and out[-1][0] is part:
            out[-1] = (part, out[-1][1] + text)
        else:
            out.append((part, text))


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``marker``."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:n]):
            return n
    return 0
