"""The model in view: which installed model answers, whether it is loading, and the way to the
model manager. Signals only; the chat session loads what is picked."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QProgressBar, QPushButton, QWidget

from engine.catalog import Catalog
from engine.catalog.installed import installed
from engine.errors import HearthError


class ModelBarWidget(QWidget):
    model_picked = Signal(str)  # a catalog id, picked by the person
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picker = QComboBox()
        self.picker.setAccessibleName("Model")
        self.picker.setToolTip("The model that answers. Only installed models are listed.")
        # Long model names shrink with the window instead of setting its minimum width.
        self.picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.picker.setMinimumContentsLength(14)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: llama.cpp loads in one call
        self.progress.setMaximumWidth(120)
        self.progress.setAccessibleName("Loading the model")
        self.models_button = QPushButton("Models…")
        self.models_button.setAccessibleName("Models")
        self.models_button.setToolTip("Install, import or remove models.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picker)
        layout.addWidget(self.progress)
        layout.addWidget(self.models_button)
        self.picker.activated.connect(self._on_picker_activated)
        self.models_button.clicked.connect(self.manage_requested)
        self._busy = False

    def fill(self, catalog: Catalog | None, error: HearthError | None = None) -> None:
        """List the installed catalog models, keeping the current choice when it is still
        there (else the catalog's default)."""
        current = self.picker.currentData()
        self.picker.clear()
        if catalog is None:
            self.picker.addItem("No model catalog", "")
            if error is not None:
                self.picker.setToolTip(error.full_message)
            return
        have = installed(catalog)
        for model in catalog.models:
            if model.id in have:
                self.picker.addItem(model.label, model.id)
        index = self.picker.findData(current)
        if index < 0:
            index = self.picker.findData(catalog.default_id)
        self.picker.setCurrentIndex(max(index, 0))

    def current_id(self) -> str:
        return self.picker.currentData() or ""

    def select(self, model_id: str) -> None:
        index = self.picker.findData(model_id)
        if index >= 0:
            self.picker.setCurrentIndex(index)

    def set_loading(self) -> None:
        self.progress.show()
        self.picker.setEnabled(False)

    def set_loaded(self) -> None:
        self.progress.hide()
        self.picker.setEnabled(True)

    def set_busy(self, busy: bool) -> None:
        """While a reply streams the model is not swapped."""
        self._busy = busy

    def _on_picker_activated(self, index: int) -> None:
        model_id = self.picker.itemData(index)
        if model_id and not self._busy:
            self.model_picked.emit(model_id)
