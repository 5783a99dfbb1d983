"""The model manager: every catalog model as a card (desktop.widgets.model_card) with its
parameters, quantization, sizes, installed state and fit on this machine; Download (with
progress, speed, time left and Cancel in the model's card), Import… (or drop a .gguf on the
dialog), and Remove (after confirming).

Downloads and imports run on a ``ModelJobWorker`` moved to its own QThread: they take minutes
and must not hold up the one storage executor that ``BackgroundOp`` uses. The worker calls the
engine (``engine.catalog.download`` / ``importer``) and only emits signals; the dialog updates
its widgets on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QFontInfo, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

import engine.policy
from desktop import theme
from desktop.dialogs.file_dialogs import choose_paths
from desktop.errors import show_error
from desktop.widgets import model_card
from desktop.widgets.model_card import CardContent, DownloadProgressWidget, ModelCard
from engine.catalog import Catalog, CatalogModel, load_catalog
from engine.catalog.display import (
    download_size,
    download_size_text,
    fit_text,
    hardware_text,
    parameters_text,
    progress_text,
)
from engine.catalog.download import Progress, download
from engine.catalog.fit import fit_model
from engine.catalog.hardware import Hardware
from engine.catalog.importer import ImportResult, import_model
from engine.catalog.manage import (
    ModelState,
    disk_bytes,
    model_states,
    other_models,
    plan_removal,
    remove,
)
from engine.catalog.plan import format_size, recommend
from engine.errors import Cancelled, HearthError
from engine.policy import Mode

# (title, question) → True to go ahead. Replaceable so tests can answer as a person would.
Confirm = Callable[[str, str], bool]
INTRO = (
    "Models run on this computer. Choose one to download or remove it; drop a .gguf file "
    "here to import one."
)


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


@dataclass(frozen=True)
class _Entry:
    """One card's model and what may be done with it."""

    key: str
    model: CatalogModel | None  # None: an imported file the catalog does not know
    content: CardContent
    removable: bool  # something of it is in the models folder (the file or a partial one)
    downloadable: bool
    partial_bytes: int


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
        self.resize(theme.em(self, 56), theme.em(self, 40))
        self.catalog = catalog or load_catalog()
        # None until measured: the window measures off the GUI thread and calls set_hardware.
        self.hardware = hardware
        self.confirm: Confirm = confirm or self._ask
        self._thread: QThread | None = None
        self._worker: ModelJobWorker | None = None
        self._entries: dict[str, _Entry] = {}  # in the order the cards show them
        self._cards: dict[str, ModelCard] = {}
        self._selected: str | None = None
        self._look = ""

        self.intro_label = QLabel(INTRO)
        self.intro_label.setObjectName("hintLabel")
        self.intro_label.setWordWrap(True)
        self.hardware_label = QLabel()
        self.hardware_label.setObjectName("hintLabel")
        self.hardware_label.setWordWrap(True)
        self.hardware_label.setTextFormat(Qt.TextFormat.PlainText)

        self.card_list = QWidget()
        self.card_list.setObjectName("modelList")
        self._cards_layout = QVBoxLayout(self.card_list)
        self._cards_layout.setContentsMargins(0, 0, theme.em(self, 0.4), 0)
        self._cards_layout.setSpacing(theme.em(self, 0.5))
        self._cards_layout.addStretch(1)
        self.card_scroll = QScrollArea()
        self.card_scroll.setObjectName("modelScroll")
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card_scroll.setWidget(self.card_list)
        self.card_scroll.verticalScrollBar().setAccessibleName("Scroll the models")

        # One progress widget for the one job at a time: in the downloading model's card, or
        # under the cards while a file is imported.
        self.progress_widget = DownloadProgressWidget()
        self.progress_widget.hide()
        self.progress = self.progress_widget.bar
        self.cancel_button = self.progress_widget.cancel_button
        self.cancel_button.setEnabled(False)
        self.status = QLabel()
        self.status.setObjectName("models_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        self.download_button = QPushButton("Download")
        self.download_button.setProperty("role", "primary")
        self.import_button = QPushButton("Import…")
        self.remove_button = QPushButton("Remove")
        self.close_button = QPushButton("Close")
        self.download_button.clicked.connect(self._on_download_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.close_button.clicked.connect(self.close)

        buttons = QHBoxLayout()
        for button in (self.download_button, self.import_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setSpacing(theme.em(self, 0.5))
        layout.addWidget(self.intro_label)
        layout.addWidget(self.hardware_label)
        layout.addWidget(self.card_scroll, 1)
        self._progress_home = QVBoxLayout()
        self._progress_home.setContentsMargins(0, 0, 0, 0)
        self._progress_home.addWidget(self.progress_widget)
        layout.addLayout(self._progress_home)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._apply_look()
        self.refresh()

    # ---- the cards -------------------------------------------------------------------------

    def set_hardware(self, hardware: Hardware) -> None:
        """What this computer has, measured afresh: every verdict is redone."""
        self.hardware = hardware
        self.refresh()

    def refresh(self) -> None:
        """Re-read what is installed and update the cards (in place: the chosen card, the
        scroll position and a running download's progress stay)."""
        entries = self._read_entries()
        self._entries = {e.key: e for e in entries}
        for key in [k for k in self._cards if k not in self._entries]:
            card = self._cards.pop(key)
            if self.progress_widget.parent() is card:
                self._progress_home.addWidget(self.progress_widget)
            card.deleteLater()
        for index, entry in enumerate(entries):
            found = self._cards.get(entry.key)
            if found is not None:
                card = found
            else:
                card = ModelCard(entry.key)
                card.chosen.connect(self._on_card_chosen)
                card.stepped.connect(self._on_card_stepped)
                self._cards[entry.key] = card
                self._cards_layout.insertWidget(index, card)
            card.set_content(entry.content)
        if self.hardware is None:
            self.hardware_label.setText("Measuring this computer…")
        else:
            self.hardware_label.setText(
                f"Fit and speed are estimates for this computer: {hardware_text(self.hardware)}."
            )
        if self._selected not in self._entries:
            self._selected = None
        self._show_selection()
        self._update_buttons()
        # A scroll area does not pass its cards' least width on: the dialog would shrink
        # below it and cut the cards' right edge.
        scroll_bar = self.card_scroll.verticalScrollBar().sizeHint().width()
        self.card_scroll.setMinimumWidth(
            self.card_list.minimumSizeHint().width()
            + scroll_bar
            + 2 * self.card_scroll.frameWidth()
        )

    def _read_entries(self) -> list[_Entry]:
        best: str | None = None
        if self.hardware is not None:
            try:
                best = recommend(self.catalog, self.hardware).model.id
            except HearthError:
                best = None
        entries = []
        for state in model_states(self.catalog, embedders=True):
            m = state.model
            if state.installed:
                words = "Ships with Hearth" if state.bundled else "Installed"
            elif state.partial_bytes:
                words = "Partly downloaded"
            else:
                words = "Not installed"
            details = [f"{parameters_text(m.parameters_b)} parameters"]
            if m.is_reasoning:
                details.append("reasoning")
            if m.embedding is not None:
                # Not for chatting: it lets the Library search documents by meaning.
                details.append("embedding model for searching your documents by meaning")
            details.append(_size_words(state))
            chat = m.embedding is None
            content = CardContent(
                name=m.name,
                quantization=m.quantization,
                state=words,
                details=" · ".join(details),
                fit=fit_text(fit_model(m, self.hardware)) if self.hardware and chat else None,
                measuring=self.hardware is None and chat,
                badge="Best for this computer"
                if m.id == best and m.id != self.catalog.default_id
                else "",
                installed=state.installed,
            )
            entries.append(
                _Entry(
                    m.id,
                    m,
                    content,
                    removable=(state.installed and not state.bundled) or bool(state.partial_bytes),
                    downloadable=bool(m.urls) and not state.installed,
                    partial_bytes=state.partial_bytes,
                )
            )
        for path in other_models(self.catalog):
            content = CardContent(
                name=path.name,
                quantization="",
                state="Installed (not in the catalog)",
                details=f"{format_size(disk_bytes(path))} on disk · imported; Hearth's "
                "catalog does not describe it",
                fit=None,
                installed=True,
            )
            entries.append(_Entry(path.name, None, content, True, False, 0))
        return entries

    def card(self, key: str) -> ModelCard:
        """The card of ``key`` (a catalog id, or an imported file's name).

        Raises: KeyError when no card has that key."""
        return self._cards[key]

    def card_keys(self) -> list[str]:
        """Every card's key, in the order shown."""
        return list(self._entries)

    def row_texts(self, key: str) -> list[str]:
        """What the card of ``key`` says: name, quantization, state, details, verdict, fit
        detail (last, with the speed estimate)."""
        return self._cards[key].texts()

    def select(self, key: str) -> None:
        """Choose the card of ``key`` and bring it into view.

        Raises: KeyError when no card has that key."""
        if key not in self._cards:
            raise KeyError(key)
        self._selected = key
        self._show_selection()
        self._bring_into_view(key)
        self._update_buttons()

    def _bring_into_view(self, key: str) -> None:
        """Scroll so the card of ``key`` shows whole: now, and again once the layout has
        taken in what just changed (a progress bar added to the card makes it taller)."""

        def show() -> None:
            card = self._cards.get(key)
            if card is not None:
                self.card_scroll.ensureWidgetVisible(card, 0, theme.em(self, 0.5))

        show()
        QTimer.singleShot(0, self, show)

    def selected_id(self) -> str | None:
        return self._selected

    def _show_selection(self) -> None:
        for key, card in self._cards.items():
            card.set_selected(key == self._selected)

    def _selected_model(self) -> CatalogModel | None:
        entry = self._entries.get(self._selected or "")
        return entry.model if entry else None

    def _update_buttons(self) -> None:
        busy = self._thread is not None
        entry = self._entries.get(self._selected or "")
        self.download_button.setEnabled(not busy and entry is not None and entry.downloadable)
        self.download_button.setText(
            "Resume download" if entry is not None and entry.partial_bytes else "Download"
        )
        self.import_button.setEnabled(not busy)
        self.remove_button.setEnabled(not busy and entry is not None and entry.removable)

    @Slot(str)
    def _on_card_chosen(self, key: str) -> None:
        self.select(key)

    @Slot(str, int)
    def _on_card_stepped(self, key: str, step: int) -> None:
        keys = self.card_keys()
        index = keys.index(key) + step
        if 0 <= index < len(keys):
            self._cards[keys[index]].setFocus(Qt.FocusReason.TabFocusReason)

    # ---- the look --------------------------------------------------------------------------

    def _apply_look(self) -> None:
        t = theme.tokens()
        look = model_card.stylesheet(t, QFontInfo(self.font()).pixelSize()) + (
            f"#modelScroll, #modelScroll > QWidget, #modelList {{ background: {t.window}; }}"
        )
        if look == self._look:
            return  # setting the same sheet again would send the change events round again
        self._look = look
        self.setStyleSheet(look)
        size = theme.em(self, 1.0)
        icon = theme.icon("download", t.on_accent)
        icon.addPixmap(theme.icon("download", t.muted).pixmap(64), QIcon.Mode.Disabled)
        self.download_button.setIcon(icon)
        self.download_button.setIconSize(QSize(size, size))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._apply_look()

    # ---- download --------------------------------------------------------------------------

    def offer_download(self, model_id: str) -> bool:
        """Choose ``model_id`` and ask, as its Download button does, whether to download it
        (for the first-run screen's offer of the recommended model). Returns whether the
        download started; when it cannot start, the status line says why.

        Raises: KeyError when the catalog has no ``model_id``."""
        self.select(model_id)
        entry = self._entries[model_id]
        if self._thread is not None:
            self.status.setText("Wait for the current download or import to finish.")
            return False
        model = entry.model
        if model is None or not entry.downloadable:
            label = model.label if model is not None else model_id
            if entry.content.installed:
                self.status.setText(f"{label} is already installed.")
            else:
                self.status.setText(
                    f"{label} has no download address yet: import the file you have."
                )
            return False
        return self._ask_and_download(model, entry.partial_bytes)

    @Slot()
    def _on_download_button_clicked(self) -> None:
        entry = self._entries.get(self._selected or "")
        if entry is not None and entry.model is not None and entry.downloadable:
            self._ask_and_download(entry.model, entry.partial_bytes)

    def _ask_and_download(self, model: CatalogModel, partial_bytes: int) -> bool:
        hosts = sorted(model.hosts)
        local_only = engine.policy.current_mode() is Mode.LOCAL_ONLY
        question = f"Download {model.label} ({download_size_text(model)}) from {', '.join(hosts)}?"
        if partial_bytes:
            question += (
                f"\n\n{format_size(partial_bytes)} of it is here already; the download "
                "goes on from there."
            )
        if local_only:
            question += (
                "\n\nLocal-only mode is on. Downloads will be allowed for this "
                "download only, to those hosts only; Local-only comes back when it "
                "ends."
            )
        if not self.confirm("Download model", question):
            self.status.setText("Nothing was downloaded.")
            return False
        consent = _allow_this_download if local_only else None

        def job(report: Callable[[Any], None], cancel: threading.Event) -> object:
            return download(model, consent=consent, progress=report, cancel=cancel)

        self.status.setText(f"Downloading {model.label}…")
        self._start(job, model.id, "Connecting…")
        return True

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()
            self.cancel_button.setEnabled(False)
            self.progress_widget.set_text("Stopping…")

    # ---- import ----------------------------------------------------------------------------

    @Slot()
    def _on_import_button_clicked(self) -> None:
        choose_paths(
            self,
            "Import a model",
            lambda paths: self.import_file(paths[0]) if paths else None,
            name_filter="GGUF models (*.gguf)",
        )

    def import_file(self, path: Path) -> None:
        """Check and import ``path`` on the worker thread."""
        if self._thread is not None:
            self.status.setText("Wait for the current download or import to finish.")
            return
        catalog = self.catalog

        def job(report: Callable[[Any], None], cancel: threading.Event) -> object:
            return import_model(path, catalog, progress=lambda d, t: report((d, t)), cancel=cancel)

        self.status.setText(f"Checking {path.name}…")
        self._start(job, None, f"Checking {path.name}…")

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

    def _start(
        self,
        job: Callable[[Callable[[Any], None], threading.Event], object],
        key: str | None,
        text: str,
    ) -> None:
        """Run ``job`` on the worker thread, its progress in the card of ``key`` (a
        download) or under the cards (an import)."""
        thread = QThread(self)
        worker = ModelJobWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progressed.connect(self._on_worker_progressed)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        self._thread, self._worker = thread, worker
        self.progress_widget.start(text)
        if key is not None and key in self._cards:
            self._cards[key].add_progress(self.progress_widget)
            self._bring_into_view(key)
        else:
            self._progress_home.addWidget(self.progress_widget)
            self.progress_widget.show()
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
        self.progress_widget.hide()
        self.cancel_button.setEnabled(False)
        self._progress_home.addWidget(self.progress_widget)

    @Slot(object)
    def _on_worker_progressed(self, update: object) -> None:
        if self._worker is not None and self._worker.cancel.is_set():
            return  # "Stopping…" stays until the job ends
        if isinstance(update, Progress):
            if update.total:
                self.progress_widget.set_fraction(update.done / update.total)
            self.progress_widget.set_text(progress_text(update))
        elif isinstance(update, tuple):
            done, total = update
            if total:
                self.progress_widget.set_fraction(done / total)
                self.progress_widget.set_text(
                    f"Checking: {format_size(done)} of {format_size(total)}"
                )

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


__all__ = ["INTRO", "ModelJobWorker", "ModelsDialog"]


def _size_words(state: ModelState) -> str:
    """Download size and size on disk, as far as they are known (never made up)."""
    m = state.model
    if state.installed:
        where = ", part of Hearth" if state.bundled else " on disk"
        return f"{format_size(state.disk_bytes)}{where}"
    if state.partial_bytes:
        size = download_size(m)
        of = f" of {size}" if size else ""
        return f"{format_size(state.partial_bytes)}{of} downloaded"
    if m.urls:
        return f"download {download_size_text(m)}"
    if m.source:
        return "part of Hearth (run set-up to install it)"
    return "no download address yet: import the file you have"
