"""A turn end to end: real starter model, real encrypted store, real keychain."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import engine.chat
import engine.policy
from engine.catalog import Catalog
from engine.chat import Chat, history
from engine.errors import PromptTooLong
from engine.inference import (
    Answer,
    FinishReason,
    GenerationControl,
    GenerationOptions,
    ModelSession,
    open_model,
)
from engine.policy import Action, EgressAttempt, Mode
from engine.storage import (
    Message,
    StorageError,
    open_memory_store,
    open_store,
)

SHORT = GenerationOptions(max_tokens=12, temperature=0.0)


@pytest.fixture(scope="module")
def session(starter_model_path: Path, catalog: Catalog) -> Iterator[ModelSession]:
    with open_model(starter_model_path, entry=catalog.default, n_ctx=1024) as s:
        yield s


def _answer(turn: engine.chat.Turn) -> str:
    return "".join(c.text for c in turn if isinstance(c, Answer))


def test_a_turn_saves_the_question_and_the_finished_reply(session, store, tmp_path):
    chat = Chat(store, session, system_prompt="Be brief.")
    turn = chat.send("What is the capital of France?", SHORT)
    # Stored before the first token: a crash from here on loses nothing the person typed.
    assert store.get_message(turn.question.id).content == "What is the capital of France?"
    assert store.get_message(turn.reply_id).status == "streaming"
    answer = _answer(turn)
    assert answer
    assert chat.conversation_id is not None
    conv = store.get_conversation(chat.conversation_id)
    assert conv.title == "What is the capital of France?"
    assert conv.system_prompt == "Be brief."
    path = store.active_path(chat.conversation_id)
    assert [(m.role, m.status) for m in path] == [("user", "done"), ("assistant", "done")]
    assert path[1].content == answer == turn.reply.content
    assert path[1].model_id == session.model_id
    assert path[1].stats.generated_tokens == turn.result.stats.generated_tokens > 0
    assert path[1].stats.tokens_per_second > 0
    store.close()
    # And it is all there after reopening the encrypted file.
    with open_store(tmp_path / "hearth.db") as again:
        assert [m.content for m in again.active_path(chat.conversation_id)] == [
            "What is the capital of France?",
            answer,
        ]


def test_the_reply_is_saved_while_it_grows(session, store, monkeypatch):
    monkeypatch.setattr(engine.chat, "SAVE_INTERVAL_S", 0.0)
    turn = Chat(store, session).send("Count from one to twenty.", SHORT)
    seen = []
    for chunk in turn:
        if isinstance(chunk, Answer):
            saved = store.get_message(turn.reply_id)
            seen.append((saved.status, saved.content))
    assert seen[-1][0] == "streaming"
    assert seen[-1][1]  # text reached the database before the reply finished
    assert turn.reply.status == "done"


def test_the_second_turn_sends_the_first_answer_and_reuses_the_cache(session, store):
    chat = Chat(store, session)
    first = _answer(chat.send("Name a colour.", SHORT))
    turn = chat.send("Name another one.", SHORT)
    path = store.active_path(chat.conversation_id)
    sent = history(path[:-1])
    assert [(m.role, m.content) for m in sent] == [
        ("user", "Name a colour."),
        ("assistant", first),
        ("user", "Name another one."),
    ]
    _answer(turn)
    stats = turn.result.stats
    assert stats.evaluated_tokens < stats.prompt_tokens  # the first turn came from the cache


def test_stop_keeps_the_partial_reply_as_interrupted(session, store):
    control = GenerationControl()
    turn = Chat(store, session).send(
        "Write a long story about the sea.", GenerationOptions(max_tokens=200), control
    )
    parts = []
    for chunk in turn:
        if isinstance(chunk, Answer):
            parts.append(chunk.text)
            if len(parts) == 5:
                control.cancel()
    assert turn.result.finish_reason is FinishReason.CANCELLED
    assert turn.reply.status == "interrupted"
    assert turn.reply.content == "".join(parts)
    assert turn.reply.content


def test_a_prompt_longer_than_the_context_keeps_the_question(session, store):
    chat = Chat(store, session)
    question = "tell me about " + "the sea " * 2000
    turn = chat.send(question, SHORT)
    with pytest.raises(PromptTooLong):
        list(turn)
    path = store.active_path(chat.conversation_id)
    assert path[0].content == question
    assert path[1].status == "error"
    # The failed turn is not history: the next question is answered on its own.
    follow_up = chat.send("Hello.", SHORT)
    assert _answer(follow_up)
    assert [m.content for m in history(store.active_path(chat.conversation_id)[:-1])] == ["Hello."]


def test_regenerate_and_edit_make_branches(session, store):
    chat = Chat(store, session)
    first = chat.send("Say hello.", SHORT)
    _answer(first)
    again = chat.regenerate(first.reply_id, SHORT)
    _answer(again)
    assert [m.id for m in store.siblings(first.reply_id)] == [first.reply_id, again.reply_id]
    assert store.active_path(chat.conversation_id)[-1].id == again.reply_id
    edited = chat.edit(first.question.id, "Say goodbye.", SHORT)
    _answer(edited)
    path = store.active_path(chat.conversation_id)
    assert path[0].content == "Say goodbye."
    assert len(store.siblings(first.question.id)) == 2
    with pytest.raises(ValueError, match="regenerated"):
        chat.regenerate(first.question.id)


def test_a_save_that_fails_midway_still_shows_the_reply_then_says_so(session, store):
    turn = Chat(store, session).send(
        "Write a long story about the sea.", GenerationOptions(max_tokens=40)
    )
    shown: list[str] = []

    def read_on() -> None:
        for chunk in turn:
            if isinstance(chunk, Answer):
                shown.append(chunk.text)
                if len(shown) == 3:
                    store.close()  # the disk goes away mid-reply

    with pytest.raises(StorageError):
        read_on()
    assert len(shown) > 3  # the person kept reading the reply
    assert isinstance(turn.save_error, StorageError)


def test_the_memory_store_writes_nothing(session, fresh_profile):
    with open_memory_store() as store:
        assert not store.saved
        assert "Not saved" in store.protection_description
        turn = Chat(store, session).send("What is two plus two?", SHORT)
        assert _answer(turn)
        assert turn.reply.status == "done"
        with pytest.raises(StorageError, match="not saved to disk"):
            store.backup(fresh_profile / "b.db", "a long passphrase")
    assert not [p for p in fresh_profile.rglob("*") if p.is_file()]


def test_history_never_sends_thinking():
    def msg(i: int, role: str, content: str, thinking: str = "", status: str = "done"):
        now = datetime.now(UTC)
        return Message(i, 1, i - 1 or None, role, content, thinking, "m", status, None, now, now)

    path = [
        msg(1, "user", "q1"),
        msg(2, "assistant", "a1", thinking="secret musing"),
        msg(3, "user", "q2"),
        msg(4, "assistant", "", status="error"),
        msg(5, "user", "q3"),
    ]
    sent = history(path, "sys")
    assert [(m.role, m.content) for m in sent] == [
        ("system", "sys"),
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "q3"),
    ]


def test_a_new_conversation_is_titled_without_its_markdown(session, store):
    turn = Chat(store, session).send(
        "```python\nprint(1)\n```\n**Why** does this print one?", SHORT
    )
    _answer(turn)
    conv = store.get_conversation(turn.question.conversation_id)
    assert conv.title == "Why does this print one?"


def test_the_egress_ledger_is_kept_in_the_store(store):
    ledger = engine.policy.ledger()
    before = EgressAttempt(
        datetime.now(UTC),
        Action.CONNECT,
        "example.org",
        443,
        "tests",
        Mode.LOCAL_ONLY,
        allowed=False,
    )
    ledger.record(before)  # recorded before the store exists: replayed when attached
    ledger.attach(store.record_egress)
    try:
        with pytest.raises(engine.policy.EgressBlocked):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
    finally:
        ledger.detach()
    kept = store.egress_history()
    assert any(
        e.host == "example.org"
        and e.port == 443
        and e.module == "tests"
        and abs((e.time - before.time).total_seconds()) < 0.001
        for e in kept
    )
    assert any(e.host == "127.0.0.1" and e.port == 9 and not e.allowed for e in kept)
    assert store.egress_count() == len(kept)


def test_a_stopped_reply_is_continued_in_place(session, store):
    chat = Chat(store, session)
    control = GenerationControl()
    turn = chat.send(
        "Write a long story about the sea.", GenerationOptions(max_tokens=200), control
    )
    parts = 0
    for chunk in turn:
        if isinstance(chunk, Answer):
            parts += 1
            if parts == 6:
                control.cancel()
    partial = turn.reply.content
    assert turn.reply.status == "interrupted" and partial

    more = chat.continue_reply(turn.reply_id, GenerationOptions(max_tokens=20))
    new_text = _answer(more)
    assert new_text
    assert more.reply.id == turn.reply_id  # the same message grew
    assert more.reply.status == "done"
    assert more.reply.content == partial + new_text
    (conv_path) = store.active_path(chat.conversation_id)
    assert [m.id for m in conv_path] == [turn.question.id, turn.reply_id]
    # The model saw the question and the partial answer; most of it came from the cache.
    stats = more.result.stats
    assert stats.evaluated_tokens < stats.prompt_tokens
    with pytest.raises(ValueError, match="stopped"):
        chat.continue_reply(turn.reply_id)  # done now: nothing to continue


def test_a_reply_stopped_before_any_answer_is_answered_afresh(session, store):
    chat = Chat(store, session)
    control = GenerationControl()
    control.cancel()  # stopped before the first token
    first = chat.send("Say hello.", SHORT, control)
    list(first)
    assert first.reply.status == "interrupted" and first.reply.content == ""
    again = chat.continue_reply(first.reply_id, SHORT)
    assert _answer(again)
    assert again.reply_id != first.reply_id
    assert [m.id for m in store.siblings(first.reply_id)] == [first.reply_id, again.reply_id]
