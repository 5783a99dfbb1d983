"""Starts the Qt application: opens the encrypted store, keeps the egress ledger in it,
shows the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

import engine.policy
from desktop import theme
from desktop.main_window import MainWindow
from desktop.single_instance import SingleInstance
from engine import paths
from engine.storage import (
    ConversationStore,
    StorageError,
    StoreOwner,
    open_memory_store,
    open_store,
)


def open_history() -> ConversationStore | None:
    """The encrypted store; when it cannot be opened, the person chooses between chatting
    without saving and quitting (the default: nothing is touched either way)."""
    try:
        return open_store()
    except StorageError as exc:
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
