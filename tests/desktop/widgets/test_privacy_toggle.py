"""The privacy toggle asks, never switches by itself; the confirmation says exactly what
becomes allowed and defaults to Cancel. (The dialog's test lives here with the toggle that
leads to it.)"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

import engine.policy
from desktop.dialogs.privacy_confirm_dialog import PrivacyConfirmDialog
from desktop.widgets.privacy_toggle import PrivacyToggleWidget
from engine.policy import Mode

HOSTS = ("huggingface.co", "cdn-lfs.huggingface.co")


@pytest.fixture
def toggle(qtbot: QtBot) -> PrivacyToggleWidget:
    w = PrivacyToggleWidget()
    qtbot.addWidget(w)
    w.show()
    return w


def test_local_only_is_shown_and_a_click_only_asks(qtbot: QtBot, toggle: PrivacyToggleWidget):
    assert toggle.text() == "Local-only"
    assert toggle.button.accessibleName() == "Privacy mode: Local-only"
    assert toggle.button.isChecked()
    with qtbot.waitSignal(toggle.mode_change_requested) as asked:
        qtbot.mouseClick(toggle.button, Qt.MouseButton.LeftButton)
    assert asked.args == ["downloads-allowed"]
    assert toggle.text() == "Local-only" and toggle.button.isChecked()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY


def test_after_the_window_switches_a_click_asks_to_go_back(
    qtbot: QtBot, toggle: PrivacyToggleWidget
):
    toggle.set_mode("downloads-allowed")
    assert toggle.text() == "Downloads allowed"
    assert not toggle.button.isChecked()
    with qtbot.waitSignal(toggle.mode_change_requested) as asked:
        qtbot.mouseClick(toggle.button, Qt.MouseButton.LeftButton)
    assert asked.args == ["local-only"]


@pytest.fixture
def dialog(qtbot: QtBot) -> PrivacyConfirmDialog:
    d = PrivacyConfirmDialog(HOSTS)
    qtbot.addWidget(d)
    return d


def test_the_dialog_says_exactly_what_becomes_allowed(dialog: PrivacyConfirmDialog):
    assert dialog.windowTitle() == "Allow model downloads?"
    text = dialog.text()
    assert "downloading a model, nothing else" in text
    assert (
        "only to the hosts the model catalog names: huggingface.co, cdn-lfs.huggingface.co;" in text
    )
    assert "only while a download you started is running" in text
    shown = dialog.body_label.text()
    assert all(host in shown for host in HOSTS)


def test_cancel_is_the_default_so_enter_keeps_local_only(
    qtbot: QtBot, dialog: PrivacyConfirmDialog
):
    assert dialog.cancel_button.isDefault()
    assert not dialog.allow_button.isDefault() and not dialog.allow_button.autoDefault()
    dialog.open()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_only_the_allow_button_accepts(qtbot: QtBot, dialog: PrivacyConfirmDialog):
    dialog.open()
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_with_no_host_there_is_nothing_to_allow(qtbot: QtBot):
    d = PrivacyConfirmDialog(())
    qtbot.addWidget(d)
    assert not d.allow_button.isEnabled()
    assert "the catalog names no download host" in d.text()
