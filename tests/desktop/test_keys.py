"""The keyboard habits of ChatGPT and LM Studio users, on the real window with the real model
and store, pressed as keys (no signal is emitted by the test)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import desktop.conversation_list
from desktop.main_window import MainWindow
from desktop.shortcuts import SHORTCUTS, TEXT_KEYS, ShortcutsDialog
from tests.desktop.window_helpers import REPLY_MS, ask, db, listed

CTRL = Qt.KeyboardModifier.ControlModifier


def _focused() -> object:
    return QApplication.focusWidget()


def test_typing_right_after_launch_goes_to_the_composer(qtbot: QtBot, window: MainWindow):
    qtbot.waitUntil(lambda: _focused() is window.composer.text_edit)
    qtbot.keyClicks(_focused(), "What is the capital of France?")
    assert window.composer.text() == "What is the capital of France?"
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
        qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    assert _focused() is window.composer.text_edit  # still there for the next question


def test_ctrl_n_starts_a_new_chat_with_nothing_marked_and_focus_in_the_composer(
    qtbot: QtBot, window: MainWindow
):
    ask(qtbot, window, "Say hi.")
    (conv,) = db(window).list_conversations()
    qtbot.waitUntil(lambda: window.sidebar.current_conversation_id() == conv.id)
    window.sidebar.search_edit.setFocus()
    qtbot.keyClick(_focused(), Qt.Key.Key_N, CTRL)
    assert window.transcript.messages() == [] and window.welcome.isVisible()
    assert window.sidebar.current_conversation_id() is None
    assert _focused() is window.composer.text_edit


@pytest.mark.parametrize("key", [Qt.Key.Key_K, Qt.Key.Key_F])
def test_ctrl_k_and_ctrl_f_search_and_esc_clears_the_search(
    qtbot: QtBot, window: MainWindow, key: Qt.Key
):
    ask(qtbot, window, "Tell me about zebras.")
    qtbot.keyClick(_focused(), key, CTRL)
    assert _focused() is window.sidebar.search_edit
    qtbot.keyClicks(_focused(), "zebras")
    qtbot.waitUntil(window.sidebar.model.is_searching)
    qtbot.keyClick(_focused(), Qt.Key.Key_Escape)
    assert window.sidebar.search_edit.text() == ""
    qtbot.waitUntil(lambda: not window.sidebar.model.is_searching())
    assert _focused() is window.composer.text_edit


def test_up_in_the_empty_composer_edits_the_last_message(qtbot: QtBot, window: MainWindow):
    ask(qtbot, window, "Name a colour.")
    question = window.transcript.messages()[0]
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Up)
    assert question.is_editing() and _focused() is question.edit_box
    assert question.edit_box.toPlainText() == "Name a colour."
    qtbot.keyClick(question.edit_box, Qt.Key.Key_Escape)
    assert not question.is_editing()
    # With text in the box, Up moves the cursor as usual and edits nothing.
    qtbot.keyClicks(window.composer.text_edit, "draft")
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Up)
    assert not question.is_editing()


def test_ctrl_z_brings_a_deleted_conversation_back_while_offered(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(desktop.conversation_list, "UNDO_DELETE_MS", 60_000)
    ask(qtbot, window, "Say hi.")
    (conv,) = db(window).list_conversations()
    qtbot.waitUntil(lambda: listed(window) == [conv.id])
    window.sidebar.list_view.setFocus()
    qtbot.keyClick(window.sidebar.list_view, Qt.Key.Key_Delete)
    assert listed(window) == []
    qtbot.keyClick(_focused(), Qt.Key.Key_Z, CTRL)
    assert listed(window) == [conv.id]
    assert not window.undo_button.isVisible()
    assert _focused() is window.composer.text_edit


def test_ctrl_slash_lists_every_shortcut(qtbot: QtBot, window: MainWindow):
    qtbot.keyClick(_focused(), Qt.Key.Key_Slash, CTRL)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ShortcutsDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ShortcutsDialog)
    assert dialog.rows() == len(SHORTCUTS) + len(TEXT_KEYS)
    dialog.reject()
    qtbot.waitUntil(lambda: _focused() is window.composer.text_edit)


def test_ctrl_comma_opens_settings_on_every_platform(qtbot: QtBot, window: MainWindow):
    qtbot.keyClick(_focused(), Qt.Key.Key_Comma, CTRL)
    qtbot.waitUntil(lambda: window.settings_dialog is not None, timeout=5000)
    assert window.settings_dialog is not None and window.settings_dialog.isVisible()
    window.settings_dialog.reject()


def test_ctrl_q_quits(qtbot: QtBot, window: MainWindow):
    qtbot.keyClick(_focused(), Qt.Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not window.isVisible())
