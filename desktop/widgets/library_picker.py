"""“Answer from: None ▾”: which of the person's libraries the open conversation answers from.
Signals only; the chat session stores the choice with the conversation."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

NONE_TEXT = "None"
MANAGE_TEXT = "Manage libraries…"
_MANAGE = -1  # the item that opens the Library instead of choosing one


class LibraryPickerWidget(QWidget):
    library_chosen = Signal(object)  # a library id, or None: answer from no library
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Answer from:")
        self.label.setObjectName("hintLabel")
        self.combo = QComboBox()
        self.combo.setAccessibleName("Answer from library")
        self.combo.setToolTip(
            "A library of your documents that answers in this conversation, with its "
            "sources. Attached files are always used."
        )
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(8)
        self.label.setBuddy(self.combo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.combo)
        self._libraries: list[tuple[int, str]] = []
        self._current: int | None = None
        self._fill()
        self.combo.activated.connect(self._on_combo_activated)

    def set_libraries(self, libraries: Sequence[tuple[int, str]]) -> None:
        """The person's libraries as (id, name); a chosen one that is gone shows None."""
        self._libraries = list(libraries)
        self._fill()

    def set_current(self, library_id: int | None) -> None:
        self._current = library_id
        self._select()

    def current(self) -> int | None:
        """The library shown as chosen (None when none, or when it is not listed yet)."""
        data = self.combo.currentData()
        return data if isinstance(data, int) and data != _MANAGE else None

    def current_text(self) -> str:
        return self.combo.currentText()

    def _fill(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(NONE_TEXT, None)
        for library_id, name in self._libraries:
            self.combo.addItem(name, library_id)
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItem(MANAGE_TEXT, _MANAGE)
        self.combo.blockSignals(False)
        self._select()

    def _select(self) -> None:
        index = self.combo.findData(self._current) if self._current is not None else 0
        self.combo.setCurrentIndex(max(index, 0))

    def _on_combo_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == _MANAGE:
            self._select()  # the choice stays what it was
            self.manage_requested.emit()
            return
        chosen = data if isinstance(data, int) else None
        self._current = chosen
        self.library_chosen.emit(chosen)
