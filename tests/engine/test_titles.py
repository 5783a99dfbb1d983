"""Conversation titles: the first question's, and the one the model writes (real model)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.inference import ModelSession, open_model
from engine.titles import TITLE_LENGTH, TITLE_OPTIONS, clean_title, title_for, title_prompt

MARKDOWN = "*_`#>[]()"


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("  Plan a\ntrip  to Lisbon ", "Plan a trip to Lisbon"),
        ("```python\nprint(sorted(d))\n```\nWhy is this slow?", "Why is this slow?"),
        ("```python\nimport os\n```", "import os"),  # only code: its first line
        ("## **Plan** a [trip](https://example.org/x) to _Lisbon_", "Plan a trip to Lisbon"),
        ("> `grep -r` finds nothing\n\nWhy?", "grep -r finds nothing"),
        ("- [ ] buy flour\n- [ ] feed the starter", "buy flour"),
        ("1. Preheat the oven", "Preheat the oven"),
        ("---\n\n***\n\n### Heading after rules", "Heading after rules"),
        ("![a cat](cat.png) what breed is this?", "a cat what breed is this?"),
        ("Explain this error:\n```\nKeyError: 'x'\n```", "Explain this error"),
        ("what does snake_case_name mean?", "what does snake_case_name mean?"),
        ("| name | age |\n|---|---|", "name | age"),
        ("???", "???"),  # no words anywhere: the text as it is
        ("", ""),
    ],
)
def test_the_first_title_is_the_first_words_without_markdown(question: str, title: str):
    assert title_for(question) == title


def test_a_long_first_line_is_cut_at_a_word_with_an_ellipsis():
    title = title_for("Could you please explain how the sourdough starter fermentation works " * 3)
    assert len(title) <= TITLE_LENGTH
    assert title.endswith("…") and not title.endswith(" …")
    assert title.startswith("Could you please explain how the sourdough starter")
    unbroken = title_for("x" * 500)
    assert len(unbroken) == TITLE_LENGTH and unbroken.endswith("…")


def test_a_huge_pasted_question_is_read_only_at_its_start():
    started = time.monotonic()
    title = title_for("> " * 2_000_000 + "words")
    assert time.monotonic() - started < 1.0
    assert "\n" not in title and len(title) <= TITLE_LENGTH


def test_the_prompt_carries_the_exchange_cut_short():
    system, user = title_prompt("Q" * 5000, "A" * 5000)
    assert system.role == "system" and "title" in system.content
    assert user.role == "user"
    assert "Q" * 1500 in user.content and "Q" * 1501 not in user.content
    assert "A" * 1500 in user.content and "A" * 1501 not in user.content


QUESTION = "How do I keep a **sourdough** starter alive on holiday?"
FALLBACK = "How do I keep a sourdough starter alive on holiday?"


@pytest.mark.parametrize(
    ("output", "title"),
    [
        ("Sourdough care on holiday", "Sourdough care on holiday"),
        ('"Sourdough Care on Holiday."', "Sourdough Care on Holiday"),
        ("**Title:** *Sourdough care*", "Sourdough care"),
        ("Sure! Here's a title:\n\n“Keeping a starter alive”", "Keeping a starter alive"),
        ("<think>The person asks about bread.</think>\nStarter on holiday", "Starter on holiday"),
        ("# Okapi facts", "Okapi facts"),  # "Ok…" is a word here, not a lead-in
        ("Title - " + "Sourdough " * 5, "Sourdough Sourdough Sourdough Sourdough Sourdough"),
    ],
)
def test_the_model_title_is_one_plain_line(output: str, title: str):
    assert clean_title(output, QUESTION) == title


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   \n\n",
        "```\n\n```",
        "...!!!",
        "<think>still thinking when the tokens ran out",
        "Here is a title:",
        "Feed it before you go. Then keep it in the fridge and feed it twice when back.",
        "To keep a starter alive you feed it flour and water every day and keep it warm enough",
        "Write a short title for this conversation.",  # the request, repeated
        "«»“”''",
    ],
)
def test_junk_from_the_model_falls_back_to_the_question(junk: str):
    assert clean_title(junk, QUESTION) == FALLBACK


def test_a_long_model_title_is_shortened():
    title = clean_title("Keeping a Sourdough Starter Alive While Travelling Abroad For Weeks", "q")
    assert len(title) <= TITLE_LENGTH and title.endswith("…")


@pytest.fixture(scope="module")
def session(starter_model_path: Path, catalog: Catalog) -> Iterator[ModelSession]:
    with open_model(starter_model_path, entry=catalog.default, n_ctx=1024) as s:
        yield s


def test_the_starter_model_writes_a_short_plain_title(session: ModelSession):
    question = "How do I keep a sourdough starter alive while I am away for two weeks?"
    answer = "Feed it, then keep it in the fridge. Feed it twice when you are back."
    reply = session.chat(title_prompt(question, answer), TITLE_OPTIONS)
    assert reply.stats.generated_tokens <= TITLE_OPTIONS.max_tokens
    title = clean_title(reply.answer, question)
    assert title.strip()
    assert len(title) <= TITLE_LENGTH
    assert "\n" not in title
    assert not any(ch in title for ch in MARKDOWN + '"“”')
