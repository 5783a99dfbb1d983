"""Splits a message's Markdown into prose blocks and fenced code blocks (plain Python).

Why: a streaming answer is re-rendered on every flush. Re-parsing the whole answer costs
O(length) each time (≈ 7 ms for 20 000 characters with Qt's Markdown importer, measured), so
the answer is cut into blocks and only the last, still-open block is rendered again. Fenced
code becomes its own block so it can be highlighted and copied on its own.

A block is *closed* once no further text can change it: a code block at its closing fence, a
prose block when a code fence starts or, past ``min_prose`` characters, at a blank line
followed by a line that cannot continue it (not indented, not a list item, quote or table).
The cut depends on the text only, never on how it arrived in pieces, so streaming and a
one-shot render give the same blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MIN_PROSE = 1500

_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
# A last, unfinished line that may still become a fence: held back until it is complete.
_MAYBE_FENCE = re.compile(r"^ {0,3}(`{1,2}|~{1,2}|`{3,}[^`]*|~{3,}.*)$")
# Lines that may continue the prose before them even after a blank line.
_CONTINUES = re.compile(r"^(\s|[-*+](\s|$)|\d{1,9}[.)](\s|$)|>|\||\[)")


@dataclass(frozen=True)
class Block:
    kind: Literal["prose", "code"]
    text: str  # Markdown source for prose; the code itself (fences removed) for code
    language: str  # the first word of the fence's info string; "" for prose
    closed: bool  # True when more text can no longer change this block
    end: int  # offset just past this block's source in the text that was split


def split_blocks(text: str, *, final: bool, min_prose: int = MIN_PROSE) -> list[Block]:
    """Blocks of ``text``. ``final`` says no more text will come (the last line is complete
    and an unclosed fence ends with the text)."""
    lines = text.splitlines(keepends=True)
    if lines and not final and not lines[-1].endswith("\n"):
        if _MAYBE_FENCE.match(lines[-1]):
            lines.pop()
        complete = len(lines) - (1 if lines and not lines[-1].endswith("\n") else 0)
    else:
        complete = len(lines)

    blocks: list[Block] = []
    pos = 0  # offset of lines[i]
    start = 0  # offset where the current prose block starts
    prose: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE_OPEN.match(line.rstrip("\n")) if i < complete else None
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            if prose:
                blocks.append(Block("prose", "".join(prose), "", True, pos))
                prose = []
            indent, marker = len(fence.group(1)), fence.group(2)
            language = fence.group(3).strip().split(" ")[0] if fence.group(3).strip() else ""
            body: list[str] = []
            j = i + 1
            q = pos + len(line)
            closed = False
            while j < len(lines):
                candidate = lines[j]
                if j < complete and _closes(candidate, marker):
                    q += len(candidate)
                    closed = True
                    break
                if j >= complete:  # an unfinished line: shown, but the block stays open
                    body.append(_dedent(candidate, indent))
                    q += len(candidate)
                    break
                body.append(_dedent(candidate, indent))
                q += len(candidate)
                j += 1
            code = "".join(body)
            blocks.append(Block("code", code.removesuffix("\n"), language, closed or final, q))
            if not closed:
                return blocks
            i = j + 1
            pos = start = q
            continue
        if (
            prose
            and i < complete
            and pos - start >= min_prose
            and _is_blank(prose[-1])
            and not _is_blank(line)
            and not _CONTINUES.match(line)
        ):
            blocks.append(Block("prose", "".join(prose), "", True, pos))
            prose = []
            start = pos
        prose.append(line)
        pos += len(line)
        i += 1
    if prose:
        blocks.append(Block("prose", "".join(prose), "", final, pos))
    return blocks


def _closes(line: str, marker: str) -> bool:
    stripped = line.rstrip("\n")
    body = stripped.lstrip(" ")
    if len(stripped) - len(body) > 3:
        return False
    run = len(body) - len(body.lstrip(marker[0]))
    return run >= len(marker) and not body[run:].strip()


def _dedent(line: str, indent: int) -> str:
    removable = len(line) - len(line.lstrip(" "))
    return line[min(indent, removable) :]


def _is_blank(line: str) -> bool:
    return not line.strip()


# A line that Markdown gives a meaning of its own: list item, quote, heading, table row, rule.
_STRUCTURE = re.compile(r"^\s*([-*+]\s|\d{1,9}[.)]\s|>|#{1,6}\s|\||(\*\s*){3,}$|(-\s*){3,}$)")
_NBSP = "\u00a0"


def keep_lines(prose: str) -> str:
    """Prose Markdown that shows its text as written: a single line break stays a line break
    (Markdown would join the lines), and the leading spaces of a line inside a paragraph stay
    (Markdown would drop them, and with them the indentation of code written without fences).
    Lines with a structure of their own (lists, quotes, headings, tables) are left alone."""
    lines = prose.split("\n")
    out: list[str] = []
    for i, source in enumerate(lines):
        line = source
        following = lines[i + 1] if i + 1 < len(lines) else ""
        inside = bool(out) and bool(out[-1].strip()) and not _STRUCTURE.match(line)
        if inside and line.startswith(" ") and line.strip():
            stripped = line.lstrip(" ")
            line = _NBSP * (len(line) - len(stripped)) + stripped
        if line.strip() and following.strip() and not line.endswith("  "):
            line += "  "  # a hard break; at the end of a block Markdown drops it unseen
        out.append(line)
    return "\n".join(out)


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_INLINE_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")


def no_images(prose: str) -> str:
    """Prose Markdown in which no image can be loaded: ``![alt](address)`` becomes a code
    span ``[image: alt] address`` (what it was, nothing fetched), and any other ``![`` (a
    reference image) is escaped, so Qt's importer makes no image for it to load. A reply's
    ``![](file:///…)`` would otherwise have Qt read that file (a FIFO hangs the window,
    /dev/zero exhausts its memory) each time the conversation is shown. Code spans are kept
    as they are."""
    out: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(prose):
        out.append(_neutralise(prose[last : span.start()]))
        out.append(span.group(0))
        last = span.end()
    out.append(_neutralise(prose[last:]))
    return "".join(out)


def _neutralise(text: str) -> str:
    def placeholder(image: re.Match[str]) -> str:
        alt = image.group(1).replace("`", "'").strip()
        address = image.group(2).replace("`", "'")
        label = f"[image: {alt}]" if alt else "[image]"
        return f"`` {label} {address} ``" if address else f"`` {label} ``"

    return _INLINE_IMAGE.sub(placeholder, text).replace("![", "!\\[")
