"""Starts the Qt application: opens the encrypted store, keeps the egress ledger in it,
shows the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

import engine.policy
from desktop import qt_log, theme
from desktop.dialogs.passphrase_dialog import PassphraseDialog
from desktop.main_window import MainWindow
from desktop.single_instance import SingleInstance
from engine import paths
from engine.storage import (
    ConversationStore,
    KeyNotFound,
    PassphraseRequired,
    StorageError,
    StoreOwner,
    WrongKey,
    open_memory_store,
    open_store,
    set_uses_passphrase,
)


def open_history() -> ConversationStore | None:
    """The encrypted store. A history protected by a passphrase asks for it; when the store
    cannot be opened, the person chooses between chatting without saving and quitting (the
    default: nothing is touched either way)."""
    return open_history_at(None)


def open_history_at(path: Path | None) -> ConversationStore | None:
    """``open_history`` for the database at ``path`` (None: the usual place)."""
    try:
        return open_store(path)
    except (PassphraseRequired, KeyNotFound) as exc:
        return ask_passphrase(exc, path)
    except StorageError as exc:
        return cannot_open(exc)


def ask_passphrase(reason: StorageError, path: Path | None) -> ConversationStore | None:
    """Ask until the passphrase opens the history, or the person wants the other choices."""
    dialog = PassphraseDialog(reason.user_message)
    try:
        while dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                store = open_store(path, passphrase=dialog.passphrase())
            except WrongKey:
                dialog.show_problem("That passphrase does not open your history. Try again.")
                continue
            except StorageError as exc:
                return cannot_open(exc)
            if isinstance(reason, KeyNotFound):
                set_uses_passphrase(store.path, True)  # asked for at once from now on
            return store
    finally:
        dialog.deleteLater()
    return cannot_open(reason)


def cannot_open(exc: StorageError) -> ConversationStore | None:
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Your conversation history cannot be opened")
    box.setText(exc.user_message)
    box.setInformativeText(
        f"{exc.next_step}\n\nYou can chat now without saving: nothing will be written "
        "to disk, and your existing history is left untouched."
    )
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.addButton("Chat Without Saving", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(quit_button)
    box.exec()
    if box.clickedButton() is quit_button:
        return None
    return open_memory_store()


# While the window starts, the model thread and the hardware thread run Python (imports, GGUF
# metadata); CPython hands the GIL over every 5 ms by default, which the event loop feels as
# lag. 1 ms gives it back sooner (benchmarks/ui.py measures launch lag with this too).
GIL_SWITCH_INTERVAL_S = 0.001


def main() -> int:
    qt_log.install()  # before Qt can print an address or a path
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    assert isinstance(app, QApplication)
    theme.follow_os(app)  # light or dark as the OS says, also when it changes
    instance = SingleInstance(paths.data_dir() / "run")
    if not instance.primary:
        instance.notify_primary()
        print("Hearth is already running: its window was brought to the front.", file=sys.stderr)
        return 0
    store = open_history()
    if store is None:
        return 1
    owner = StoreOwner(store)  # from here on, only its thread uses the store
    ledger = engine.policy.ledger()
    ledger.attach(lambda entry: owner.post(lambda: store.record_egress(entry)))
    try:
        window = MainWindow(owner)
        instance.activation_requested.connect(lambda: bring_to_front(window))
        window.everything_forgotten.connect(tell_forgotten)
        window.show()
        return app.exec()
    finally:
        ledger.detach()
        instance.release()
        owner.close()  # finishes the queued saves
        store.close()


def tell_forgotten() -> None:
    """After Forget everything the window closes; the app quits once this is read."""
    QMessageBox.information(
        None,
        "Everything is forgotten",
        "Your conversations, settings, egress log, database key and app-lock passcode are "
        "deleted. Hearth closes now; the next start is a fresh first run.",
    )


def bring_to_front(window: QWidget) -> None:
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
