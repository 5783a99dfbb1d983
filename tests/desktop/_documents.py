"""Helpers for the documents tests: what file dialogs could leave behind, and a drop of files
as a file manager delivers it. (The files themselves: tests/_files.py.)"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def dialog_traces(profile: Path) -> list[Path]:
    """Files a file dialog could leave in the profile: GTK's recently used list, Qt's own
    dialog history. The test profile's XDG folders are all under ``profile``."""
    return [*profile.rglob("recently-used.xbel"), *profile.rglob("QtProject.conf")]


def drop(widget: QWidget, paths: list[Path]) -> None:
    """What a drag of ``paths`` from a file manager delivers to ``widget``: enter, move, drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    at, copy = QPoint(10, 10), Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(widget, QDragEnterEvent(at, copy, mime, buttons, keys))
    QApplication.sendEvent(widget, QDragMoveEvent(at, copy, mime, buttons, keys))
    QApplication.sendEvent(widget, QDropEvent(QPointF(at), copy, mime, buttons, keys))
