"""The chat's core under pressure, with the real model, store and keyring, driven by real key
presses and clicks: whatever is pressed while a reply starts or streams, the window never
sticks, every reply ends 'done' or 'interrupted' in its own conversation, and the next
question is answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from desktop.workers.inference_worker import UNEXPECTED
from engine.inference import GenerationOptions
from engine.inference.session import ModelSession
from engine.storage import ConversationStore, MessageStats, StoreOwner
from tests.desktop.window_helpers import LOAD_MS, REPLY_MS, SHORT, _window, ask, db, listed

LONG = GenerationOptions(max_tokens=1000, temperature=0.8, seed=7)
CTRL = Qt.KeyboardModifier.ControlModifier


def _click_conversation(qtbot: QtBot, window: MainWindow, conversation_id: int) -> None:
    model = window.sidebar.model
    qtbot.waitUntil(lambda: conversation_id in listed(window))
    row = next(
        r
        for r in range(model.rowCount())
        if model.conversation_id(model.index(r, 0)) == conversation_id
    )
    rect = window.sidebar.list_view.visualRect(model.index(row, 0))
    qtbot.mouseClick(
        window.sidebar.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )


def _press(qtbot: QtBot, window: MainWindow, action: str, other: int) -> None:
    typing = window.composer.text_edit
    if action == "new chat":
        qtbot.keyClick(typing, Qt.Key.Key_N, CTRL)
    elif action == "other conversation":
        _click_conversation(qtbot, window, other)
    elif action == "lock":
        qtbot.keyClick(typing, Qt.Key.Key_L, CTRL)
    else:
        qtbot.keyClick(typing, Qt.Key.Key_Escape)


def _every_reply_ended_in_its_own_conversation(store: ConversationStore) -> list[str]:
    statuses = []
    for conv in store.list_conversations():
        messages = {m.id: m for m in store.all_messages(conv.id)}
        for m in messages.values():
            if m.role == "assistant":
                question = messages[m.parent_id] if m.parent_id is not None else None
                assert question is not None and question.role == "user"
                assert question.conversation_id == m.conversation_id == conv.id
                statuses.append(m.status)
    return statuses


@pytest.mark.parametrize("when", ["starting", "streaming"])
@pytest.mark.parametrize("action", ["new chat", "other conversation", "lock", "stop"])
def test_pressed_while_a_reply_starts_or_streams_nothing_sticks(
    qtbot: QtBot, window: MainWindow, action: str, when: str
):
    ask(qtbot, window, "Say hi.")
    (first,) = db(window).list_conversations()
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_N, CTRL)
    window.session.options = LONG
    qtbot.keyClicks(window.composer.text_edit, "Write a long story about the sea.")
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS) as ended:
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
        if when == "streaming":
            qtbot.waitUntil(
                lambda: len(window.transcript.messages()[-1].plain_text()) > 40, timeout=REPLY_MS
            )
        _press(qtbot, window, action, first.id)
    assert ended.args[0].status == "interrupted"
    qtbot.waitUntil(lambda: not window.session.busy, timeout=REPLY_MS)
    assert not window.composer.is_busy()

    if action == "lock":
        qtbot.waitUntil(window.lock_screen.unlock_button.isEnabled, timeout=10_000)
        qtbot.mouseClick(window.lock_screen.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.is_locked(), timeout=10_000)
    if action == "other conversation":
        qtbot.waitUntil(lambda: window.session.conversation_id == first.id)
    statuses = _every_reply_ended_in_its_own_conversation(db(window))
    assert sorted(statuses) == ["done", "interrupted"]

    # The next question is answered, in the conversation now open.
    window.session.options = SHORT
    open_before = window.session.conversation_id
    ask(qtbot, window, "What is the capital of France?")
    reply = window.transcript.messages()[-1]
    assert reply.status() == "done" and reply.plain_text().strip()
    stored = db(window).get_message(reply.message_id())
    assert stored.status == "done" and stored.content == reply.text()
    if open_before is not None:
        assert stored.conversation_id == open_before
    assert sorted(_every_reply_ended_in_its_own_conversation(db(window))) == [
        "done",
        "done",
        "interrupted",
    ]


def _stored_with_thinking(store: ConversationStore) -> int:
    """A conversation whose first reply has thinking and stats (as a reasoning model leaves
    it), written before the window opens."""
    conv = store.create_conversation("Primes")
    q = store.add_message(conv.id, None, "user", "Is 91 prime?")
    r = store.begin_reply(conv.id, q.id, "starter")
    store.finish_reply(r.id, "No: 7 × 13.", "91 = 7 × 13.", "done", MessageStats(30, 12, 0.2, 40.0))
    return conv.id


def test_regenerate_and_edit_leave_every_earlier_message_intact(
    qtbot: QtBot, store: ConversationStore, starter_model_path: Path
):
    conversation_id = _stored_with_thinking(store)
    owner = StoreOwner(store)
    window = _window(qtbot, owner)
    try:
        window.session.options = SHORT
        qtbot.waitUntil(lambda: window.session.ready, timeout=LOAD_MS)
        window.open_conversation(conversation_id)
        qtbot.waitUntil(lambda: len(window.transcript.messages()) == 2)
        earlier = window.transcript.messages()
        ask(qtbot, window, "And 97?")
        widgets = window.transcript.messages()
        assert len(widgets) == 4

        def earlier_intact() -> None:
            now = window.transcript.messages()
            assert now[:2] == earlier  # the same widgets: not rebuilt from text
            reply = now[1]
            assert not reply.thinking_section.isHidden()
            assert "91 = 7 × 13." in reply.thinking_section.text()
            assert "40.0 tokens/s" in reply.toolTip()

        earlier_intact()
        first_reply = widgets[3]
        assert "tokens/s" in first_reply.toolTip()
        with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
            qtbot.mouseClick(first_reply.regenerate_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.transcript.messages()[3].branch_label_text() == "2/2")
        earlier_intact()
        assert window.transcript.messages()[2] is widgets[2]  # the question stayed too

        question = window.transcript.messages()[2]
        qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
        question.edit_box.selectAll()
        qtbot.keyClicks(question.edit_box, "And 101?")
        with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
            qtbot.keyClick(question.edit_box, Qt.Key.Key_Return, CTRL)
        # The new version's switcher shows at once, without reopening the conversation.
        qtbot.waitUntil(lambda: window.transcript.messages()[2].branch_label_text() == "2/2")
        earlier_intact()
        shown = window.transcript.messages()
        assert shown[2].text() == "And 101?" and shown[3].status() == "done"
    finally:
        window.close()
        owner.close()


def test_an_unexpected_error_in_the_model_thread_shows_on_that_reply(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
):
    real = ModelSession.stream_chat

    def breaks_after_three_chunks(self, *args, **kwargs):
        for n, chunk in enumerate(real(self, *args, **kwargs)):
            if n == 3:
                raise RuntimeError("a bug, not a HearthError")
            yield chunk

    monkeypatch.setattr(ModelSession, "stream_chat", breaks_after_three_chunks)
    qtbot.keyClicks(window.composer.text_edit, "Tell me about owls.")
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS) as ended:
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    assert ended.args[0].status == "error"
    reply = window.transcript.messages()[-1]
    assert reply.status() == "error"
    assert reply.error_label.isVisible() and reply.error_label.text() == UNEXPECTED
    qtbot.waitUntil(lambda: not window.composer.is_busy())
    stored = db(window).get_message(reply.message_id())
    assert stored.status == "error"

    monkeypatch.setattr(ModelSession, "stream_chat", real)
    ask(qtbot, window, "What is the capital of France?")
    assert window.transcript.messages()[-1].status() == "done"


def test_the_local_model_names_a_new_conversation_after_its_first_reply(
    qtbot: QtBot, window: MainWindow
):
    question = "# Why does `print('hello')` print **hello**?"
    with qtbot.waitSignal(window.session.worker.title_written, timeout=REPLY_MS) as named:
        ask(qtbot, window, question)
    (conv,) = db(window).list_conversations()
    assert named.args == [conv.id]
    title = db(window).get_conversation(conv.id).title
    assert title.strip() and "\n" not in title and len(title) <= 60
    assert "`" not in title and "**" not in title and not title.startswith("#")
    # The sidebar shows the new name, and the next question is answered as usual.
    qtbot.waitUntil(lambda: getattr(window.sidebar.model.summary(conv.id), "title", "") == title)
    ask(qtbot, window, "Thanks. And in one word?")
    assert window.transcript.messages()[-1].status() == "done"
