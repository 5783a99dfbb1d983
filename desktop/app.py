"""Starts the Qt application: opens the encrypted store, keeps the egress ledger in it,
shows the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

import engine.policy
from desktop.main_window import MainWindow
from engine.storage import ConversationStore, StorageError, open_memory_store, open_store


def open_history(parent: None = None) -> ConversationStore | None:
    """The encrypted store; when it cannot be opened, the person chooses between chatting
    without saving and quitting (the default: nothing is touched either way)."""
    try:
        return open_store()
    except StorageError as exc:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Your conversation history cannot be opened")
        box.setText(exc.user_message)
        box.setInformativeText(
            f"{exc.next_step}\n\nYou can chat now without saving: nothing will be written "
            "to disk, and your existing history is left untouched.")
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Chat Without Saving", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(quit_button)
        box.exec()
        if box.clickedButton() is quit_button:
            return None
        return open_memory_store()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    store = open_history()
    if store is None:
        return 1
    with store:
        engine.policy.ledger().attach(store.record_egress)
        try:
            window = MainWindow(store)
            window.show()
            return app.exec()
        finally:
            engine.policy.ledger().detach()
