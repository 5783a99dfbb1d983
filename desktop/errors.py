"""The one error presenter: what happened and what to do, never a traceback."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from engine.errors import Cancelled, HearthError

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> tuple[str, str]:
    """(what happened, what to do) for a person. Unknown errors name their kind only: their
    text may carry a prompt or a file's content."""
    if isinstance(exc, HearthError):
        return exc.user_message, exc.next_step
    return (
        "Something went wrong inside Hearth.",
        "Try again. If it keeps happening, restart Hearth.",
    )


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Hearth") -> None:
    """Show ``exc`` in a dialog (``Cancelled`` is never shown)."""
    if isinstance(exc, Cancelled):
        return
    if not isinstance(exc, HearthError):
        log.error("unexpected error: %s", type(exc).__name__)
    what, next_step = describe(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, what, QMessageBox.StandardButton.Ok, parent)
    if next_step:
        box.setInformativeText(next_step)
    box.setObjectName("error_dialog")
    box.open()  # not exec(): a modal loop here could re-enter a streaming slot
