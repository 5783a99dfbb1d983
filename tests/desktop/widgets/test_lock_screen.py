"""The lock screen: readable at any width, a drawn lock, the passcode field focused, Enter
unlocks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from desktop.widgets.lock_screen import LockScreenWidget

LONG_PROBLEM = (
    "Your history could not be reopened. The keychain did not answer; unlock the keychain "
    "and try again."
)


def _screen(qtbot: QtBot, width: int, *, needs_passcode: bool = True) -> LockScreenWidget:
    screen = LockScreenWidget()
    qtbot.addWidget(screen)
    screen.resize(width, 600)
    screen.reset(needs_passcode=needs_passcode)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    screen.set_ready(True)
    return screen


def _fully_shown(label: QLabel) -> bool:
    """The label is as tall as its text needs at its width, and inside the screen."""
    return label.height() >= label.heightForWidth(label.width()) and label.width() > 0


def test_every_text_wraps_and_is_shown_whole_at_a_narrow_width(qtbot: QtBot):
    screen = _screen(qtbot, 400)
    screen.show_problem(LONG_PROBLEM)
    QApplication.processEvents()
    line = screen.hint_label.fontMetrics().lineSpacing()
    for label in (screen.title_label, screen.hint_label, screen.problem_label):
        assert label.isVisible() and label.wordWrap()
        assert _fully_shown(label), (label.accessibleName(), label.height())
        assert label.geometry().right() < screen.width()
    # At 400 px the explanation and the problem take more than one line, and get them.
    assert screen.hint_label.heightForWidth(screen.hint_label.width()) >= 2 * line
    assert screen.problem_label.height() >= 2 * line
    assert screen.hint_label.text().startswith("Your conversations are hidden")
    assert "Enter your passcode" in screen.hint_label.text()


def test_the_column_is_a_comfortable_width_on_a_wide_window(qtbot: QtBot):
    screen = _screen(qtbot, 1400)
    QApplication.processEvents()
    assert screen.column.width() < 700
    assert abs(screen.column.geometry().center().x() - screen.width() // 2) <= 2
    assert _fully_shown(screen.hint_label)


def test_the_lock_is_drawn_not_a_glyph(qtbot: QtBot):
    screen = _screen(qtbot, 800)
    pixmap = screen.icon_label.pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 24
    # No emoji (it needs a font that may be missing: an empty box).
    assert all(ord(c) < 0x2000 for c in screen.title_label.text())


def test_the_passcode_field_is_focused_and_enter_unlocks(qtbot: QtBot):
    screen = _screen(qtbot, 800)
    qtbot.waitUntil(screen.passcode_edit.hasFocus)
    requests: list[str] = []
    screen.unlock_requested.connect(requests.append)
    qtbot.keyClicks(screen.passcode_edit, "2468")
    qtbot.keyClick(screen.passcode_edit, Qt.Key.Key_Return)
    assert requests == ["2468"]  # once, though the screen also hears the Enter
    assert not screen.unlock_button.isEnabled()  # waits for the window's answer
    qtbot.keyClick(screen.passcode_edit, Qt.Key.Key_Return)
    assert requests == ["2468"]

    screen.show_problem("Wrong passcode. Try again.")
    assert screen.problem_label.isVisible() and screen.passcode_edit.hasFocus()
    assert screen.passcode_edit.selectedText() == "2468"  # typing replaces it
    qtbot.keyClicks(screen.passcode_edit, "1357")
    qtbot.keyClick(screen.passcode_edit, Qt.Key.Key_Enter)
    assert requests == ["2468", "1357"]


def test_without_a_passcode_enter_unlocks_too(qtbot: QtBot):
    screen = _screen(qtbot, 800, needs_passcode=False)
    assert screen.passcode_edit.isHidden()
    assert "No passcode is set" in screen.hint_label.text()
    qtbot.waitUntil(screen.unlock_button.hasFocus)
    with qtbot.waitSignal(screen.unlock_requested) as unlocked:
        qtbot.keyClick(screen.unlock_button, Qt.Key.Key_Return)
    assert unlocked.args == [""]


def test_the_field_is_focused_when_the_screen_is_shown_again(qtbot: QtBot):
    screen = _screen(qtbot, 800)
    screen.hide()
    screen.reset(needs_passcode=True)
    screen.set_ready(True)  # the store closed while the screen was hidden
    screen.show()
    screen.activateWindow()
    qtbot.waitUntil(screen.passcode_edit.hasFocus)
    assert screen.passcode_edit.text() == ""
