"""Asking before a link in an answer, or a source's original file, is opened: either is handed
to another program (the browser, the file's own application), which Hearth does not control."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

import engine.policy


class OpenLinkDialog(QMessageBox):
    """Names the host the browser will contact, or the file that will be opened; the default
    choice is not to open it."""

    def __init__(self, parent: QWidget | None, url: QUrl) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Question)
        if url.isLocalFile():
            path = url.toLocalFile()
            self.setWindowTitle("Open the original file?")
            self.setText(f"Open this file in the program your computer uses for it?\n\n{path}")
            self.setInformativeText(
                "That program is separate from Hearth: what it does with the file (keeping it "
                "in its recent files, for instance) is up to it. Hearth itself sends nothing."
            )
            self.open_button = self.addButton("Open File", QMessageBox.ButtonRole.AcceptRole)
            self.open_button.setAccessibleName(f"Open {path}")
        else:
            host = url.host() or url.toString()
            self.setWindowTitle("Open link in your browser?")
            self.setText(f"Open this link in your web browser?\n\n{url.toString()}")
            mode = engine.policy.current_mode().label
            self.setInformativeText(
                f"Your browser is a separate program: it will connect to {host} over the "
                f"internet, which Hearth's {mode} mode cannot prevent. Hearth itself sends "
                "nothing, and the address is all the browser receives."
            )
            self.open_button = self.addButton("Open in Browser", QMessageBox.ButtonRole.AcceptRole)
            self.open_button.setAccessibleName(f"Open {host} in the web browser")
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)
        self.setEscapeButton(self.cancel_button)


def confirm_open_link(parent: QWidget | None, url: QUrl) -> bool:
    """Ask; True only when the person chose to open the link (or the file)."""
    dialog = OpenLinkDialog(parent, url)
    dialog.exec()
    return dialog.clickedButton() is dialog.open_button
