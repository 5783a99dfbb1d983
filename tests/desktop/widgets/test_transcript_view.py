"""The transcript follows a streaming reply to the bottom, unless the person scrolled up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.widgets.transcript_view import TranscriptView
from engine.storage import Message


def _message(id_: int, role: str, content: str) -> Message:
    now = datetime(2025, 1, 2, tzinfo=UTC)
    return Message(
        id=id_,
        conversation_id=1,
        parent_id=id_ - 1 or None,
        role=role,
        content=content,
        thinking="",
        model_id="m",
        status="done",
        stats=None,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def view(qtbot: QtBot) -> TranscriptView:
    v = TranscriptView()
    qtbot.addWidget(v)
    v.resize(500, 300)
    v.show()
    return v


def test_set_messages_shows_the_path_with_branch_switchers(view: TranscriptView):
    view.set_messages(
        [_message(1, "user", "Hi"), _message(2, "assistant", "Hello!")], branches={2: (1, 2)}
    )
    widgets = view.messages()
    assert [w.plain_text() for w in widgets] == ["Hi", "Hello!"]
    assert [w.branch_label_text() for w in widgets] == ["", "2/2"]


def test_streaming_keeps_the_bottom_in_view_until_the_person_scrolls_up(
    qtbot: QtBot, view: TranscriptView
):
    view.add_message("user", "Tell me a long story.")
    reply = view.add_message("assistant", streaming=True)
    bar = view.verticalScrollBar()
    for i in range(40):
        reply.append_answer(f"Line {i} of the story.\n\n")
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert view.is_following()

    bar.setValue(0)  # the person scrolls up to read
    assert not view.is_following()
    old_maximum = bar.maximum()
    for i in range(40, 60):
        reply.append_answer(f"Line {i} of the story.\n\n")
    qtbot.waitUntil(lambda: bar.maximum() > old_maximum)
    assert bar.value() == 0

    bar.setValue(bar.maximum())  # back at the bottom: following again
    reply.append_answer("The end.\n")
    old_maximum = bar.maximum()
    qtbot.waitUntil(lambda: bar.maximum() > old_maximum)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())


def test_requests_carry_the_message_id(qtbot: QtBot, view: TranscriptView):
    view.set_messages([_message(1, "user", "Hi"), _message(2, "assistant", "Hello!")])
    answer = view.message_widget(2)
    assert answer is not None
    with qtbot.waitSignal(view.regenerate_requested) as regenerate:
        qtbot.mouseClick(answer.regenerate_button, Qt.MouseButton.LeftButton)
    assert regenerate.args == [2]
    question = view.message_widget(1)
    assert question is not None
    with qtbot.waitSignal(view.edit_requested) as edited:
        question.begin_edit()
        question.edit_box.setPlainText("Hi again")
        question.save_button.click()
    assert edited.args == [1, "Hi again"]


def test_clear_empties_the_view(view: TranscriptView):
    view.add_message("user", "Hi")
    view.clear()
    assert view.messages() == []
    assert view.last_message() is None


def test_a_long_conversation_shows_its_newest_messages_at_once_and_the_rest_soon(qtbot):
    from datetime import UTC, datetime

    from desktop.widgets import transcript_view
    from engine.storage import Message

    now = datetime(2025, 1, 1, tzinfo=UTC)
    path = [
        Message(
            i,
            1,
            i - 1 or None,
            "user" if i % 2 else "assistant",
            f"message {i}",
            "",
            "m",
            "done",
            None,
            now,
            now,
        )
        for i in range(1, 21)
    ]
    view = transcript_view.TranscriptView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_messages(path)
    assert len(view.messages()) == transcript_view.SHOWN_AT_ONCE  # the rest one per turn
    assert [w.message_id() for w in view.messages()] == [19, 20]
    qtbot.waitUntil(view.is_complete)
    assert [w.message_id() for w in view.messages()] == list(range(1, 21))  # in order
    view.set_messages(path, focus=5)  # a search hit far up: built at once, with what follows
    assert view.message_widget(5) is not None and view.message_widget(4) is None
