"""Conversation titles: the first one, made from the first question (``title_for``), and the
one the local model writes after the first reply.

Plain Python with no thread of its own: whoever owns the model (the desktop's model thread,
the CLI) asks with ``title_prompt`` and ``TITLE_OPTIONS`` and passes the answer to
``clean_title``, which keeps it to one short plain line and falls back to ``title_for`` when
the model wrote nothing usable.

    reply = session.chat(title_prompt(question, answer), TITLE_OPTIONS)
    title = clean_title(reply.answer, question)
"""

from __future__ import annotations

import re

from engine.chat_template import ChatMessage
from engine.inference.types import GenerationOptions

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


# -- the model's title -----------------------------------------------------------------------

# What the model is shown of the exchange: enough to name it, little enough to be quick.
_QUESTION_CHARS = 1500
_ANSWER_CHARS = 1500
# The model's output is untrusted text that may ramble: only its start is read.
_OUTPUT_CHARS = 2000
# A "title" of more words than this is an answer, not a title.
_MAX_WORDS = 15

# Short and nearly deterministic; a reasoning model's thinking is cut to the minimum (a
# budget of 0 would mean the model's default).
TITLE_OPTIONS = GenerationOptions(temperature=0.2, max_tokens=24, thinking_budget=1, seed=1)

_SYSTEM = (
    "You name conversations. Reply with a title of three to six words that says what the "
    "conversation is about. Write only the title: no quotes, no punctuation at the end, "
    "no explanation."
)

_ASK = "Write a short title for this conversation."
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_LEAD_IN = re.compile(
    r"^(?:(?:sure|okay|ok|certainly|of course|here(?:'s| is)(?: a| the| your)?(?: short)?"
    r"(?: title)?(?: for (?:this|the) conversation)?)\b[\s,!.:–—-]*)*"
    r"(?:(?:conversation\s+)?title\s*[:–—-]\s*)?",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?]\s+\S")  # more than one sentence
_ECHO = re.compile(r"\btitle for this conversation\b", re.IGNORECASE)
_QUOTES = "\"'“”‘’«»„`"


def title_prompt(question: str, answer: str) -> list[ChatMessage]:
    """The messages that ask a model to name the exchange ``question`` → ``answer`` (each cut
    to its first 1,500 characters). Send them with ``TITLE_OPTIONS``."""
    return [
        ChatMessage("system", _SYSTEM),
        ChatMessage(
            "user",
            f"Question:\n{question[:_QUESTION_CHARS]}\n\nAnswer:\n{answer[:_ANSWER_CHARS]}\n\n"
            f"{_ASK}",
        ),
    ]


def clean_title(model_output: str, question: str) -> str:
    """The model's title as one plain line of at most ``TITLE_LENGTH`` characters: Markdown,
    quotes, a lead-in ("Sure! Title: …") and end punctuation taken off. When nothing usable
    is left (empty, no words, a sentence of an answer), ``title_for(question)``."""
    text = _THINK_BLOCK.sub("", model_output[:_OUTPUT_CHARS])
    for raw in text.splitlines():
        if _FENCE.match(raw):
            continue
        line = _LEAD_IN.sub("", _plain_line(raw), count=1)
        line = line.strip(_QUOTES + " ").rstrip(".!;:,").strip(_QUOTES + " ")
        if not _LETTER.search(line):
            continue  # "Here is a title:" with the title on the next line, or no words
        if len(line.split()) > _MAX_WORDS or _SENTENCE_END.search(line) or _ECHO.search(line):
            break  # the model answered, or repeated the request, instead of naming it
        return shorten(line)
    return title_for(question)
