"""One source of a reply: the passage the model was given, where it comes from, and a way to
open the original file (asked first: it is handed to another program)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.dialogs.open_link_dialog import confirm_open_link
from engine.docs import label
from engine.storage.types import Source


class PassageDialog(QDialog):
    def __init__(self, source: Source, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passage_dialog")
        self.source = source
        self.setWindowTitle(f"Source [{source.number}] — {label(source)}")
        self.title_label = QLabel(f"[{source.number}] {label(source)}")
        self.title_label.setObjectName("welcomeTitle")
        self.path_label = QLabel(source.path)
        self.path_label.setObjectName("hintLabel")
        self.path_label.setWordWrap(True)
        self.intro_label = QLabel("The passage the answer was given, as Hearth read it:")
        self.intro_label.setWordWrap(True)
        self.text_view = QPlainTextEdit(source.text.strip())
        self.text_view.setReadOnly(True)
        self.text_view.setAccessibleName("Passage")
        self.text_view.setMinimumSize(theme.em(self, 30), theme.em(self, 12))
        self.missing_label = QLabel("The original file is no longer at this path.")
        self.missing_label.setObjectName("hintLabel")
        self.open_button = QPushButton("Open original…")
        self.open_button.setToolTip("Open the file this passage comes from (Hearth asks first).")
        self.open_button.clicked.connect(self._on_open_button_clicked)
        exists = Path(source.path).is_file()
        self.open_button.setEnabled(exists)
        self.missing_label.setVisible(not exists)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.title_label, self.path_label, self.intro_label, self.text_view):
            layout.addWidget(widget)
        layout.addWidget(self.missing_label)
        layout.addWidget(buttons)
        self.resize(theme.em(self, 36), theme.em(self, 24))

    def _on_open_button_clicked(self) -> None:
        url = QUrl.fromLocalFile(self.source.path)
        if confirm_open_link(self, url):
            QDesktopServices.openUrl(url)
