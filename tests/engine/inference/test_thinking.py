"""Thinking and its budget with the real starter model.

The starter model never closes a think block by itself, so these tests give it a template
that opens one (as QwQ's does) and a small budget: the budget closes the block, and the model
then answers for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.catalog import Catalog, Reasoning
from engine.chat_template import CHATML
from engine.inference import (
    Answer,
    ChatMessage,
    Finished,
    GenerationControl,
    GenerationOptions,
    ModelSession,
    Notice,
    NoticeKind,
    Thinking,
    open_model,
)

OPENS_THINK = CHATML.replace("'<|im_start|>assistant\\n'", "'<|im_start|>assistant\\n<think>\\n'")
QUESTION = [ChatMessage("user", "Why is the sky blue?")]


@pytest.fixture
def thinker(starter_model_path: Path, catalog: Catalog) -> Iterator[ModelSession]:
    with open_model(
        starter_model_path,
        entry=catalog.default,
        n_ctx=2048,
        chat_template=OPENS_THINK,
        reasoning=Reasoning(template_opens=True, budget=6),
    ) as s:
        yield s


def test_template_opened_block_streams_thinking_then_budget_then_answer(thinker: ModelSession):
    native = thinker._native
    prompt = b"".join(native.piece(t, special=True) for t in thinker.tokenize_prompt(QUESTION))
    assert prompt.decode().endswith("<|im_start|>assistant\n<think>\n")  # the template opens it
    chunks = list(thinker.stream_chat(QUESTION, GenerationOptions(temperature=0, max_tokens=60)))
    kinds = [type(c).__name__ for c in chunks]
    assert kinds[0] == "Thinking"
    notice_at = next(i for i, c in enumerate(chunks) if isinstance(c, Notice))
    assert chunks[notice_at].kind is NoticeKind.BUDGET_REACHED  # type: ignore[union-attr]
    assert "budget of 6 tokens" in chunks[notice_at].message  # type: ignore[union-attr]
    assert all(isinstance(c, Thinking) for c in chunks[:notice_at])
    assert all(isinstance(c, Answer | Finished) for c in chunks[notice_at + 1 :])
    reply = chunks[-1].reply  # type: ignore[union-attr]
    assert reply.budget_reached
    assert reply.stats.thinking_tokens == 6
    assert reply.thinking.strip() and reply.answer.strip()
    assert "</think>" not in reply.answer and "<think>" not in reply.thinking
    assert reply.stats.thinking_seconds > 0


def test_budget_per_request_overrides_the_default(thinker: ModelSession):
    reply = thinker.chat(
        QUESTION, GenerationOptions(temperature=0, max_tokens=40, thinking_budget=3)
    )
    assert reply.stats.thinking_tokens == 3
    assert "budget of 3 tokens" in reply.notices[0].message


def test_answer_now_ends_thinking_early(starter_model_path: Path, catalog: Catalog):
    with open_model(
        starter_model_path,
        entry=catalog.default,
        n_ctx=2048,
        chat_template=OPENS_THINK,
        reasoning=Reasoning(template_opens=True, budget=1000),
    ) as s:
        control = GenerationControl()
        chunks = []
        for chunk in s.stream_chat(
            QUESTION, GenerationOptions(temperature=0, max_tokens=60), control
        ):
            chunks.append(chunk)
            if isinstance(chunk, Thinking):
                control.answer_now()
        notices = [c for c in chunks if isinstance(c, Notice)]
        assert [n.kind for n in notices] == [NoticeKind.ANSWER_NOW]
        reply = chunks[-1].reply  # type: ignore[union-attr]
        assert reply.stats.thinking_tokens < 1000
        assert reply.answer.strip()


def test_model_that_stops_inside_its_think_block_still_answers(
    starter_model_path: Path, catalog: Catalog
):
    # With a large budget the starter model ends its "thinking" with end-of-turn by itself.
    with open_model(
        starter_model_path,
        entry=catalog.default,
        n_ctx=2048,
        chat_template=OPENS_THINK,
        reasoning=Reasoning(template_opens=True, budget=1000),
    ) as s:
        reply = s.chat(QUESTION, GenerationOptions(temperature=0, max_tokens=80))
        assert reply.thinking.strip()
        assert reply.answer.strip()
        assert not reply.budget_reached


def test_continuing_an_answer_closes_the_template_opened_block_first(thinker: ModelSession):
    """A stopped answer is continued after the think block the template opened: the model
    is given the close marker and the answer so far, and streams answer text only."""
    chunks = list(
        thinker.stream_chat(
            QUESTION,
            GenerationOptions(temperature=0, max_tokens=12),
            answer_prefix="The sky looks blue because",
        )
    )
    assert not [c for c in chunks if isinstance(c, Thinking | Notice)]
    reply = chunks[-1].reply  # type: ignore[union-attr]
    assert reply.answer.strip() and not reply.thinking
    native = thinker._native
    prompt = b"".join(
        native.piece(t, special=True) for t in thinker._cached[: reply.stats.prompt_tokens]
    ).decode()
    assert prompt.endswith("<think>\n\n</think>\n\nThe sky looks blue because")
