"""Asks before Local-only is widened, saying exactly what becomes allowed. Cancel is the
default: Enter or Esc keeps Hearth local."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme


def confirmation_text(hosts: Sequence[str]) -> str:
    """The plain words of the dialog (also its accessible description)."""
    where = ", ".join(hosts) if hosts else "(none: the catalog names no download host)"
    return (
        "Only this becomes allowed:\n"
        "• downloading a model, nothing else — your conversations never leave this computer;\n"
        f"• only to the hosts the model catalog names: {where};\n"
        "• only while a download you started is running.\n"
        "Every other connection stays blocked and is recorded in the privacy log. You can go "
        "back to Local-only at any time."
    )


class PrivacyConfirmDialog(QDialog):
    """``exec()`` returns ``Accepted`` only when the person clicked "Allow model downloads".
    ``hosts`` are the download hosts of the catalog's models, as the catalog names them."""

    def __init__(self, hosts: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Allow model downloads?")
        self._hosts = tuple(hosts)
        self.heading_label = QLabel("<b>Allow model downloads?</b>")
        self.body_label = QLabel(_as_html(self._hosts))
        self.body_label.setTextFormat(Qt.TextFormat.RichText)
        self.body_label.setWordWrap(True)
        self.body_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body_label.setAccessibleDescription(confirmation_text(self._hosts))
        self.setAccessibleDescription(confirmation_text(self._hosts))

        self.buttons = QDialogButtonBox()
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.allow_button = QPushButton("Allow model downloads")
        self.buttons.addButton(self.allow_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.allow_button.setAutoDefault(False)
        self.allow_button.setDefault(False)
        self.allow_button.setEnabled(bool(self._hosts))
        self.cancel_button.setAutoDefault(True)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading_label)
        layout.addWidget(self.body_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(theme.em(self, 26))
        self.cancel_button.setFocus()

    def hosts(self) -> tuple[str, ...]:
        return self._hosts

    def text(self) -> str:
        return confirmation_text(self._hosts)


def _as_html(hosts: Sequence[str]) -> str:
    lines = html.escape(confirmation_text(hosts)).split("\n")
    items = "".join(f"<li>{line[2:]}</li>" for line in lines if line.startswith("• "))
    return f"<p>{lines[0]}</p><ul>{items}</ul><p>{lines[-1]}</p>"
