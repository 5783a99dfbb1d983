"""The real window with the real starter model and a real encrypted store: fixtures and helpers
shared by the window's tests."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from engine.inference import GenerationOptions
from engine.storage import ConversationStore

SHORT = GenerationOptions(max_tokens=48, temperature=0.0)
LOAD_MS = 60_000
REPLY_MS = 120_000


def _window(qtbot: QtBot, store: ConversationStore) -> MainWindow:
    w = MainWindow(store)
    qtbot.addWidget(w)
    w.show()
    return w


def ask(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type ``text`` and press Enter, then wait for the reply to finish and be saved."""
    window.composer.set_text(text)
    with qtbot.waitSignal(window.worker.reply_saved, timeout=REPLY_MS):
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window._busy)


def listed(window: MainWindow) -> list[int]:
    """The conversations the sidebar lists (section headers left out)."""
    model = window.sidebar.model
    ids = [model.conversation_id(model.index(r, 0)) for r in range(model.rowCount())]
    return [i for i in ids if i is not None]


def shown(window: MainWindow) -> list[tuple[str, str]]:
    return [(w.role(), w.plain_text().strip()) for w in window.transcript.messages()]
