"""Every keyboard shortcut in one table: the window installs them from it, and Ctrl+/ shows it,
so the list a person reads is the list that works."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

# (keys, what they do). The window maps each "action" to a slot; text-box keys are handled by
# the widgets themselves and are listed here for the person.
SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("Ctrl+N", "new", "New chat"),
    ("Ctrl+K", "search", "Search conversations"),
    ("Ctrl+F", "search", "Search conversations"),
    ("Esc", "escape", "Stop the reply (in the search box: clear the search)"),
    ("Ctrl+Z", "undo", "Undo deleting a conversation (while offered)"),
    ("Ctrl+L", "lock", "Lock Hearth"),
    ("Ctrl+,", "settings", "Settings"),
    ("Ctrl+D", "library", "Library: your documents, to ask about"),
    ("Ctrl+Shift+C", "copy", "Copy the last answer"),
    ("Ctrl+B", "sidebar", "Show or hide the conversations"),
    ("Ctrl+/", "help", "Show these shortcuts"),
    ("Ctrl+Q", "quit", "Quit Hearth"),
)
TEXT_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send"),
    ("Shift+Enter", "New line"),
    ("Up (empty box)", "Edit your last message"),
    ("Ctrl+Enter", "Save an edited message"),
)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcuts_dialog")
        self.form = form = QFormLayout()
        for keys, _action, text in SHORTCUTS:
            form.addRow(QLabel(f"<b>{keys}</b>"), QLabel(text))
        for keys, text in TEXT_KEYS:
            form.addRow(QLabel(f"<b>{keys}</b>"), QLabel(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def rows(self) -> int:
        return self.form.rowCount()
