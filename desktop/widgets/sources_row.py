"""The passages a reply was given, under it: “Sources [1] lease.pdf, page 3 [2] …”. The ones
the answer cites by number are emphasised; clicking one shows its passage."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from desktop import theme
from desktop.widgets._flow_layout import FlowLayout
from engine.docs import cited, label
from engine.storage.types import Source

TIP_CHARS = 240


class SourcesRowWidget(QWidget):
    source_activated = Signal(object)  # the Source clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourcesRow")
        self._sources: list[Source] = []
        self._cited: list[int] = []
        self._buttons: list[QPushButton] = []
        self.title = QLabel("Sources")
        self.title.setObjectName("sectionLabel")
        self._flow = FlowLayout(spacing=theme.em(self, 0.3))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.em(self, 0.2))
        layout.addWidget(self.title)
        layout.addLayout(self._flow)

    def set_sources(self, sources: Sequence[Source], answer: str = "") -> None:
        """Show ``sources``; those ``answer`` cites are emphasised (none while it streams)."""
        for button in self._buttons:
            self._flow.removeWidget(button)
            button.deleteLater()
        self._sources = list(sources)
        self._cited = cited(answer, self._sources) if answer else []
        self._buttons = [self._button(s) for s in self._sources]
        for button in self._buttons:
            self._flow.addWidget(button)
        self.setVisible(bool(self._sources))

    def mark_cited(self, answer: str) -> None:
        """The answer is complete: emphasise the passages it cites."""
        if self._sources:
            self.set_sources(self._sources, answer)

    def _button(self, source: Source) -> QPushButton:
        is_cited = source.number in self._cited
        button = QPushButton(f"[{source.number}] {label(source)}")
        button.setObjectName("sourceButton")
        button.setProperty("cited", is_cited)
        font = button.font()
        font.setBold(is_cited)
        button.setFont(font)
        button.setAccessibleName(
            f"Source {source.number}: {label(source)}{', cited' if is_cited else ''}"
        )
        flat = " ".join(source.text.split())
        button.setToolTip(flat if len(flat) <= TIP_CHARS else flat[: TIP_CHARS - 1] + "…")
        button.clicked.connect(lambda _checked=False, s=source: self.source_activated.emit(s))
        return button

    # -- what a person sees, for tests ----------------------------------------------------------

    def sources(self) -> list[Source]:
        return list(self._sources)

    def labels(self) -> list[str]:
        return [b.text() for b in self._buttons]

    def cited_numbers(self) -> list[int]:
        return list(self._cited)

    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)
