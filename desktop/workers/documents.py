"""The desktop's side of private documents, in plain Python (no widgets): the embedding model
shared by the model thread and the Library's indexing, the files attached to a question (read
on the model thread before it is sent), and how documents, search and indexing progress are
put in words."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalog import Catalog, load_catalog
from engine.docs import (
    DocumentProblem,
    Embedder,
    IndexProgress,
    add_sources,
    installed_embedder,
    open_catalog_embedder,
    update_library,
)
from engine.errors import HearthError
from engine.storage import ConversationStore
from engine.storage.types import DocumentRecord

log = logging.getLogger(__name__)

NONE_READ = (
    "None of the attached files could be read, so your question was not sent to the model. "
    "It is back in the message box with its files."
)
STOPPED_READING = (
    "Stopped while reading the attached files; your question was not sent. It is back in the "
    "message box with its files."
)


class SharedEmbedder:
    """The installed catalog embedding model, loaded once, by whichever thread needs it
    first (a question on the model thread, indexing in the Library), then shared: the
    Embedder has its own lock. ``get()`` is None when none is installed or it failed to load
    (``problem`` then says why); search is then by keywords only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False
        self._embedder: Embedder | None = None
        self.problem = ""

    @property
    def loaded(self) -> bool:
        return self._loaded

    def get(self) -> Embedder | None:
        with self._lock:
            # A model downloaded since the last look is loaded then (one file check).
            if self._loaded and self._embedder is None and not self.problem:
                self._loaded = installed_embedder(load_catalog()) is None
            if not self._loaded:
                self._loaded = True  # a model that failed is not tried again for each question
                try:
                    self._embedder = open_catalog_embedder(load_catalog())
                except HearthError as exc:
                    log.warning("embedding model unusable: %s", type(exc).__name__)
                    self.problem = exc.full_message
            return self._embedder

    def close(self) -> None:
        with self._lock:
            embedder, self._embedder = self._embedder, None
            self._loaded = False
        if embedder is not None:
            embedder.close()


@dataclass
class Attached:
    """What became of a question's attached files: the documents read (ids for
    ``Chat.send(attached=…)``) and a line for each file that could not be."""

    document_ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cancelled: bool = False


def read_attachments(
    store: ConversationStore,
    conversation_id: int,
    paths: Sequence[Path],
    *,
    embedder: Embedder | None,
    cancelled: Callable[[], bool],
    told: Callable[[str], None],
) -> Attached:
    """Put ``paths`` in the conversation's attachments library and index them; ``told`` gets
    what is being read, in words, as it goes.

    Raises: StorageError, InferenceError (embedding).
    """
    library = store.attachments_library(conversation_id)
    result = Attached()
    wanted: list[Path] = []
    for path in paths:
        try:
            add_sources(store, library, [path])
        except DocumentProblem as problem:
            result.problems.append(problem.full_message)
            continue
        wanted.append(Path(os.path.abspath(path.expanduser())))
    report = update_library(
        store,
        library,
        embedder=embedder,
        cancelled=cancelled,
        progress=lambda p: told(progress_text(p)),
    )
    result.cancelled = report.cancelled
    records = {Path(d.path): d for d in store.list_documents(library.id)}
    for path in wanted:
        record = records.get(path)
        if record is not None and record.status == "indexed":
            result.document_ids.append(record.id)
        elif record is not None and record.problem:
            result.problems.append(record.problem)
        elif not report.cancelled:
            result.problems.append(f"“{path.name}” is not a kind of file Hearth can read.")
    return result


def refresh_library(
    store: ConversationStore,
    conversation_id: int,
    *,
    cancelled: Callable[[], bool],
    told: Callable[[str], None],
) -> list[str]:
    """Before a question: re-read the files of the conversation's library that changed since
    they were indexed (a size or time that differs; unchanged files cost one stat each), so
    the answer is from what the files say now. Vectors for new passages wait for the
    Library's Update (embedding a whole folder could take long). Returns the problems of
    files that could not be read.

    Raises: StorageError.
    """
    library = store.conversation_library(conversation_id)
    if library is None:
        return []
    report = update_library(
        store, library, cancelled=cancelled, progress=lambda p: told(progress_text(p))
    )
    return [r.problem for r in report.results if r.outcome == "failed"]


def progress_text(p: IndexProgress) -> str:
    """“Reading lease.pdf — page 3 of 20, file 2 of 9”, or how far the passages are in
    search by meaning."""
    if p.phase == "embedding":
        return f"Preparing search by meaning — {p.embedded:,} of {p.to_embed:,} passages"
    name = p.file.name if p.file is not None else "files"
    where = [f"page {p.page} of {p.pages}"] if p.pages else []
    if p.files > 1:
        where.append(f"file {p.file_number} of {p.files}")
    return f"Reading {name} — {', '.join(where)}" if where else f"Reading {name}"


def speed_text(p: IndexProgress) -> str:
    """“1.2 MB/s · about 40 s left” once there is a speed to tell."""
    parts = []
    if p.phase == "reading" and p.bytes_per_s > 0 and p.elapsed_s >= 0.5:
        parts.append(f"{p.bytes_per_s / 1e6:.1f} MB/s")
    eta = p.eta_s
    if eta is not None:
        parts.append(f"about {eta:.0f} s left" if eta < 90 else f"about {eta / 60:.0f} min left")
    return " · ".join(parts)


def status_text(doc: DocumentRecord) -> str:
    """What became of one file, in words."""
    if doc.status == "failed":
        return f"Unreadable: {doc.problem}"
    if doc.status == "missing":
        return "Missing: not found at this path any more (its passages are kept until removed)"
    pages = f"{doc.pages} page{'s' if doc.pages != 1 else ''} · " if doc.pages else ""
    return f"Indexed · {pages}{doc.chunks} passage{'s' if doc.chunks != 1 else ''}"


def search_note(catalog: Catalog | None, embedder: SharedEmbedder) -> str:
    """How the library is searched: by meaning and keywords, or by keywords only (and which
    model to get for search by meaning)."""
    found = installed_embedder(catalog) if catalog is not None else None
    if found is not None and not embedder.problem:
        return f"Search by meaning and by keywords, with {found[0].name}."
    if embedder.problem:
        return (
            "Search is by keywords only: the embedding model could not be used. " + embedder.problem
        )
    model = catalog.embedders[0] if catalog is not None and catalog.embedders else None
    if model is None:
        return "Search is by keywords only: no embedding model is installed."
    return (
        "Search is by keywords only: no embedding model is installed. To also search by "
        f"meaning, download {model.name} in Models… (or in a terminal: hearth models pull "
        f"{model.id}), then press Update."
    )
