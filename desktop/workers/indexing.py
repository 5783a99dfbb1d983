"""Indexing a library off the GUI thread (``BackgroundOp`` on its own thread, with the store
routed to its owner), its progress marshalled to the GUI thread by queued signals, and a
Cancel that stops between files and pages (what was finished is kept; Update resumes)."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from desktop.background import OWN_THREAD, BackgroundOp
from desktop.workers.documents import SharedEmbedder
from engine.docs import FileResult, IndexProgress, IndexReport, update_library
from engine.storage import ConversationStore
from engine.storage.types import Library

# Progress is told at most this often (a PDF reports every page).
PROGRESS_INTERVAL_S = 0.05

_RUNNING: set[IndexJob] = set()


class IndexJob(QObject):
    """One run of ``update_library``. It has no parent: it is kept in ``_RUNNING`` while it
    runs, so a dialog closed meanwhile can go, and the job is freed on the GUI thread."""

    progressed = Signal(object)  # IndexProgress
    file_finished = Signal(object)  # FileResult
    finished = Signal(object)  # IndexReport
    failed = Signal(object)  # Exception

    def __init__(
        self, store: ConversationStore, library: Library, embedder: SharedEmbedder | None
    ) -> None:
        super().__init__()
        self.library = library
        self._store = store  # a routed store: every call runs on the store's owner
        self._embedder = embedder
        self._stop = threading.Event()
        self.running = False

    def start(self) -> None:
        self.running = True
        _RUNNING.add(self)
        BackgroundOp(self, self._work).success(self._on_done).failure(self._on_failed).run(
            OWN_THREAD
        )

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _work(self) -> IndexReport:
        embedder = self._embedder.get() if self._embedder is not None else None
        told_at = 0.0
        told_about: tuple[str, object] = ("", None)

        def progress(p: IndexProgress) -> None:
            nonlocal told_at, told_about
            now, about = time.monotonic(), (p.phase, p.file)
            if now - told_at >= PROGRESS_INTERVAL_S or about != told_about:
                told_at, told_about = now, about
                self.progressed.emit(p)

        return update_library(
            self._store,
            self.library,
            embedder=embedder,
            cancelled=self._stop.is_set,
            progress=progress,
            file_done=self._file_done,
        )

    def _file_done(self, result: FileResult) -> None:
        self.file_finished.emit(result)

    def _on_done(self, report: IndexReport) -> None:
        self.running = False
        _RUNNING.discard(self)
        self.finished.emit(report)

    def _on_failed(self, exc: Exception) -> None:
        self.running = False
        _RUNNING.discard(self)
        self.failed.emit(exc)
