"""The real window with the real starter model and a real encrypted store, driven as a person
would, asserting on what is visible."""

from __future__ import annotations

import struct

import pytest
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

import desktop.conversation_list
import engine.policy
from desktop.dialogs.open_link_dialog import OpenLinkDialog
from desktop.main_window import MainWindow
from engine import paths
from engine.catalog import load_catalog
from engine.inference import GenerationOptions
from engine.policy import Action
from tests.desktop.window_helpers import (
    LOAD_MS,
    REPLY_MS,
    SHORT,
    _window,
    ask,
    db,
    listed,
    shown,
)


def test_local_only_is_in_view_and_the_model_loads(qtbot: QtBot, window: MainWindow):
    assert window.privacy_toggle.text().endswith("Local-only")
    assert window.privacy_toggle.isVisible()
    assert "SmolLM2" in window.model_label.text()
    assert "SmolLM2" in window.model_picker.currentText()
    assert not window.load_progress.isVisible()
    # First run: the empty chat says who answers and how to get the flagship model.
    assert window.welcome_label.isVisible()
    # Hardware is measured off the GUI thread; the welcome then says how the flagship runs.
    qtbot.waitUntil(lambda: "on this computer:" in window.welcome_label.text(), timeout=10_000)
    assert "QwQ" in window.welcome_label.text()
    assert "hearth models pull qwq-32b-q4_k_m" in window.welcome_label.text()


def test_send_streams_a_reply_and_saves_it(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "What is the capital of France?")
    (role_q, question), (role_a, answer) = shown(window)
    assert (role_q, question) == ("user", "What is the capital of France?")
    assert role_a == "assistant" and "Paris" in answer
    assert not window.composer.is_busy()
    assert "tokens/s" in window.statusBar().currentMessage()
    # Saved in the encrypted store as it was shown, and listed in the sidebar.
    (conv,) = db(window).list_conversations()
    path = db(window).active_path(conv.id)
    assert path[0].content == "What is the capital of France?"
    assert path[1].status == "done"
    assert path[1].content == window.transcript.messages()[1].text()
    assert path[1].stats is not None
    used = path[1].stats.prompt_tokens + path[1].stats.generated_tokens
    assert window.composer.token_label.text() == f"{used:,} / {window.session.n_ctx:,} tokens"
    qtbot.waitUntil(lambda: listed(window) == [conv.id])
    assert "tokens/s" in window.transcript.messages()[1].toolTip()  # stats on hover


def test_stop_keeps_a_long_reply_and_continue_finishes_it(qtbot: QtBot, window: MainWindow):
    window.session.options = GenerationOptions(max_tokens=1000)
    qtbot.keyClicks(window.composer.text_edit, "Write a long story about the sea.")
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS) as saved:
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: len(shown(window)[1][1]) > 60, timeout=REPLY_MS)
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.session.busy)
    reply = saved.args[0].saved
    assert reply.status == "interrupted"
    widget = window.transcript.messages()[1]
    assert widget.status() == "interrupted"
    assert widget.status_label.isVisible()
    assert reply.content[:40] in widget.text()

    # Continue: the same message picks up where it stopped and grows.
    assert widget.continue_button.isVisible()
    window.session.options = GenerationOptions(max_tokens=16, temperature=0.0)
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS) as saved_again:
        qtbot.mouseClick(widget.continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.busy)
    continued = saved_again.args[0].saved
    assert continued.id == reply.id and continued.status == "done"
    assert continued.content.startswith(reply.content)
    assert len(continued.content) > len(reply.content)
    (widget,) = [w for w in window.transcript.messages() if w.role() == "assistant"]
    assert widget.status() == "done" and not widget.status_label.isVisible()
    assert widget.text() == continued.content
    assert not widget.continue_button.isVisible()


def test_regenerate_then_switch_branches(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "Name a fruit.")
    first = window.transcript.messages()[1]
    first_text, first_id = first.text(), first.message_id()
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
        qtbot.mouseClick(first.regenerate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.transcript.messages()[1].branch_label_text() == "2/2")
    assert len(window.transcript.messages()) == 2
    second = window.transcript.messages()[1]
    assert second.message_id() != first_id
    qtbot.mouseClick(
        second.previous_button, Qt.MouseButton.LeftButton
    )  # ‹ : back to the first version
    qtbot.waitUntil(lambda: window.transcript.messages()[1].message_id() == first_id)
    assert window.transcript.messages()[1].text() == first_text
    assert window.transcript.messages()[1].branch_label_text() == "1/2"


def test_edit_and_resend_makes_a_new_branch(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "Name a colour.")
    question = window.transcript.messages()[0]
    question.begin_edit()
    question.edit_box.setPlainText("Name an animal.")
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
        qtbot.mouseClick(question.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.busy)
    assert shown(window)[0] == ("user", "Name an animal.")
    (conv,) = db(window).list_conversations()
    path = db(window).active_path(conv.id)
    assert path[0].content == "Name an animal."
    assert len(db(window).siblings(path[0].id)) == 2


def test_search_finds_and_opens_a_conversation(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "Tell me about zebras.")
    window.new_conversation()
    assert window.transcript.messages() == [] and window.welcome_label.isVisible()
    ask(qtbot, window, "Tell me about owls.")
    qtbot.waitUntil(lambda: len(listed(window)) == 2)
    qtbot.keyClicks(window.sidebar.search_edit, "zebras")
    qtbot.waitUntil(
        lambda: window.sidebar.model.is_searching() and window.sidebar.model.rowCount() >= 1,
        timeout=5000,
    )
    hits = [window.sidebar.model.index(r, 0).data() for r in range(window.sidebar.model.rowCount())]
    assert any("zebras" in str(h).lower() for h in hits)
    zebra_conv = next(c.id for c in db(window).list_conversations() if "zebras" in c.title)
    model = window.sidebar.model
    row = next(
        r for r in range(model.rowCount()) if model.conversation_id(model.index(r, 0)) == zebra_conv
    )
    rect = window.sidebar.list_view.visualRect(model.index(row, 0))
    qtbot.mouseClick(
        window.sidebar.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    qtbot.waitUntil(
        lambda: (
            bool(window.transcript.messages()) and shown(window)[0][1] == "Tell me about zebras."
        )
    )
    assert window.session.conversation_id == zebra_conv


def _press_delete_on(qtbot: QtBot, window: MainWindow, conversation_id: int) -> None:
    """Click the conversation in the sidebar, then press Delete there."""
    model, view = window.sidebar.model, window.sidebar.list_view
    row = next(
        r
        for r in range(model.rowCount())
        if model.conversation_id(model.index(r, 0)) == conversation_id
    )
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.visualRect(model.index(row, 0)).center(),
    )
    qtbot.keyClick(view, Qt.Key.Key_Delete)


def test_delete_then_undo_then_delete_for_good(qtbot: QtBot, window: MainWindow, monkeypatch):
    monkeypatch.setattr(desktop.conversation_list, "UNDO_DELETE_MS", 300)
    ask(qtbot, window, "Say hi.")
    (conv,) = db(window).list_conversations()
    qtbot.waitUntil(lambda: listed(window) == [conv.id])
    _press_delete_on(qtbot, window, conv.id)
    assert listed(window) == []
    assert window.undo_button.isVisible()
    assert window.transcript.messages() == []  # it was open: the view moved to a new chat
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    assert listed(window) == [conv.id]
    assert db(window).list_conversations() != []
    _press_delete_on(qtbot, window, conv.id)
    qtbot.waitUntil(lambda: db(window).list_conversations() == [], timeout=5000)
    assert not window.undo_button.isVisible()


def test_input_typed_while_loading_is_sent_when_ready(qtbot: QtBot, starter_model_path, owner):
    w = _window(qtbot, owner)
    w.session.options = SHORT
    try:
        assert not w.session.ready  # still loading
        qtbot.keyClicks(w.composer.text_edit, "What is two plus two?")
        with qtbot.waitSignal(w.session.turn_finished, timeout=LOAD_MS + REPLY_MS) as ended:
            qtbot.keyClick(w.composer.text_edit, Qt.Key.Key_Return)
            assert shown(w)[0] == ("user", "What is two plus two?")
        assert ended.args[0].status == "done"
        qtbot.waitUntil(lambda: bool(shown(w)[1][1]))
    finally:
        w.close()


def test_a_model_that_does_not_fit_gets_a_dialog(qtbot: QtBot, window: MainWindow):
    # A real-looking Q8_0 flagship "installed" as a sparse file: header + its catalog size.
    catalog = load_catalog()
    big = catalog.get("qwq-32b-q8_0")
    path = paths.models_dir() / big.file
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 1, 0))
        f.truncate(big.size or 35_000_000_000)
    window.session.load(big.id)

    def dialog() -> QMessageBox | None:
        return window.findChild(QMessageBox, "model_does_not_fit_dialog")

    qtbot.waitUntil(lambda: dialog() is not None and dialog().isVisible(), timeout=LOAD_MS)
    assert "does not fit" in dialog().windowTitle().lower()
    assert "GB" in dialog().text() + dialog().informativeText()
    dialog().accept()
    assert window.model_label.text() == "No model"


def test_copy_last_answer_shortcut(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "Say hello.")
    QGuiApplication.clipboard().clear()
    window.copy_last_answer()
    assert QGuiApplication.clipboard().text() == window.transcript.messages()[1].text()


def test_window_size_is_restored_from_the_store(qtbot: QtBot, starter_model_path, owner):
    w = _window(qtbot, owner)
    w.resize(720, 500)  # within the offscreen screen (800×600)
    qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
    size = (w.width(), w.height())  # what the window became (its minimum may be wider)
    assert size != (1100, 760)  # not the default size: restoring it proves something
    w.close()
    assert owner.call(lambda: owner.store.get_setting("window.geometry"))
    again = _window(qtbot, owner)
    try:
        assert (again.width(), again.height()) == size
    finally:
        qtbot.waitUntil(lambda: again.session.ready, timeout=LOAD_MS)
        again.close()


@pytest.mark.parametrize("choice", ["cancel", "open"])
def test_a_link_is_opened_only_after_asking(
    qtbot: QtBot, window: MainWindow, egress, monkeypatch, choice
):
    opened = []
    # The real dialog is shown and clicked; only the hand-off to the browser is recorded
    # instead of launching one on the test machine.
    monkeypatch.setattr(
        "desktop.main_window.QDesktopServices.openUrl", lambda url: opened.append(url.toString())
    )
    seen = {}

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, OpenLinkDialog)
        seen["text"] = dialog.text() + dialog.informativeText()
        seen["default"] = dialog.defaultButton() is dialog.cancel_button
        (dialog.open_button if choice == "open" else dialog.cancel_button).click()

    QTimer.singleShot(0, answer)
    window.transcript.link_activated.emit(QUrl("https://example.org/some/path?q=secret"))
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
