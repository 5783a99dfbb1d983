"""The block splitter behind the message body: plain Python, no Qt."""

from __future__ import annotations

from desktop.widgets._blocks import split_blocks

ANSWER = (
    "Here is **how**:\n\n"
    '```python\ndef greet(name):\n    return f"hi {name}"\n```\n\n'
    "Then run it.\n\n"
    "~~~\nplain\n~~~\n"
    "Done.\n"
)


def test_fenced_code_becomes_its_own_block_with_its_language():
    blocks = split_blocks(ANSWER, final=True)
    assert [(b.kind, b.language) for b in blocks] == [
        ("prose", ""),
        ("code", "python"),
        ("prose", ""),
        ("code", ""),
        ("prose", ""),
    ]
    assert blocks[1].text == 'def greet(name):\n    return f"hi {name}"'
    assert all(b.closed for b in blocks)
    assert blocks[-1].end == len(ANSWER)


def test_streaming_in_any_pieces_ends_with_the_blocks_of_a_one_shot_split():
    one_shot = split_blocks(ANSWER, final=True)
    for n in range(len(ANSWER) + 1):
        partial = split_blocks(ANSWER[:n], final=False)
        closed = [b for b in partial if b.closed]
        # A block said to be closed never changes when more text comes.
        assert closed == one_shot[: len(closed)], n
        assert all(b.closed for b in partial[:-1]), n


def test_an_unclosed_fence_stays_open_until_the_text_is_final():
    text = "Look:\n\n```js\nlet a = 1;\nlet b"
    streaming = split_blocks(text, final=False)
    assert streaming[-1].kind == "code"
    assert streaming[-1].text == "let a = 1;\nlet b"
    assert not streaming[-1].closed
    assert split_blocks(text, final=True)[-1].closed


def test_an_unfinished_line_that_may_become_a_fence_is_held_back():
    blocks = split_blocks("Intro\n\n``", final=False)
    assert "".join(b.text for b in blocks) == "Intro\n\n"
    blocks = split_blocks("Intro\n\n```pyth", final=False)
    assert "`" not in "".join(b.text for b in blocks)


def test_long_prose_is_cut_between_paragraphs_but_never_inside_a_list():
    text = (
        "A paragraph of words.\n\n- item one\n\n- item two\n\n"
        "    indented continuation\n\n> a quote\n\nNext paragraph.\n"
    )
    blocks = split_blocks(text, final=True, min_prose=1)
    assert [b.text for b in blocks] == [
        "A paragraph of words.\n\n- item one\n\n- item two\n\n    indented continuation\n\n"
        "> a quote\n\n",
        "Next paragraph.\n",
    ]


def test_short_prose_is_not_cut():
    text = "One.\n\nTwo.\n\nThree.\n"
    assert len(split_blocks(text, final=True)) == 1
