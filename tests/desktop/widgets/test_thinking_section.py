"""The "Thinking… 12.4 s" section: live, timed, collapsing when the answer starts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.widgets.thinking_section import ThinkingSectionWidget


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def section(qtbot: QtBot, clock: FakeClock) -> ThinkingSectionWidget:
    w = ThinkingSectionWidget(clock=clock)
    qtbot.addWidget(w)
    w.show()
    return w


def test_thinking_streams_live_with_the_seconds_elapsed(qtbot: QtBot, section, clock):
    section.append("Let me see. ")
    section.append("Seven times six…")
    assert section.header_text() == "Thinking… 0.0 s"
    assert section.is_expanded() and section.text_edit.isVisible()
    assert section.text() == "Let me see. Seven times six…"
    assert section.answer_now_button.isVisible()
    clock.now += 12.4
    qtbot.waitUntil(lambda: section.header_text() == "Thinking… 12.4 s", timeout=2000)


def test_it_collapses_when_the_answer_starts_and_opens_again(qtbot: QtBot, section, clock):
    section.append("Hmm.")
    clock.now += 3.25
    section.finish()
    assert section.header_text() == "Thought for 3.2 s"
    assert not section.is_expanded() and not section.text_edit.isVisible()
    assert not section.answer_now_button.isVisible()
    qtbot.mouseClick(section.header_button, Qt.MouseButton.LeftButton)
    assert section.is_expanded() and section.text_edit.isVisible()
    assert section.text() == "Hmm."
    clock.now += 50
    qtbot.wait(2 * 100)
    assert section.header_text() == "Thought for 3.2 s"  # the clock stopped


def test_the_engines_own_figure_replaces_the_estimate(section, clock):
    section.append("…")
    clock.now += 2
    section.finish()
    section.finish(seconds=1.75)
    assert section.header_text() == "Thought for 1.8 s"


def test_answer_now_is_asked_once(qtbot: QtBot, section):
    section.append("Thinking hard")
    with qtbot.waitSignal(section.answer_now_requested):
        qtbot.mouseClick(section.answer_now_button, Qt.MouseButton.LeftButton)
    assert not section.answer_now_button.isEnabled()


def test_a_reached_budget_is_said(section):
    section.append("…")
    assert not section.note_label.isVisible()
    section.mark_budget_reached()
    assert section.note_label.isVisible()
    assert "budget" in section.note_label.text()


def test_a_stored_thinking_shows_collapsed(section):
    section.set_thinking("Earlier thoughts", seconds=None)
    assert section.header_text() == "Thoughts"
    assert not section.is_expanded()
    assert not section.answer_now_button.isVisible()
    assert section.text() == "Earlier thoughts"
