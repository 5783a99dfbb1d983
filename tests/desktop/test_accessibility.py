"""Every control a person can operate in the main window has a name a screen reader can say."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from tests.desktop.window_helpers import ask

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QTextEdit,
    QPlainTextEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractSlider,
    QAbstractItemView,
)


def unnamed_controls(root: QWidget) -> list[str]:
    out = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, INTERACTIVE) or not w.isVisible():
            continue
        if (
            isinstance(w, QAbstractSlider)
            and w.parent() is not None
            and type(w.parent()).__name__ == "QScrollBar"
        ):
            continue
        text = w.text() if isinstance(w, QAbstractButton) else ""
        if not w.accessibleName().strip() and not text.strip():
            out.append(
                f"{type(w).__name__} {w.objectName()!r} in {type(w.parentWidget()).__name__}"
            )
    return out


def test_every_visible_control_has_an_accessible_name(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "Say hello.")  # messages with their action buttons are on screen
    checked = [
        w for w in window.findChildren(QWidget) if isinstance(w, INTERACTIVE) and w.isVisible()
    ]
    assert len(checked) > 10
    assert unnamed_controls(window) == []
    window.lock()
    qtbot.waitUntil(window.lock_screen.unlock_button.isEnabled, timeout=10_000)
    assert unnamed_controls(window) == []


def _needs_emoji_font(text: str) -> list[str]:
    """Characters that only a colour emoji font draws (pictographs, symbols and dingbats)."""
    return [
        c
        for c in text
        if 0x1F000 <= ord(c) <= 0x1FAFF or 0x2600 <= ord(c) <= 0x27BF or 0x2B00 <= ord(c) <= 0x2BFF
    ]


def test_nothing_in_the_window_needs_an_emoji_font(qtbot: QtBot, window: MainWindow):
    """The toolbar's lock and the lock screen's icon used to be emoji: an empty box on a machine
    without an emoji font. Every icon is now one of Hearth's SVGs."""
    ask(qtbot, window, "Say hello.")
    texts = [
        t
        for w in window.findChildren(QWidget)
        for t in (
            w.text() if isinstance(w, QAbstractButton | QLabel) else "",
            w.toolTip(),
            w.accessibleName(),
        )
    ]
    assert len(texts) > 50
    assert [c for t in texts for c in _needs_emoji_font(t)] == []
