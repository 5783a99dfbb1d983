"""Privacy in the window: the mode toggle asks before widening, the privacy panel shows the
ledger, the protection and where data lives, and Forget everything really forgets."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

import engine.policy
from desktop import app_lock
from desktop.dialogs.privacy_confirm_dialog import PrivacyConfirmDialog
from desktop.dialogs.privacy_dialog import PrivacyDialog
from desktop.main_window import MainWindow
from engine.catalog import load_catalog
from engine.policy import Action, EgressAttempt, Mode
from engine.policy.privacy_check import data_locations
from engine.storage import Keychain
from tests.desktop.window_helpers import ask, db


def _click_toggle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.mouseClick(window.privacy_toggle.button, Qt.MouseButton.LeftButton)


def test_allowing_downloads_asks_first_and_going_back_does_not(
    qtbot: QtBot, window: MainWindow, egress
):
    seen: list[tuple[tuple[str, ...], bool, Mode]] = []

    def answer(allow: bool) -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PrivacyConfirmDialog)
        # Asked before anything changed; Cancel is what Enter or Esc picks.
        seen.append(
            (dialog.hosts(), dialog.cancel_button.isDefault(), engine.policy.current_mode())
        )
        (dialog.allow_button if allow else dialog.cancel_button).click()

    QTimer.singleShot(0, lambda: answer(False))
    _click_toggle(qtbot, window)
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    assert window.privacy_toggle.text() == "Local-only"
    assert [e for e in egress.entries() if e.action is Action.MODE] == []

    QTimer.singleShot(0, lambda: answer(True))
    _click_toggle(qtbot, window)
    assert engine.policy.current_mode() is Mode.DOWNLOADS_ALLOWED
    assert window.privacy_toggle.text() == "Downloads allowed"
    hosts, cancel_is_default, mode_while_asking = seen[-1]
    # Exactly what a download may reach: the catalog's host and the CDN it redirects to.
    assert (
        hosts
        == tuple(load_catalog().download_hosts())
        == ("hf.co", "*.hf.co", "huggingface.co", "*.huggingface.co")
    )
    assert cancel_is_default and mode_while_asking is Mode.LOCAL_ONLY

    _click_toggle(qtbot, window)  # back to Local-only: no question
    assert QApplication.activeModalWidget() is None
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    assert window.privacy_toggle.text() == "Local-only"
    changes = [e.detail for e in egress.entries() if e.action is Action.MODE]
    assert changes == ["Local-only → Downloads allowed", "Downloads allowed → Local-only"]

    # The privacy panel's ledger shows both changes.
    dialog = window.open_privacy_dialog()
    rows = dialog.ledger_rows()
    assert rows[-2][1:] == [
        "mode",
        "Local-only → Downloads allowed",
        "Downloads allowed",
        "allowed",
    ]
    assert rows[-1][2] == "Downloads allowed → Local-only"
    dialog.close()


def test_privacy_panel_shows_ledger_protection_and_locations(qtbot: QtBot, window: MainWindow):
    store = db(window)
    for host in ("a.example", "b.example"):
        store.record_egress(
            EgressAttempt(
                datetime.now(UTC),
                Action.CONNECT,
                host,
                443,
                "tests",
                Mode.LOCAL_ONLY,
                allowed=False,
            )
        )
    dialog = window.open_privacy_dialog()
    qtbot.waitUntil(lambda: "kept in your encrypted history" in dialog.stored_label.text())
    assert dialog.stored_label.text().startswith("2 entries kept")
    assert dialog.protection_label.text() == store.protection_description
    assert "system keychain" in dialog.protection_label.text()
    for what, where in data_locations(store.path):
        assert dialog.location(what) == where
    assert dialog.location("Conversations (encrypted)") == str(store.path)
    session = engine.policy.ledger().entries()
    assert dialog.ledger_table.rowCount() == len(session)
    assert dialog.isVisible() and dialog.forget_button.isVisible()
    dialog.close()


def test_an_empty_ledger_says_zero_connections(qtbot: QtBot):
    dialog = PrivacyDialog([], [("Conversations (encrypted)", "/x/hearth.db")], "Local-only")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.session_label.text() == "0 connections this session."
    assert not dialog.ledger_table.isVisible()


def test_forget_everything_asks_then_deletes_all_and_closes(
    qtbot: QtBot, window: MainWindow, keychain: Keychain
):
    ask(qtbot, window, "Remember the word turnip.")
    app_lock.set_passcode("2468")
    path = db(window).path
    assert path.exists() and keychain.load() is not None
    defaults = []

    def answer(forget: bool) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and box.objectName() == "forget_confirm_dialog"
        defaults.append(box.defaultButton().text())
        buttons = {b.text(): b for b in box.buttons()}
        buttons["Forget Everything" if forget else "Cancel"].click()

    dialog = window.open_privacy_dialog()
    QTimer.singleShot(0, lambda: answer(False))
    dialog.forget_button.click()
    assert defaults == ["Cancel"]
    assert path.exists() and db(window).list_conversations()  # Cancel touched nothing

    QTimer.singleShot(0, lambda: answer(True))
    with qtbot.waitSignal(window.everything_forgotten, timeout=10_000):
        dialog.forget_button.click()
    assert db(window).closed
    assert not path.exists()
    assert not any(path.parent.glob(path.name + "-*"))  # no WAL or journal left either
    assert keychain.load() is None
    assert not app_lock.has_passcode()
    assert not window.isVisible()  # the window closed: the app quits, next start is fresh
