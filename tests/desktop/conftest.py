from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# -- the real window (fixtures for the window's tests; helpers in window_helpers.py) -----------
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from engine.storage import ConversationStore, StoreOwner
from tests.desktop.window_helpers import LOAD_MS, SHORT, _window


@pytest.fixture
def owner(store: ConversationStore) -> Iterator[StoreOwner]:
    """The store's owner thread, as the app runs it: while it runs, only it may use the store."""
    o = StoreOwner(store)
    yield o
    o.close()


@pytest.fixture
def window(qtbot: QtBot, starter_model_path: Path, owner: StoreOwner) -> Iterator[MainWindow]:
    w = _window(qtbot, owner)
    w.session.options = SHORT  # the starter model can ramble for thousands of tokens
    qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
    yield w
    w.close()


@pytest.fixture
def restore_look() -> Iterator[None]:
    """For a test that changes the theme: the application's look (palette, font, stylesheet,
    the theme module's choice) is as before afterwards, so later tests see the same widgets."""
    from PySide6.QtWidgets import QApplication

    from desktop import theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    saved = (app.palette(), app.font(), app.styleSheet())
    state = (theme._choice, theme._text_scale, theme._base_point_size, theme._platform_palette)
    yield
    app.setStyleSheet(saved[2])
    app.setPalette(saved[0])
    app.setFont(saved[1])
    theme._choice, theme._text_scale, theme._base_point_size, theme._platform_palette = state
