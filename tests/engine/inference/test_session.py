"""Real llama.cpp with the real starter model: streaming, cancel, KV reuse, trimming."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.errors import PromptTooLong
from engine.inference import (
    Answer,
    ChatMessage,
    Finished,
    FinishReason,
    GenerationControl,
    GenerationOptions,
    ModelSession,
    Notice,
    NoticeKind,
    Reply,
    open_model,
)

QUESTION = [ChatMessage("user", "List five animals that live in the sea.")]
GREEDY = GenerationOptions(temperature=0, max_tokens=48)


def test_stream_yields_text_then_a_finished_reply_with_stats(session: ModelSession):
    chunks = list(session.stream_chat(QUESTION, GREEDY))
    answers = [c.text for c in chunks if isinstance(c, Answer)]
    assert len(answers) > 3, "the reply should arrive in many pieces, not at once"
    assert isinstance(chunks[-1], Finished)
    reply = chunks[-1].reply
    assert reply.answer == "".join(answers)
    assert reply.answer.strip()
    s = reply.stats
    assert s.prompt_tokens > 10
    assert s.evaluated_tokens == s.prompt_tokens  # nothing cached before the first turn
    assert 0 < s.generated_tokens <= 48
    assert s.time_to_first_token_s > 0
    assert s.tokens_per_second > 0


def test_greedy_generation_is_deterministic(session: ModelSession):
    first = session.chat(QUESTION, GREEDY).answer
    assert session.chat(QUESTION, GREEDY).answer == first


def test_cancel_mid_stream_keeps_the_partial_reply(session: ModelSession):
    control = GenerationControl()
    seen = []
    final = None
    for chunk in session.stream_chat(QUESTION, GenerationOptions(temperature=0), control):
        if isinstance(chunk, Answer):
            seen.append(chunk.text)
            if len(seen) == 3:
                control.cancel()
        elif isinstance(chunk, Finished):
            final = chunk.reply
    assert final is not None
    assert final.finish_reason is FinishReason.CANCELLED
    assert final.answer == "".join(seen)
    assert final.stats.generated_tokens == 3
    # The session is still usable after a cancel.
    assert session.chat(QUESTION, GREEDY).answer.strip()


def test_cancel_from_another_thread(session: ModelSession):
    """Stop pressed on another thread while the owner thread streams. The consumer holds after
    the first piece until the cancel is made, so the outcome does not depend on timing: the
    reply finishes as CANCELLED with that one piece, never as a reply the model ended."""
    control = GenerationControl()
    first_piece = threading.Event()
    cancel_made = threading.Event()
    seen: list[str] = []
    results: list[Reply] = []

    def consume() -> None:
        options = GenerationOptions(temperature=0, max_tokens=2000)
        for chunk in session.stream_chat(QUESTION, options, control):
            if isinstance(chunk, Answer):
                seen.append(chunk.text)
                if not first_piece.is_set():
                    first_piece.set()
                    cancel_made.wait(30)
            elif isinstance(chunk, Finished):
                results.append(chunk.reply)

    worker = threading.Thread(target=consume)
    worker.start()
    assert first_piece.wait(30)
    control.cancel()
    cancel_made.set()
    worker.join(30)
    assert not worker.is_alive()
    [reply] = results
    assert reply.finish_reason is FinishReason.CANCELLED
    assert len(seen) == 1 and reply.answer == seen[0]
    assert reply.stats.generated_tokens == 1


def test_second_turn_reuses_the_kv_cache(session: ModelSession):
    first = session.chat(QUESTION, GREEDY)
    history = [
        *QUESTION,
        ChatMessage("assistant", first.answer),
        ChatMessage("user", "Which of them is the largest?"),
    ]
    second = session.chat(history, GREEDY)
    batched, _single = session.last_prompt_counters  # llama.cpp's own n_p_eval
    assert second.stats.prompt_tokens > first.stats.prompt_tokens
    assert batched < second.stats.prompt_tokens
    assert batched == second.stats.evaluated_tokens
    # Only the new turn (plus the re-tokenized end of the last answer) is evaluated.
    assert second.stats.evaluated_tokens < second.stats.prompt_tokens - first.stats.prompt_tokens


def test_long_conversation_is_trimmed_with_a_notice(starter_model_path: Path, catalog: Catalog):
    with open_model(starter_model_path, entry=catalog.default, n_ctx=512) as s:
        filler = "The quick brown fox jumps over the lazy dog. " * 8
        history: list[ChatMessage] = []
        for i in range(8):
            history += [
                ChatMessage("user", f"Note {i}: {filler}"),
                ChatMessage("assistant", f"Noted {i}."),
            ]
        history.append(ChatMessage("user", "What was the last note number?"))
        chunks = list(s.stream_chat(history, GenerationOptions(temperature=0, max_tokens=16)))
        notices = [c for c in chunks if isinstance(c, Notice)]
        assert notices and notices[0].kind is NoticeKind.TRIMMED
        assert "oldest message" in notices[0].message
        reply = chunks[-1].reply  # type: ignore[union-attr]
        assert reply.finish_reason is not FinishReason.CANCELLED
        assert reply.stats.prompt_tokens + 16 <= 512


def test_message_longer_than_the_context_is_a_clear_error(
    starter_model_path: Path, catalog: Catalog
):
    secret = "zebra-canary " * 400
    with open_model(starter_model_path, entry=catalog.default, n_ctx=512) as s:
        with pytest.raises(PromptTooLong) as info:
            s.chat([ChatMessage("user", secret)])
        assert "zebra-canary" not in str(info.value)  # user text never in errors
        assert "context" in info.value.user_message
        # Nothing broke: a short question still works.
        assert s.chat(QUESTION, GREEDY).answer.strip()


def test_reply_that_fills_the_context_stops_with_a_notice(
    starter_model_path: Path, catalog: Catalog
):
    # Greedy, with a repetition penalty, the starter model keeps this story going past the
    # 256-token context (it has 217 tokens of room); so the context, not the model, ends it.
    with open_model(starter_model_path, entry=catalog.default, n_ctx=256) as s:
        chunks = list(
            s.stream_chat(
                [ChatMessage("user", "Write a very long story about a lighthouse keeper.")],
                GenerationOptions(temperature=0, repeat_penalty=1.3, seed=3),
            )
        )
        reply = chunks[-1].reply  # type: ignore[union-attr]
        assert reply.finish_reason is FinishReason.LENGTH
        notices = [c for c in chunks if isinstance(c, Notice)]
        assert [n.kind for n in notices] == [NoticeKind.CONTEXT_FULL]
        assert notices == list(reply.notices)
        assert reply.stats.prompt_tokens + reply.stats.generated_tokens == 256


def test_forget_wipes_the_cache_so_the_next_turn_starts_over(session: ModelSession):
    messages = [ChatMessage("user", "Hello!")]
    list(session.stream_chat(messages, GREEDY))
    again = list(session.stream_chat(messages, GREEDY))[-1].reply  # type: ignore[union-attr]
    assert again.stats.evaluated_tokens < again.stats.prompt_tokens  # reused
    assert any(session._native._batch_buf)  # the prompt's tokens are in the batch buffer
    session.forget()
    assert not any(session._native._batch_buf)  # wiped, not only marked free
    fresh = list(session.stream_chat(messages, GREEDY))[-1].reply  # type: ignore[union-attr]
    assert fresh.stats.evaluated_tokens == fresh.stats.prompt_tokens


def test_a_long_prompt_reports_how_far_it_has_been_read(session: ModelSession):
    """A waiting indicator reads the control between batches (no signal from the engine)."""
    control = GenerationControl()
    long_question = (
        "Please summarise this. " + "The quick brown fox jumps over the lazy dog. " * 150
    )
    seen: list[tuple[int, int]] = []
    for chunk in session.stream_chat(
        [ChatMessage("user", long_question)], GenerationOptions(max_tokens=2), control
    ):
        seen.append(control.prompt_progress)
        if isinstance(chunk, Finished):
            evaluated = chunk.reply.stats.evaluated_tokens
    done, total = seen[0]
    batch = 512  # the batch Hearth evaluates prompts in (engine/inference/_llama.py)
    assert total == evaluated > batch  # several batches to read
    assert 0 < done < total and done % batch == 0


def test_a_text_far_too_long_is_refused_before_the_tokenizer(session):
    from engine.errors import PromptTooLong
    from engine.inference import ChatMessage

    huge = "word " * (session.n_ctx * 20)  # over 64 characters a token of context
    with pytest.raises(PromptTooLong, match="far more than the model's"):
        list(session.stream_chat([ChatMessage("user", huge)]))
    assert session.count_tokens([ChatMessage("user", huge)]) > session.n_ctx
    # With history before it, the history is what is left out first, as always.
    fit = session.fit_prompt(
        [ChatMessage("user", huge), ChatMessage("assistant", "ok"), ChatMessage("user", "hi")],
        reserve=64,
    )
    assert fit.dropped == 2
