"""A damaged history in the real window (a banner, read-only, Recover… after asking), and a
history protected by a passphrase (asked for at start and by the lock screen). Real SQLCipher
files, damaged by flipping one bit; real dialogs answered as a person would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop import app as desktop_app
from desktop.dialogs.passphrase_dialog import PassphraseDialog
from desktop.main_window import MainWindow
from engine.storage import StoreOwner, open_store, uses_passphrase
from tests.desktop.window_helpers import LOAD_MS, SHORT, _window, listed
from tests.engine.storage.conftest import PAGE_SIZE

PASSPHRASE = "correct horse battery"


def _fill(path: Path, count: int = 12) -> None:
    with open_store(path) as store:
        for i in range(count):
            c = store.create_conversation(f"conversation {i}")
            q = store.add_message(c.id, None, "user", f"question {i} " + "x" * 3000)
            store.add_message(c.id, q.id, "assistant", f"answer {i} " + "y" * 3000)


def _damage_a_message_page(path: Path) -> None:
    """One bit flipped in a page that holds message text only (the conversations still
    list)."""
    base = path.read_bytes()
    for page in range(len(base) // PAGE_SIZE, 1, -1):
        path.write_bytes(base)
        data = bytearray(base)
        data[(page - 1) * PAGE_SIZE + 100] ^= 0x01
        path.write_bytes(bytes(data))
        try:
            with open_store(path) as store:
                if store.damage is not None and len(store.list_conversations()) == 12:
                    return
        except Exception:
            continue
    pytest.fail("no page held message text only")


def _answer_next_box(button_text: str) -> None:
    """Click ``button_text`` in the next message box, once it is up."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, click)
            return
        for button in box.findChildren(QPushButton):
            if button.text() == button_text:
                button.click()
                return
        raise AssertionError(f"no {button_text!r} in {[b.text() for b in box.buttons()]}")

    QTimer.singleShot(50, click)


@pytest.fixture
def damaged_window(
    qtbot: QtBot, starter_model_path: Path, keychain, db_path: Path
) -> Iterator[MainWindow]:
    _fill(db_path)
    _damage_a_message_page(db_path)
    store = open_store(db_path)
    owner = StoreOwner(store)
    w = _window(qtbot, owner)
    w.session.options = SHORT
    qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
    yield w
    w.close()
    owner.close()
    store.close()


def test_a_damaged_history_shows_the_banner_and_recover_copies_it(
    qtbot: QtBot, damaged_window: MainWindow, db_path: Path
):
    window = damaged_window
    damaged = db_path.read_bytes()
    qtbot.waitUntil(window.damage_banner.isVisible, timeout=5000)
    text = window.damage_banner.message_label.text()
    assert "damaged" in text and "read-only" in text
    assert len(listed(window)) == 12  # still readable

    _answer_next_box("Cancel")
    window.damage_banner.recover_button.click()
    assert window.damage_banner.isVisible() and db_path.read_bytes() == damaged

    _answer_next_box("Recover")  # the question
    _answer_next_box("OK")  # what was recovered
    with qtbot.waitSignal(window.health.recovered, timeout=20_000) as recovered:
        window.damage_banner.recover_button.click()
    report = recovered.args[0]
    qtbot.waitUntil(lambda: not window.damage_banner.isVisible(), timeout=5000)
    assert (report.kept_at / db_path.name).read_bytes() == damaged
    qtbot.waitUntil(lambda: len(listed(window)) == 12, timeout=5000)
    store = window.owner.store
    assert window.owner.call(lambda: store.damage) is None
    assert window.owner.call(lambda: store.create_conversation("saved again").id) > 0


def _with_dialog(actions: list[Callable[[PassphraseDialog], None]]) -> None:
    """Answer the next passphrase dialogs in turn."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PassphraseDialog):
            QTimer.singleShot(50, act)
            return
        actions.pop(0)(dialog)
        if actions:
            QTimer.singleShot(50, act)

    QTimer.singleShot(50, act)


def _type(text: str) -> Callable[[PassphraseDialog], None]:
    def do(dialog: PassphraseDialog) -> None:
        dialog.passphrase_edit.setText(text)
        dialog.open_button.click()

    return do


def test_a_passphrase_history_is_asked_for_at_start(qtbot: QtBot, keychain, db_path: Path):
    with open_store(db_path) as store:
        store.create_conversation("mine")
        store.rekey(passphrase=PASSPHRASE)
    assert uses_passphrase(db_path)
    problems: list[str] = []

    def wrong(dialog: PassphraseDialog) -> None:
        _type("not the passphrase")(dialog)

    def check_problem_then_right(dialog: PassphraseDialog) -> None:
        problems.append(dialog.problem_label.text())
        _type(PASSPHRASE)(dialog)

    _with_dialog([wrong, check_problem_then_right])
    store = desktop_app.open_history_at(db_path)
    assert store is not None
    with store:
        assert store.protection == "passphrase"
        assert [c.title for c in store.list_conversations()] == ["mine"]
    assert problems and "does not open" in problems[0]


def test_the_lock_screen_asks_for_the_passphrase(
    qtbot: QtBot, starter_model_path: Path, keychain, db_path: Path
):
    with open_store(db_path) as store:
        store.create_conversation("mine")
        store.rekey(passphrase=PASSPHRASE)
    store = open_store(db_path, passphrase=PASSPHRASE)
    owner = StoreOwner(store)
    window = _window(qtbot, owner)
    try:
        qtbot.waitUntil(lambda: len(listed(window)) == 1, timeout=LOAD_MS)
        with qtbot.waitSignal(window.store_locked, timeout=10_000):
            qtbot.keyClick(
                window.composer.text_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier
            )
        field = window.lock_screen.passcode_edit
        assert field.isVisible() and field.placeholderText() == "Passphrase"
        assert "passphrase" in window.lock_screen.hint_label.text()
        field.setText("not it")
        window.lock_screen.unlock_button.click()
        qtbot.waitUntil(window.lock_screen.problem_label.isVisible, timeout=10_000)
        assert "Wrong passphrase" in window.lock_screen.problem_label.text()
        assert window.is_locked()
        field.setText(PASSPHRASE)
        qtbot.keyClick(field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not window.is_locked(), timeout=10_000)
        qtbot.waitUntil(lambda: len(listed(window)) == 1, timeout=5000)
    finally:
        window.close()
        owner.close()
        store.close()


def test_the_privacy_panel_switches_to_a_passphrase_and_back(
    qtbot: QtBot, window: MainWindow, keychain, db_path: Path
):
    from desktop.dialogs.new_passphrase_dialog import NewPassphraseDialog

    store = window.owner.store
    window.owner.call(lambda: store.create_conversation("mine"))
    dialog = window.privacy.open_dialog()
    qtbot.waitUntil(dialog.protection_button.isVisible, timeout=5000)
    assert dialog.protection_button.text() == "Use a Passphrase…"

    seen: list[bool] = []

    def fill() -> None:
        chooser = QApplication.activeModalWidget()
        if not isinstance(chooser, NewPassphraseDialog):
            QTimer.singleShot(50, fill)
            return
        chooser.first_edit.setText("short")
        seen.append(chooser.use_button.isEnabled())  # too short: refused
        chooser.first_edit.setText(PASSPHRASE)
        chooser.second_edit.setText(PASSPHRASE + "x")
        seen.append(chooser.use_button.isEnabled())  # no match
        chooser.second_edit.setText(PASSPHRASE)
        chooser.use_button.click()

    QTimer.singleShot(50, fill)
    dialog.protection_button.click()
    assert seen == [False, False]
    qtbot.waitUntil(
        lambda: window.owner.call(lambda: store.protection) == "passphrase", timeout=20_000
    )
    assert keychain.load() is None and uses_passphrase(db_path)
    qtbot.waitUntil(
        lambda: dialog.protection_button.text() == "Use the System Keychain Instead…", timeout=5000
    )
    assert "passphrase" in dialog.protection_label.text()
    dialog.reject()

    with qtbot.waitSignal(window.store_locked, timeout=10_000):
        window.locker.lock()  # Ctrl+L itself is pressed in the test above
    assert window.lock_screen.passcode_edit.placeholderText() == "Passphrase"
    window.lock_screen.passcode_edit.setText(PASSPHRASE)
    window.lock_screen.unlock_button.click()
    qtbot.waitUntil(lambda: not window.is_locked(), timeout=20_000)

    dialog = window.privacy.open_dialog()
    qtbot.waitUntil(
        lambda: dialog.protection_button.text() == "Use the System Keychain Instead…", timeout=5000
    )
    _answer_next_box("&Yes")
    dialog.protection_button.click()
    qtbot.waitUntil(
        lambda: window.owner.call(lambda: store.protection) == "keychain", timeout=20_000
    )
    assert keychain.load() is not None and not uses_passphrase(db_path)
    dialog.reject()
