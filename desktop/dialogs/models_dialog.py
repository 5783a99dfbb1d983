"""The model manager: every catalog model with its installed state, disk use and fit on this
machine; Download (with progress and cancel), Import… (or drop a .gguf on the dialog), and
Remove (after confirming).

Downloads and imports run on a ``ModelJobWorker`` moved to its own QThread: they take minutes
and must not hold up the one storage executor that ``BackgroundOp`` uses. The worker calls the
engine (``engine.catalog.download`` / ``importer``) and only emits signals; the dialog updates
its widgets on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import engine.policy
from desktop.errors import show_error
from engine.catalog import Catalog, CatalogModel, load_catalog
from engine.catalog.download import Progress, download
from engine.catalog.fit import fit_model
from engine.catalog.hardware import Hardware
from engine.catalog.importer import ImportResult, import_model
from engine.catalog.manage import model_states, other_models, plan_removal, remove
from engine.catalog.plan import format_size
from engine.errors import Cancelled, HearthError
from engine.policy import Mode

COLUMNS = ("Model", "Installed", "On disk", "Fit on this machine (estimate)")
# (title, question) → True to go ahead. Replaceable so tests can answer as a person would.
Confirm = Callable[[str, str], bool]


def _allow_this_download() -> None:
    # Runs on the worker thread when the person has confirmed the download in this dialog:
    # their action widens the mode for this one download (the engine narrows it after).
    engine.policy.set_mode(Mode.DOWNLOADS_ALLOWED)


class ModelJobWorker(QObject):
    """Runs one long model job (download or import) on its own thread."""

    progressed = Signal(object)  # Progress, or (done, total) for an import
    finished = Signal(object)  # the job's result
    failed = Signal(object)  # the exception (Cancelled when stopped)

    def __init__(self, job: Callable[[Callable[[Any], None], threading.Event], object]) -> None:
        super().__init__()
        self._job = job
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self.progressed.emit, self.cancel)
        except Exception as exc:  # handed to the GUI thread, shown by show_error there
            self.failed.emit(exc)
        else:
            self.finished.emit(result)


class ModelsDialog(QDialog):
    """``catalog`` defaults to the shipped one; ``hardware`` None shows the fit as being
    measured until ``set_hardware``."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        hardware: Hardware | None = None,
        parent: QWidget | None = None,
        *,
        confirm: Confirm | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("models_dialog")
        self.setAcceptDrops(True)
        self.resize(900, 480)
        self.catalog = catalog or load_catalog()
        # None until measured: the window measures off the GUI thread and calls set_hardware.
        self.hardware = hardware
        self.confirm: Confirm = confirm or self._ask
        self._thread: QThread | None = None
        self._worker: ModelJobWorker | None = None
        self._row_ids: list[str] = []  # catalog id, or the file name of an imported model

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("models_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch
        )
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)

        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Stop download", self)
        self.import_button = QPushButton("Import…", self)
        self.remove_button = QPushButton("Remove", self)
        self.close_button = QPushButton("Close", self)
        self.download_button.clicked.connect(self._on_download_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.close_button.clicked.connect(self.close)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel("Drop a .gguf file here to import it.", self)
        self.status.setObjectName("models_status")
        self.status.setWordWrap(True)

        buttons = QHBoxLayout()
        for button in (
            self.download_button,
            self.cancel_button,
            self.import_button,
            self.remove_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.refresh()

    # ---- the table -------------------------------------------------------------------------

    def set_hardware(self, hardware: Hardware) -> None:
        """What this computer has, measured afresh: the fit column is redone."""
        self.hardware = hardware
        self.refresh()

    def refresh(self) -> None:
        """Re-read what is installed and fill the table."""
        selected = self.selected_id()
        self.table.setRowCount(0)
        self._row_ids = []
        for state in model_states(self.catalog):
            m = state.model
            if state.installed:
                installed = "Installed (ships with Hearth)" if state.bundled else "Installed"
            elif state.partial_bytes:
                installed = f"Partly downloaded ({format_size(state.partial_bytes)})"
            else:
                installed = "Not installed"
            on_disk = format_size(state.disk_bytes) if state.installed and not state.bundled else ""
            self._add_row(
                m.id,
                f"{m.name} {m.quantization}",
                installed,
                on_disk,
                fit_model(m, self.hardware).describe() if self.hardware else "Measuring…",
            )
        for path in other_models(self.catalog):
            self._add_row(
                path.name,
                path.name,
                "Installed (not in the catalog)",
                format_size(path.stat().st_size),
                "",
            )
        if selected in self._row_ids:
            self.table.selectRow(self._row_ids.index(selected))
        self._update_buttons()

    def _add_row(self, key: str, *cells: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate(cells):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self._row_ids.append(key)

    def row_texts(self, key: str) -> list[str]:
        """What the row of ``key`` shows, cell by cell."""
        row = self._row_ids.index(key)
        items = (self.table.item(row, c) for c in range(self.table.columnCount()))
        return [item.text() if item is not None else "" for item in items]

    def select(self, key: str) -> None:
        self.table.selectRow(self._row_ids.index(key))

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self._row_ids[rows[0].row()] if rows else None

    def _selected_model(self) -> CatalogModel | None:
        key = self.selected_id()
        try:
            return self.catalog.get(key) if key else None
        except KeyError:
            return None

    def _update_buttons(self) -> None:
        busy = self._thread is not None
        model = self._selected_model()
        key = self.selected_id()
        texts = self.row_texts(key) if key else []
        installed = bool(texts) and texts[1].startswith("Installed")
        self.download_button.setEnabled(
            not busy and model is not None and bool(model.urls) and not installed
        )
        self.cancel_button.setEnabled(busy)
        self.import_button.setEnabled(not busy)
        self.remove_button.setEnabled(
            not busy and key is not None and (texts[2] != "" or texts[1].startswith("Partly"))
        )

    @Slot()
    def _on_table_selection_changed(self) -> None:
        self._update_buttons()

    # ---- download --------------------------------------------------------------------------

    @Slot()
    def _on_download_button_clicked(self) -> None:
        model = self._selected_model()
        if model is None:
            return
        hosts = sorted(model.hosts)
        local_only = engine.policy.current_mode() is Mode.LOCAL_ONLY
        question = f"Download {model.name} {model.quantization} from {', '.join(hosts)}?"
        if local_only:
            question += (
                "\n\nLocal-only mode is on. Downloads will be allowed for this "
                "download only, to those hosts only; Local-only comes back when it "
                "ends."
            )
        if not self.confirm("Download model", question):
            self.status.setText("Nothing was downloaded.")
            return
        consent = _allow_this_download if local_only else None

        def job(report: Callable[[Any], None], cancel: threading.Event) -> object:
            return download(model, consent=consent, progress=report, cancel=cancel)

        self.status.setText(f"Downloading {model.name} {model.quantization}…")
        self._start(job)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()

    # ---- import ----------------------------------------------------------------------------

    @Slot()
    def _on_import_button_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import a model", "", "GGUF models (*.gguf)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        """Check and import ``path`` on the worker thread."""
        if self._thread is not None:
            self.status.setText("Wait for the current download or import to finish.")
            return
        catalog = self.catalog

        def job(report: Callable[[Any], None], cancel: threading.Event) -> object:
            return import_model(path, catalog, progress=lambda d, t: report((d, t)), cancel=cancel)

        self.status.setText(f"Checking {path.name}…")
        self._start(job)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_gguf(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_gguf(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.import_file(path)

    @staticmethod
    def _dropped_gguf(event: QDragEnterEvent | QDropEvent) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return files[0] if len(files) == 1 and files[0].suffix.lower() == ".gguf" else None

    # ---- remove ----------------------------------------------------------------------------

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        key = self.selected_id()
        if key is None:
            return
        try:
            removal = plan_removal(self.catalog, key)
        except HearthError as exc:
            show_error(self, exc)
            return
        files = "\n".join(f"• {p.name}" for p in removal.files)
        if not self.confirm(
            "Remove model",
            f"Remove {removal.label}? This deletes:\n{files}\n"
            f"and frees {format_size(removal.disk_bytes)}.",
        ):
            self.status.setText("Nothing was removed.")
            return
        try:
            freed = remove(removal)
        except OSError as exc:
            show_error(self, exc)
            return
        self.status.setText(f"Removed {removal.label}; {format_size(freed)} freed.")
        self.refresh()

    # ---- the worker thread -----------------------------------------------------------------

    def _start(self, job: Callable[[Callable[[Any], None], threading.Event], object]) -> None:
        thread = QThread(self)
        worker = ModelJobWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progressed.connect(self._on_worker_progressed)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        self._thread, self._worker = thread, worker
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._update_buttons()
        thread.start()

    def _stop_thread(self) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
        if worker is not None:
            worker.deleteLater()
        self.progress.setVisible(False)

    @Slot(object)
    def _on_worker_progressed(self, update: object) -> None:
        if isinstance(update, Progress):
            if update.total:
                self.progress.setValue(int(1000 * update.done / update.total))
            eta = f", about {update.eta_s:.0f} s left" if update.eta_s else ""
            self.status.setText(
                f"{format_size(update.done)} of {format_size(update.total)}, "
                f"{update.speed / 1e6:.1f} MB/s{eta}"
            )
        elif isinstance(update, tuple):
            done, total = update
            if total:
                self.progress.setValue(int(1000 * done / total))

    @Slot(object)
    def _on_worker_finished(self, result: object) -> None:
        self._stop_thread()
        if isinstance(result, ImportResult):
            what = (
                f"{result.model.name} {result.model.quantization}"
                if result.model
                else f"{result.path.name} (not in the catalog)"
            )
            text = (
                f"{what} is already installed." if result.already_installed else f"Imported {what}."
            )
            self.status.setText(" ".join([text, *result.warnings]))
        else:
            self.status.setText("Downloaded and verified.")
        self.refresh()

    @Slot(object)
    def _on_worker_failed(self, exc: object) -> None:
        self._stop_thread()
        if isinstance(exc, Cancelled):
            self.status.setText("Stopped. Download again to resume where it stopped.")
        elif isinstance(exc, BaseException):
            self.status.setText("")
            show_error(self, exc)
        self.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._worker is not None:
            self._worker.cancel.set()
        self._stop_thread()
        super().closeEvent(event)

    def reject(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()
        self._stop_thread()
        super().reject()

    def _ask(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


__all__ = ["COLUMNS", "ModelJobWorker", "ModelsDialog"]
