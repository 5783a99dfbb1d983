"""Settings: kept in the encrypted store (never in a plain file), applied to the worker, read
back by the next window; the Models dialog opens from the toolbar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop import app_lock
from desktop.dialogs.settings_dialog import SettingsDialog
from desktop.main_window import MainWindow
from desktop.settings import AppSettings, LoadSettings
from engine import paths
from engine.catalog import Sampling, load_catalog
from engine.storage import StoreOwner
from tests.desktop.window_helpers import LOAD_MS, _window, ask, db


def _open_settings(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    window.settings_button.click()
    qtbot.waitUntil(
        lambda: window.settings_dialog is not None and window.settings_dialog.isVisible()
    )
    assert window.settings_dialog is not None
    return window.settings_dialog


def test_settings_are_kept_encrypted_applied_and_read_back(
    qtbot: QtBot, window: MainWindow, owner: StoreOwner, starter_model_path: Path
):
    store = db(window)
    conv = store.create_conversation("Trip")
    window.open_conversation(conv.id)
    dialog = _open_settings(qtbot, window)
    assert dialog.system_prompt_edit.isEnabled()
    assert dialog.temperature_spin.text() == "Model default (0.2)"  # from models.toml
    dialog.system_prompt_edit.setPlainText("Answer in French, Zanzibar style.")
    dialog.temperature_spin.setValue(0.7)
    dialog.top_k_spin.setValue(20)
    dialog.context_spin.setValue(4096)
    dialog.gpu_mode_combo.setCurrentIndex(1)
    dialog.gpu_layers_spin.setValue(3)
    dialog.idle_spin.setValue(5)
    dialog.passcode_edit.setText("abcd")
    dialog.repeat_edit.setText("abcd")
    with qtbot.waitSignal(window.settings_saved, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    options = window.session.options
    assert (options.temperature, options.top_k, options.top_p) == (0.7, 20, None)
    assert options.max_tokens == 48  # what was not a setting stays
    assert window.session.load_settings == LoadSettings(n_ctx=4096, threads=None, gpu_layers=3)
    assert "next time a model loads" in window.statusBar().currentMessage()
    timer = window.locker.idle_timer
    assert timer.isActive() and timer.interval() == 5 * 60_000
    assert store.get_setting("settings.temperature") == "0.7"
    assert store.get_conversation(conv.id).system_prompt == "Answer in French, Zanzibar style."
    assert app_lock.check_passcode("abcd")
    # Nothing the person typed reached a plain file (the store is encrypted).
    for folder in (paths.config_dir(), paths.data_dir(), store.path.parent):
        for f in folder.rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                assert b"Zanzibar" not in data and b"abcd" not in data, f

    window.close()
    again = _window(qtbot, owner)
    try:
        assert again.settings == AppSettings(
            temperature=0.7, top_k=20, n_ctx=4096, gpu_layers=3, lock_idle_minutes=5
        )
        assert again.session.options.temperature == 0.7
        assert again.session.load_settings.n_ctx == 4096
    finally:
        qtbot.waitUntil(lambda: again.session.ready, timeout=LOAD_MS)
        again.close()


def test_settings_dialog_refuses_two_different_passcodes(qtbot: QtBot):
    dialog = SettingsDialog(
        AppSettings(), system_prompt=None, sampling=Sampling(), reasoning=None, has_passcode=False
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.system_prompt_edit.isEnabled()  # no conversation open
    assert not dialog.remove_passcode_check.isEnabled()
    dialog.passcode_edit.setText("1111")
    dialog.repeat_edit.setText("2222")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible() and dialog.error_label.text() == "The two passcodes differ."
    dialog.repeat_edit.setText("1111")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not dialog.isVisible()
    assert dialog.passcode_change() == "1111" and dialog.system_prompt() is None
    assert dialog.settings() == AppSettings()  # untouched spin boxes mean "model default"


def test_models_button_opens_the_dialog_and_closing_refreshes_the_picker(
    qtbot: QtBot, window: MainWindow
):
    qtbot.mouseClick(window.model_bar.models_button, Qt.MouseButton.LeftButton)
    dialog = window._models_dialog
    assert dialog is not None and dialog.isVisible()
    # This computer is measured afresh off the GUI thread; the fit column then fills in.
    starter = load_catalog().default_id
    qtbot.waitUntil(lambda: dialog.row_texts(starter)[-1] not in ("", "Measuring…"), timeout=10_000)
    assert "tokens/s" in dialog.row_texts(starter)[-1]
    window.model_picker.addItem("stale entry", "gone")
    dialog.close_button.click()
    qtbot.waitUntil(lambda: window._models_dialog is None)
    items = [window.model_picker.itemText(i) for i in range(window.model_picker.count())]
    assert "stale entry" not in items and any("SmolLM2" in t for t in items)
    assert "SmolLM2" in window.model_picker.currentText()


def test_a_new_chat_takes_a_system_prompt_before_its_first_message(
    qtbot: QtBot, window: MainWindow
):
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: window.settings_dialog is not None and window.settings_dialog.isVisible()
    )
    dialog = window.settings_dialog
    assert dialog is not None and dialog.system_prompt_edit.isEnabled()  # no message yet
    qtbot.keyClicks(dialog.system_prompt_edit, "Answer like a pirate.")
    qtbot.keyClicks(dialog.default_prompt_edit, "Be brief.")
    with qtbot.waitSignal(window.settings_saved, timeout=5000):
        qtbot.mouseClick(
            dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
        )
    ask(qtbot, window, "Where is the treasure?")
    (conv,) = db(window).list_conversations()
    assert db(window).get_conversation(conv.id).system_prompt == "Answer like a pirate."
    # The next new chat starts from the default prompt.
    window.activateWindow()  # as a click back into the window does once the dialog is gone
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.session.conversation_id is None
    ask(qtbot, window, "Hello?")
    newest = max(db(window).list_conversations(), key=lambda c: c.id)
    assert db(window).get_conversation(newest.id).system_prompt == "Be brief."


def test_a_stored_theme_and_text_size_apply_at_start_up(
    qtbot: QtBot, owner: StoreOwner, starter_model_path: Path, restore_look: None
):
    from PySide6.QtGui import QColor, QPalette

    from desktop import theme

    store = owner.store
    owner.call(lambda: store.set_setting("settings.theme", "dark"))
    owner.call(lambda: store.set_setting("settings.text_size", "130"))
    app = QApplication.instance()
    w = _window(qtbot, owner)
    try:
        assert theme.choice() == ("dark", 1.3)
        assert app.palette().color(QPalette.ColorRole.Window) == QColor(theme.DARK.window)
        qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
    finally:
        w.close()
