"""The pinned Qt binding must not leak references to None.

PySide6 6.12.0 on Python 3.11 drops one reference to None for each call of a Qt method that
returns nothing (QLabel.setText, QTextCursor.insertText, …); after about 5,000 calls the
interpreter aborts with "none_dealloc: deallocating None". Streaming one long answer makes
tens of thousands of such calls. 6.11.3 is pinned in pyproject.toml; this test fails if a
bump brings the bug back.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

CALLS = 3000  # fewer than None's initial references: a leak shows without crashing


def test_void_qt_calls_keep_none_alive(qtbot: QtBot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        label.setText("x")
    assert sys.getrefcount(None) >= before - 100, "the Qt binding leaks references to None"
