"""Real files for the documents tests, written by the libraries people's files come from:
fpdf2 for PDFs, python-docx for Word."""

from __future__ import annotations

from pathlib import Path

import docx
from fpdf import FPDF
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def write_pdf(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path) -> Path:
    """A PDF whose pages carry only drawings: no text layer, as a scan has."""
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


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
