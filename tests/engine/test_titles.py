"""Conversation titles made from the first question."""

from __future__ import annotations

import time

import pytest

from engine.titles import TITLE_LENGTH, title_for


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
