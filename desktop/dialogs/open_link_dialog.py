"""Asking before a link in an answer is opened: the browser is egress by another process."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

import engine.policy


class OpenLinkDialog(QMessageBox):
    """Names the host the browser will contact; the default choice is not to open it."""

    def __init__(self, parent: QWidget | None, url: QUrl) -> None:
        super().__init__(parent)
        host = url.host() or url.toString()
        self.setWindowTitle("Open link in your browser?")
        self.setIcon(QMessageBox.Icon.Question)
        self.setText(f"Open this link in your web browser?\n\n{url.toString()}")
        mode = engine.policy.current_mode().label
        self.setInformativeText(
            f"Your browser is a separate program: it will connect to {host} over the "
            f"internet, which Hearth's {mode} mode cannot prevent. Hearth itself sends "
            "nothing, and the address is all the browser receives."
        )
        self.open_button = self.addButton("Open in Browser", QMessageBox.ButtonRole.AcceptRole)
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)
        self.setEscapeButton(self.cancel_button)
        self.open_button.setAccessibleName(f"Open {host} in the web browser")


def confirm_open_link(parent: QWidget | None, url: QUrl) -> bool:
    """Ask; True only when the person chose to open the link."""
    dialog = OpenLinkDialog(parent, url)
    dialog.exec()
    return dialog.clickedButton() is dialog.open_button
