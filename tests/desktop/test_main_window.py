"""The real window with the real starter model, driven as a person would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot, starter_model_path: Path) -> Iterator[MainWindow]:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_local_only_is_in_view_and_the_model_loads(qtbot: QtBot, window: MainWindow):
    assert window.privacy_label.text().endswith("Local-only")
    assert window.privacy_label.isVisible()
    qtbot.waitUntil(lambda: "SmolLM2" in window.model_label.text(), timeout=30_000)


def test_send_streams_a_reply_into_the_transcript(qtbot: QtBot, window: MainWindow):
    window.composer.setPlainText("What is the capital of France?")
    with qtbot.waitSignal(window.worker.generation_finished, timeout=60_000):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    text = window.transcript.toPlainText()
    assert "What is the capital of France?" in text
    assert "Paris" in text
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()
    assert "tokens/s" in window.statusBar().currentMessage()


def test_stop_ends_a_long_reply_and_keeps_it(qtbot: QtBot, window: MainWindow):
    qtbot.waitUntil(lambda: "SmolLM2" in window.model_label.text(), timeout=30_000)
    window.composer.setPlainText("Write a long story about the sea.")
    with qtbot.waitSignal(window.worker.generation_finished, timeout=60_000) as finished:
        window.send_button.click()
        qtbot.waitUntil(lambda: len(window.transcript.toPlainText()) > 80, timeout=30_000)
        window.stop_button.click()
    reply = finished.args[0]
    assert reply.finish_reason.value == "cancelled"
    assert reply.answer[:20] in window.transcript.toPlainText()
