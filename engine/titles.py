"""Conversation titles: the first one, made from the first question (``title_for``)."""

from __future__ import annotations

import re

TITLE_LENGTH = 60
# Only the start of a question is read for its title (a pasted file can be megabytes).
_TITLE_SCAN_CHARS = 4000
_FENCE = re.compile(r"^\s*(```|~~~)")
# Quote marks, a heading's #s, a list item's mark (and its task box), in any nesting.
_BLOCK_MARKS = re.compile(r"^\s*(?:>\s*|#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d{1,9}[.)]\s+)*")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_EMPHASIS = re.compile(r"\*+|~~|`+|(?<!\w)_+|_+(?!\w)")
_LETTER = re.compile(r"[^\W\d_]")


def title_for(question: str) -> str:
    """A conversation's first title, made from its first question: the first paragraph with
    real words, its Markdown taken off (fences, headings, quotes, list marks, emphasis and
    code marks; links and images become their text), on one line of at most
    ``TITLE_LENGTH`` characters. Prose is preferred to the inside of a code block; a question
    with no words keeps its text as it is."""
    prose: list[str] = []
    code: str | None = None
    in_fence = False
    for raw in question[:_TITLE_SCAN_CHARS].splitlines():
        fence = _FENCE.match(raw) is not None
        if prose:  # a paragraph runs on over soft line breaks, up to the next block
            if (
                fence
                or not raw.strip()
                or _starts_block(raw)
                or sum(map(len, prose)) > TITLE_LENGTH
            ):
                break
            more = _plain_line(raw)
            if not _LETTER.search(more):  # a rule under a table's header, say
                break
            prose.append(more)
            continue
        if fence:
            in_fence = not in_fence
            continue
        line = " ".join(raw.split()) if in_fence else _plain_line(raw)
        if not _LETTER.search(line):
            continue
        if in_fence:
            code = code or line
            continue
        prose.append(line)
        if _starts_block(raw):  # a heading, list item or quote is a block of its own
            break
    title = " ".join(prose).rstrip(":") or code or question[:_TITLE_SCAN_CHARS]
    return shorten(title)


def shorten(text: str, limit: int = TITLE_LENGTH) -> str:
    """``text`` on one line of at most ``limit`` characters, cut at a word when one ends
    near the limit, with "…" where it was cut."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:  # a word ends near the limit: cut there, not mid-word
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def _starts_block(line: str) -> bool:
    found = _BLOCK_MARKS.match(line)
    return found is not None and bool(found.group().strip())


def _plain_line(line: str) -> str:
    text = _BLOCK_MARKS.sub("", line, count=1)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = text.strip().strip("|").strip()  # a table row's outer bars
    return " ".join(text.split())
