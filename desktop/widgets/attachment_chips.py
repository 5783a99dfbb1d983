"""The files attached to the question being written, as chips above the text box: the file's
name (its full path on hover) and a button that takes it off again."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from desktop import theme
from desktop.widgets._buttons import icon_button
from desktop.widgets._flow_layout import FlowLayout

MAX_ATTACHMENTS = 20  # to one question
NAME_EM = 14  # a long file name is shortened in the middle beyond this width


class _Chip(QFrame):
    remove_requested = Signal(object)  # its Path

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentChip")
        self.path = path
        self.icon_label = QLabel()
        metrics = QFontMetrics(self.font())
        self.name_label = QLabel(
            metrics.elidedText(path.name, Qt.TextElideMode.ElideMiddle, theme.em(self, NAME_EM))
        )
        self.name_label.setToolTip(str(path))
        self.remove_button: QToolButton = icon_button("close", f"Remove {path.name}")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.path))
        row = QHBoxLayout(self)
        pad = theme.em(self, 0.3)
        row.setContentsMargins(pad, 0, 0, 0)
        row.setSpacing(pad)
        row.addWidget(self.icon_label)
        row.addWidget(self.name_label)
        row.addWidget(self.remove_button)
        self.restyle()

    def restyle(self) -> None:
        t = theme.tokens()
        size = theme.em(self, 0.9)
        self.icon_label.setPixmap(theme.icon("document", t.muted).pixmap(size, size))
        self.remove_button.setIcon(theme.icon("close", t.muted))
        self.remove_button.setIconSize(QSize(size, size))


class AttachmentChipsWidget(QWidget):
    """Hidden while nothing is attached."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentChips")
        self._chips: list[_Chip] = []
        self._flow = FlowLayout(self, spacing=theme.em(self, 0.3))
        self.setAccessibleName("Attached files")
        self.hide()

    def add(self, paths: Iterable[Path]) -> list[Path]:
        """Attach these files (each once, up to MAX_ATTACHMENTS); returns those added."""
        have = set(self.paths())
        added = []
        for given in paths:
            path = Path(os.path.abspath(given))
            if path in have or len(self._chips) >= MAX_ATTACHMENTS:
                continue
            have.add(path)
            chip = _Chip(path)
            chip.remove_requested.connect(self.remove)
            self._chips.append(chip)
            self._flow.addWidget(chip)
            added.append(path)
        if added:
            self._changed()
        return added

    def remove(self, path: Path) -> None:
        for chip in [c for c in self._chips if c.path == path]:
            self._chips.remove(chip)
            self._flow.removeWidget(chip)
            chip.deleteLater()
        self._changed()

    def clear(self) -> None:
        for chip in self._chips:
            self._flow.removeWidget(chip)
            chip.deleteLater()
        self._chips = []
        self._changed()

    def paths(self) -> list[Path]:
        return [c.path for c in self._chips]

    def names(self) -> list[str]:
        """The chips' text as shown."""
        return [c.name_label.text() for c in self._chips]

    def chip(self, path: Path) -> _Chip | None:
        return next((c for c in self._chips if c.path == path), None)

    def restyle(self) -> None:
        for chip in self._chips:
            chip.restyle()

    def _changed(self) -> None:
        self.setVisible(bool(self._chips))
        self.updateGeometry()
        self.changed.emit()
