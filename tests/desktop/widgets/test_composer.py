"""The composer: Enter sends, Shift+Enter starts a new line, Esc stops."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.theme import warning_color
from desktop.widgets.composer import ComposerWidget


@pytest.fixture
def composer(qtbot: QtBot) -> ComposerWidget:
    w = ComposerWidget()
    qtbot.addWidget(w)
    w.show()
    w.focus_input()
    return w


def test_enter_sends_the_text_and_clears_the_box(qtbot: QtBot, composer: ComposerWidget):
    qtbot.keyClicks(composer.text_edit, "Why is the sky blue?")
    with qtbot.waitSignal(composer.send_requested) as sent:
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return)
    assert sent.args == ["Why is the sky blue?", ()]
    assert composer.text() == ""


def test_shift_enter_starts_a_new_line_and_sends_nothing(qtbot: QtBot, composer: ComposerWidget):
    qtbot.keyClicks(composer.text_edit, "first")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.text_edit, "second")
    assert composer.text() == "first\nsecond"
    with qtbot.waitSignal(composer.send_requested) as sent:
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert sent.args == ["first\nsecond", ()]


def test_blank_text_is_not_sent(qtbot: QtBot, composer: ComposerWidget):
    qtbot.keyClicks(composer.text_edit, "   ")
    assert not composer.send_button.isEnabled()
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return)


def test_while_busy_typing_goes_on_but_enter_keeps_the_text(qtbot: QtBot, composer: ComposerWidget):
    composer.set_busy(True)
    qtbot.keyClicks(composer.text_edit, "next question")
    assert composer.text() == "next question"
    assert not composer.send_button.isEnabled() and composer.stop_button.isEnabled()
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return)
    assert composer.text() == "next question"
    composer.set_busy(False)
    assert composer.send_button.isEnabled() and not composer.stop_button.isEnabled()
    with qtbot.waitSignal(composer.send_requested):
        qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)


def test_escape_and_the_stop_button_ask_to_stop(qtbot: QtBot, composer: ComposerWidget):
    composer.set_busy(True)
    with qtbot.waitSignal(composer.stop_requested):
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Escape)
    with qtbot.waitSignal(composer.stop_requested):
        qtbot.mouseClick(composer.stop_button, Qt.MouseButton.LeftButton)


def test_context_use_is_shown_and_warns_near_the_limit(composer: ComposerWidget):
    assert not composer.token_label.isVisible()
    composer.set_token_usage(1200, 8192)
    assert composer.token_label.isVisible()
    assert composer.token_label.text() == "1,200 / 8,192 tokens"
    normal = composer.token_label.palette().color(composer.token_label.foregroundRole())
    assert normal != warning_color()
    composer.set_token_usage(7900, 8192)
    assert composer.token_label.text() == "7,900 / 8,192 tokens"
    assert (
        composer.token_label.palette().color(composer.token_label.foregroundRole())
        == warning_color()
    )


def test_the_box_grows_with_its_lines(qtbot: QtBot, composer: ComposerWidget):
    start = composer.text_edit.height()
    composer.set_text("\n".join(f"line {i}" for i in range(6)))
    assert composer.text_edit.height() > start
    tall = composer.text_edit.height()
    composer.set_text("\n".join(f"line {i}" for i in range(40)))
    # Up to MAX_LINES (10) lines, then it scrolls: four lines more than six, and no more.
    line = composer.text_edit.fontMetrics().lineSpacing()
    assert composer.text_edit.height() == tall + 4 * line
    composer.set_text("word " * 400)  # one long line wraps: wrapped lines count too
    assert composer.text_edit.height() == tall + 4 * line


def test_controls_have_accessible_names(composer: ComposerWidget):
    assert composer.text_edit.accessibleName() == "Message"
    assert composer.send_button.accessibleName() == "Send message"
    assert composer.stop_button.accessibleName() == "Stop the reply"
