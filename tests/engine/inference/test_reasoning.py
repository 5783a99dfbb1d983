"""The reasoning split on crafted token streams (the starter model never writes </think>)."""

from __future__ import annotations

import pytest

from engine.inference.reasoning import Part, ReasoningSplitter


def run(pieces: list[str], *, starts_inside: bool = False) -> tuple[str, str]:
    splitter = ReasoningSplitter("<think>", "</think>", starts_inside=starts_inside)
    out = []
    for piece in pieces:
        out += splitter.feed(piece)
    out += splitter.flush()
    thinking = "".join(t for p, t in out if p is Part.THINKING)
    answer = "".join(t for p, t in out if p is Part.ANSWER)
    return thinking, answer


def test_plain_answer_has_no_thinking():
    assert run(["Hello", " there", "."]) == ("", "Hello there.")


def test_model_opens_and_closes_the_block():
    assert run(["<think>", "\nsome ", "reasoning\n", "</think>", "\n\nThe answer."]) == (
        "some reasoning\n",
        "The answer.",
    )


def test_template_opened_block_starts_as_thinking():
    assert run(["step one", "</think>", "done"], starts_inside=True) == ("step one", "done")


TEXT = "<think>\nplan it</think>\n\nAnswer: 42"


@pytest.mark.parametrize("cut", range(1, len(TEXT)))
def test_markers_split_anywhere_across_tokens(cut: int):
    assert run([TEXT[:cut], TEXT[cut:]]) == ("plan it", "Answer: 42")


def test_one_character_at_a_time():
    assert run(list(TEXT)) == ("plan it", "Answer: 42")


def test_template_opened_close_marker_split_one_character_at_a_time():
    assert run(list("a < b, so</think>yes"), starts_inside=True) == ("a < b, so", "yes")


def test_look_alike_of_the_marker_is_kept_as_text():
    assert run(["</thin", "king about it</think>ok"], starts_inside=True) == (
        "</thinking about it",
        "ok",
    )


def test_marker_quoted_inside_the_answer_is_not_a_block():
    assert run(["Use the <think> tag like <think>this</think>."]) == (
        "",
        "Use the <think> tag like <think>this</think>.",
    )


def test_second_block_after_answer_is_answer_text():
    assert run(["<think>a</think>b<think>c</think>"]) == ("a", "b<think>c</think>")


def test_unclosed_block_stays_thinking_and_flushes_partial_marker():
    assert run(["<think>still going </thi"]) == ("still going </thi", "")


def test_close_thinking_turns_the_rest_into_answer():
    splitter = ReasoningSplitter("<think>", "</think>", starts_inside=True)
    assert splitter.feed("thinking") == [(Part.THINKING, "thinking")]
    splitter.close_thinking()
    assert not splitter.in_thinking
    assert splitter.feed("\n\nanswer") == [(Part.ANSWER, "answer")]


def test_other_markers():
    splitter = ReasoningSplitter("[THINK]", "[/THINK]", starts_inside=False)
    out = splitter.feed("[THINK]x[/THI") + splitter.feed("NK]y") + splitter.flush()
    assert out == [(Part.THINKING, "x"), (Part.ANSWER, "y")]
