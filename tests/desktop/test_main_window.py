"""The real window with the real starter model, driven as a person would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import engine.policy
from desktop.dialogs.open_link_dialog import OpenLinkDialog
from desktop.main_window import MainWindow
from engine.policy import Action
from engine.storage import ConversationStore, Keychain, open_store


@pytest.fixture
def store(keychain: Keychain, tmp_path: Path) -> Iterator[ConversationStore]:
    with open_store(tmp_path / "hearth.db") as s:
        yield s


@pytest.fixture
def window(qtbot: QtBot, starter_model_path: Path,
           store: ConversationStore) -> Iterator[MainWindow]:
    w = MainWindow(store)
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
    # Saved in the encrypted store as it was shown.
    (conv,) = window.store.list_conversations()
    path = window.store.active_path(conv.id)
    assert [m.role for m in path] == ["user", "assistant"]
    assert path[0].content == "What is the capital of France?"
    assert path[1].content and path[1].content in text


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
    (conv,) = window.store.list_conversations()
    qtbot.waitUntil(lambda: window.store.active_path(conv.id)[-1].status == "interrupted")
    assert window.store.active_path(conv.id)[-1].content == reply.answer


@pytest.mark.parametrize("choice", ["cancel", "open"])
def test_a_link_is_opened_only_after_asking(qtbot: QtBot, window: MainWindow, egress,
                                            monkeypatch, choice):
    opened = []
    # The real dialog is shown and clicked; only the hand-off to the browser is recorded
    # instead of launching one on the test machine.
    monkeypatch.setattr("desktop.main_window.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toString()))
    window.transcript.setHtml('<a href="https://example.org/some/path?q=secret">link</a>')
    seen = {}

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, OpenLinkDialog)
        seen["text"] = dialog.text() + dialog.informativeText()
        seen["default"] = dialog.defaultButton() is dialog.cancel_button
        (dialog.open_button if choice == "open" else dialog.cancel_button).click()

    QTimer.singleShot(0, answer)
    window.transcript.anchorClicked.emit(QUrl("https://example.org/some/path?q=secret"))
    assert "example.org" in seen["text"] and "Local-only" in seen["text"]
    assert seen["default"]
    (entry,) = [e for e in egress.entries() if e.action is Action.BROWSER]
    assert entry.host == "example.org" and "secret" not in entry.detail
    if choice == "open":
        assert opened == ["https://example.org/some/path?q=secret"]
        assert entry.allowed
    else:
        assert opened == []
        assert not entry.allowed
    assert engine.policy.current_mode().label == "Local-only"  # nothing widened the mode
