from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# -- the real window (fixtures for the window's tests; helpers in window_helpers.py) -----------
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from engine.storage import ConversationStore
from tests.desktop.window_helpers import LOAD_MS, SHORT, _window


@pytest.fixture
def window(
    qtbot: QtBot, starter_model_path: Path, store: ConversationStore
) -> Iterator[MainWindow]:
    w = _window(qtbot, store)
    w.worker.options = SHORT  # the starter model can ramble for thousands of tokens
    qtbot.waitUntil(lambda: w._ready, timeout=LOAD_MS)
    yield w
    w.close()
