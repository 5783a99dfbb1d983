"""The real window with the real starter model and a real encrypted store: fixtures and helpers
shared by the window's tests."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from engine.inference import GenerationOptions
from engine.storage import ConversationStore, StoreOwner

SHORT = GenerationOptions(max_tokens=48, temperature=0.0)
LOAD_MS = 60_000
REPLY_MS = 120_000


def _window(qtbot: QtBot, owner: StoreOwner) -> MainWindow:
    w = MainWindow(owner)
    qtbot.addWidget(w)
    w.show()
    return w


def db(window: MainWindow) -> ConversationStore:
    """The window's store as a test reads it: every call runs on the store's owner thread
    (the store refuses any other while the window is open)."""
    return window.owner.routed()


def ask(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type ``text`` and press Enter, then wait for the reply to finish and be saved."""
    qtbot.keyClicks(window.composer.text_edit, text)
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy)


def listed(window: MainWindow) -> list[int]:
    """The conversations the sidebar lists (section headers left out)."""
    model = window.sidebar.model
    ids = [model.conversation_id(model.index(r, 0)) for r in range(model.rowCount())]
    return [i for i in ids if i is not None]


def shown(window: MainWindow) -> list[tuple[str, str]]:
    return [(w.role(), w.plain_text().strip()) for w in window.transcript.messages()]
