"""One message: what it shows and what each of its buttons asks for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.widgets.message_widget import MessageWidget
from engine.inference import Notice, NoticeKind, Stats
from engine.storage import Message, MessageStats

STATS = Stats(
    prompt_tokens=512,
    evaluated_tokens=40,
    generated_tokens=180,
    thinking_tokens=0,
    time_to_first_token_s=0.42,
    tokens_per_second=14.25,
    thinking_seconds=0.0,
)


def _message(
    role="assistant", content="Hello **there**.", status="done", thinking="", stats=None
) -> Message:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Message(
        id=7,
        conversation_id=1,
        parent_id=None,
        role=role,
        content=content,
        thinking=thinking,
        model_id="m",
        status=status,
        stats=stats,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def shown(qtbot: QtBot):
    def show(widget: MessageWidget) -> MessageWidget:
        qtbot.addWidget(widget)
        widget.resize(600, 300)
        widget.show()
        return widget

    return show


def _visible_buttons(w: MessageWidget) -> list[str]:
    buttons = {
        "Copy": w.copy_button,
        "Edit": w.edit_button,
        "Regenerate": w.regenerate_button,
        "Continue": w.continue_button,
    }
    return [name for name, b in buttons.items() if b.isVisible()]


def test_a_stored_answer_shows_its_role_text_and_stats_on_hover(shown):
    stats = MessageStats(
        prompt_tokens=512, generated_tokens=180, time_to_first_token_s=0.42, tokens_per_second=14.25
    )
    w = shown(MessageWidget.from_message(_message(stats=stats)))
    assert w.role_label.text() == "Hearth"
    assert w.plain_text() == "Hello there."
    assert w.toolTip() == (
        "14.2 tokens/s · first token after 0.42 s · 180 tokens generated · 512 tokens of prompt"
    )
    assert _visible_buttons(w) == ["Copy", "Regenerate"]
    assert not w.branch_label.isVisible()


def test_buttons_follow_role_and_status(shown):
    user = shown(MessageWidget("user", "Hi"))
    assert user.role_label.text() == "You"
    assert _visible_buttons(user) == ["Copy", "Edit"]
    stopped = shown(MessageWidget.from_message(_message(status="interrupted")))
    assert _visible_buttons(stopped) == ["Copy", "Regenerate", "Continue"]
    assert stopped.status_label.text() == "Stopped before the end."
    streaming = shown(MessageWidget("assistant", status="streaming"))
    assert _visible_buttons(streaming) == []


@pytest.mark.parametrize(
    ("button", "signal"),
    [
        ("regenerate_button", "regenerate_requested"),
        ("continue_button", "continue_requested"),
    ],
)
def test_each_button_emits_its_request(qtbot: QtBot, shown, button, signal):
    w = shown(MessageWidget.from_message(_message(status="interrupted")))
    with qtbot.waitSignal(getattr(w, signal)):
        qtbot.mouseClick(getattr(w, button), Qt.MouseButton.LeftButton)


def test_copy_puts_the_message_on_the_clipboard(qtbot: QtBot, shown):
    w = shown(MessageWidget.from_message(_message()))
    with qtbot.waitSignal(w.copy_requested):
        qtbot.mouseClick(w.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Hello **there**."


def test_branch_switcher_shows_2_of_3_and_asks_for_neighbours(qtbot: QtBot, shown):
    w = shown(MessageWidget.from_message(_message(), branch=(1, 3)))
    assert w.branch_label.isVisible()
    assert w.branch_label.text() == "2/3"
    with qtbot.waitSignal(w.branch_requested) as previous:
        qtbot.mouseClick(w.previous_button, Qt.MouseButton.LeftButton)
    assert previous.args == [0]
    with qtbot.waitSignal(w.branch_requested) as following:
        qtbot.mouseClick(w.next_button, Qt.MouseButton.LeftButton)
    assert following.args == [2]
    w.set_branch(2, 3)
    assert w.branch_label.text() == "3/3"
    assert not w.next_button.isEnabled() and w.previous_button.isEnabled()


def test_editing_a_question_inline_asks_for_the_new_text(qtbot: QtBot, shown):
    w = shown(MessageWidget("user", "What is 2+2?", message_id=3))
    qtbot.mouseClick(w.edit_button, Qt.MouseButton.LeftButton)
    assert w.edit_box.isVisible() and not w.body.isVisible()
    assert w.edit_box.toPlainText() == "What is 2+2?"
    w.edit_box.selectAll()
    qtbot.keyClicks(w.edit_box, "What is 3+3?")
    with qtbot.waitSignal(w.edit_requested) as edited:
        qtbot.mouseClick(w.save_button, Qt.MouseButton.LeftButton)
    assert edited.args == ["What is 3+3?"]
    assert w.body.isVisible() and not w.edit_box.isVisible()


def test_cancelling_an_edit_asks_for_nothing(qtbot: QtBot, shown):
    w = shown(MessageWidget("user", "Keep me"))
    w.begin_edit()
    qtbot.keyClicks(w.edit_box, " changed")
    with qtbot.assertNotEmitted(w.edit_requested):
        qtbot.keyClick(w.edit_box, Qt.Key.Key_Escape)
    assert not w.is_editing()
    assert w.plain_text() == "Keep me"


def test_a_streamed_reply_collapses_its_thinking_when_the_answer_starts(qtbot: QtBot, shown):
    w = shown(MessageWidget("assistant", status="streaming"))
    w.append_thinking("First, ")
    w.append_thinking("add.")
    assert w.thinking_section.isVisible() and w.thinking_section.is_thinking()
    assert w.thinking_section.is_expanded()
    w.append_answer("It is ")
    assert not w.thinking_section.is_expanded()
    assert w.thinking_section.header_text().startswith("Thought for ")
    w.append_answer("**4**.")
    w.add_notice(Notice(NoticeKind.BUDGET_REACHED, "Thinking budget reached."))
    w.add_notice(Notice(NoticeKind.TRIMMED, "Older messages were left out."))
    w.finish("done", STATS)
    assert w.plain_text() == "It is 4."
    assert w.thinking_section.note_label.isVisible()
    assert w.notes_label.text() == "Older messages were left out."
    assert "14.2 tokens/s" in w.toolTip()
    assert _visible_buttons(w) == ["Copy", "Regenerate"]


def test_a_reply_without_thinking_shows_no_thinking_section(shown):
    w = shown(MessageWidget("assistant", status="streaming"))
    w.append_answer("Plain answer.")
    w.finish("done", STATS)
    assert not w.thinking_section.isVisible()


def test_ctrl_enter_saves_an_edit(qtbot: QtBot, shown):
    w = shown(MessageWidget("user", "Old"))
    w.begin_edit()
    w.edit_box.setPlainText("New")
    with qtbot.waitSignal(w.edit_requested) as edited:
        qtbot.keyClick(w.edit_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert edited.args == ["New"]


def test_the_persons_words_show_exactly_as_typed_in_a_bubble(shown):
    typed = "Two lines\nexactly.\n    indented *not bold*"
    w = shown(MessageWidget("user", typed))
    assert w.plain_text() == typed and w.text() == typed
    assert w.plain_label.text() == typed  # plain text: no Markdown, line breaks kept
    assert w.body.objectName() == "userBubble"
    assert w.body.geometry().right() > w.width() // 2  # on the right


def test_a_reply_keeps_single_line_breaks_and_unfenced_indentation(shown):
    text = "Roses are red\nViolets are blue\n\ndef f(x):\n    return x"
    w = shown(MessageWidget.from_message(_message(content=text)))
    assert w.plain_text() == "Roses are red\nViolets are blue\ndef f(x):\n    return x"


def test_actions_show_on_hover_and_a_stats_line_under_a_finished_reply(qtbot: QtBot, shown):
    stats = MessageStats(
        prompt_tokens=512, generated_tokens=180, time_to_first_token_s=0.42, tokens_per_second=14.25
    )
    w = shown(MessageWidget.from_message(_message(stats=stats)))
    assert w.stats_label.isVisible()
    assert w.stats_label.text() == "14.2 tokens/s · 180 tokens · 12.6 s"
    outside = QWidget()
    qtbot.addWidget(outside)
    outside.setGeometry(w.geometry().right() + 50, 0, 100, 100)
    outside.show()
    qtbot.mouseMove(outside, outside.rect().center())  # the pointer elsewhere
    qtbot.waitUntil(lambda: not w.actions_shown(), timeout=2000)
    qtbot.mouseMove(w, w.rect().center())  # the pointer over the reply
    qtbot.waitUntil(w.actions_shown, timeout=2000)


def test_a_reply_waits_visibly_until_its_first_word(qtbot: QtBot, shown):
    w = shown(MessageWidget("assistant", status="streaming"))
    assert w.waiting_label.isVisible() and w.waiting_label.text().startswith("Reading your message")
    w.set_prompt_progress(512, 2048)
    assert w.waiting_label.text().endswith("25 %")
    w.append_answer("Hi")
    assert not w.waiting_label.isVisible()
