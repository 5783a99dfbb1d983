"""Fuzzing the reasoning split: any text, cut into tokens anywhere, splits as the whole text
does; the parts are the text less its markers (and the whitespace each part starts with)."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from engine.inference.reasoning import Part, ReasoningSplitter
from tests._fuzz import run_fuzz

# Marker pairs models use, and made-up ones that overlap themselves ("aab" in "aaab") or
# share characters with each other, where holding back a partial marker is hardest.
KNOWN = [("<think>", "</think>"), ("[THINK]", "[/THINK]"), ("<|thought|>", "<|/thought|>")]
_marker = st.text(alphabet="ab<>/|", min_size=1, max_size=4)
markers = st.sampled_from(KNOWN) | st.tuples(_marker, _marker)


@st.composite
def streams(draw: st.DrawFn) -> tuple[str, str, bool, str, list[str]]:
    """Markers, whether the template opened the block, the reply, and the reply in tokens."""
    open_marker, close_marker = draw(markers)
    pieces = [open_marker, close_marker, " ", "\n", "\u3000"]  # \u3000: Unicode whitespace
    pieces += [m[:n] for m in (open_marker, close_marker) for n in range(1, len(m))]
    text = "".join(draw(st.lists(st.sampled_from(pieces) | st.text(max_size=4), max_size=24)))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=len(text) + 1))))
    bounds = [0, *cuts, len(text)]
    tokens = [text[a:b] for a, b in itertools.pairwise(bounds)]
    return open_marker, close_marker, draw(st.booleans()), text, tokens


def split(open_marker: str, close_marker: str, inside: bool, tokens: list[str]):
    splitter = ReasoningSplitter(open_marker, close_marker, starts_inside=inside)
    out = []
    for token in tokens:
        out += splitter.feed(token)
    return out + splitter.flush()


def expected(open_marker: str, close_marker: str, inside: bool, text: str) -> tuple[str, str]:
    """The split of the whole text at once, written from the rules, not from the splitter."""
    if not inside:
        text = text.lstrip()
        if not text.startswith(open_marker):
            return "", text  # no block: all answer, markers and all
        text = text[len(open_marker) :]
    thinking, found, answer = text.partition(close_marker)
    return thinking.lstrip(), answer.lstrip() if found else ""


def test_any_cut_of_a_reply_splits_as_the_whole_reply_does():
    def one(stream: tuple[str, str, bool, str, list[str]]) -> None:
        open_marker, close_marker, inside, text, tokens = stream
        out = split(open_marker, close_marker, inside, tokens)
        parts = [part for part, _ in out]
        # Thinking first, then answer: once the answer starts, nothing is thinking again.
        assert parts == sorted(parts, key=lambda p: p is Part.ANSWER)
        assert all(piece for _, piece in out), "an empty piece was emitted"
        thinking = "".join(t for p, t in out if p is Part.THINKING)
        answer = "".join(t for p, t in out if p is Part.ANSWER)
        assert (thinking, answer) == expected(open_marker, close_marker, inside, text)
        assert _merged(out) == _merged(split(open_marker, close_marker, inside, [text]))

    run_fuzz(one, streams())


def _merged(out: list[tuple[Part, str]]) -> list[tuple[Part, str]]:
    """Neighbouring pieces of one part joined (a stream gives one piece per token)."""
    merged: list[tuple[Part, str]] = []
    for part, text in out:
        if merged and merged[-1][0] is part:
            merged[-1] = (part, merged[-1][1] + text)
        else:
            merged.append((part, text))
    return merged


def test_the_reference_split_agrees_with_the_examples_written_by_hand():
    # The fuzz test's oracle, checked on the hand-written cases of test_reasoning.py.
    tags = ("<think>", "</think>")
    assert expected(*tags, False, "<think>\nplan it</think>\n\nAnswer: 42") == (
        "plan it",
        "Answer: 42",
    )
    assert expected(*tags, False, "<think>a</think>b<think>c</think>") == (
        "a",
        "b<think>c</think>",
    )
    assert expected(*tags, True, "a < b, so</think>yes") == ("a < b, so", "yes")
    assert expected(*tags, False, "<think>still going </thi") == ("still going </thi", "")
