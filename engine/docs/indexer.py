"""Indexing a library: find its files, read the new and changed ones into passages, notice
moved and vanished ones, then give every passage a vector (when an embedding model is there).

Each file is stored in one transaction and vectors in small batches, so a cancelled or killed
run keeps everything it finished and the next run resumes where it stopped: files whose size
and time are unchanged are not read again, and only passages without a vector are embedded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from engine.docs.chunking import chunk_pages
from engine.docs.extract import DocumentProblem, kind_of, limit_for, read_pages, readable
from engine.storage.types import DocumentRecord, FileFacts, Library

if TYPE_CHECKING:
    from engine.docs.embedding import Embedder
    from engine.storage import ConversationStore

MAX_FILES = 100_000  # in one library; a folder walk stops there
VECTOR_BATCH = 16

Outcome = Literal["indexed", "unchanged", "moved", "failed", "missing"]
Phase = Literal["reading", "embedding"]


@dataclass(frozen=True)
class IndexProgress:
    """Where a run is: the file being read (or the passages being embedded)."""

    phase: Phase
    file: Path | None
    file_number: int  # 1-based among the files to read
    files: int
    page: int  # pages read of this file (0 for formats without pages)
    pages: int
    done_bytes: int  # of the files to read, finished ones plus this one's share
    total_bytes: int
    elapsed_s: float
    embedded: int = 0  # passages given a vector in this run
    to_embed: int = 0

    @property
    def fraction(self) -> float:
        if self.phase == "embedding":
            return self.embedded / self.to_embed if self.to_embed else 1.0
        return self.done_bytes / self.total_bytes if self.total_bytes else 1.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left in this phase at the speed so far; None before there is a speed."""
        f = self.fraction
        if f <= 0.02 or self.elapsed_s < 0.5:
            return None
        return self.elapsed_s * (1 - f) / f

    @property
    def bytes_per_s(self) -> float:
        return self.done_bytes / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: Outcome
    chunks: int = 0
    pages: int = 0
    problem: str = ""


@dataclass
class IndexReport:
    results: list[FileResult] = field(default_factory=list)
    cancelled: bool = False
    embedded: int = 0
    elapsed_s: float = 0.0
    pages_read: int = 0
    chunks_written: int = 0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


class _Stop(Exception):
    pass


def add_sources(store: ConversationStore, library: Library, paths: Sequence[Path]) -> None:
    """Remember files and folders as part of a library (indexed by ``update_library``).

    Raises: DocumentProblem (a path that does not exist), StorageError.
    """
    for path in paths:
        resolved = Path(os.path.abspath(path.expanduser()))
        if not resolved.exists():
            raise DocumentProblem(f"“{path}” does not exist.", "Check the path and try again.")
        store.add_library_source(library.id, resolved, is_folder=resolved.is_dir())


def files_of(sources: Sequence[tuple[Path, bool]], excluded: Sequence[Path] = ()) -> list[Path]:
    """Every readable file under a library's sources, once each, in a stable order, but none
    under ``excluded``. Hidden files and folders are skipped; symbolic links to folders are
    not followed (no loops)."""
    found: dict[Path, None] = {}
    skip = set(excluded)
    for path, is_folder in sources:
        if not is_folder:
            if path.is_file():
                found[path] = None
            continue
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and Path(root) / d not in skip
            )
            for name in sorted(names):
                candidate = Path(root) / name
                if candidate in skip:
                    continue
                if not name.startswith(".") and readable(candidate) and candidate.is_file():
                    found[candidate] = None
                    if len(found) >= MAX_FILES:
                        return list(found)
    return list(found)


def update_library(
    store: ConversationStore,
    library: Library,
    *,
    embedder: Embedder | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[IndexProgress], None] = lambda _p: None,
    file_done: Callable[[FileResult], None] = lambda _r: None,
) -> IndexReport:
    """Bring a library's index up to date with its files (see the module docstring).

    Raises: StorageError, InferenceError (embedding). Unreadable files are results, not errors.
    """
    started = time.monotonic()
    report = IndexReport()
    records = {Path(d.path): d for d in store.list_documents(library.id)}
    on_disk = files_of(store.library_sources(library.id), store.library_exclusions(library.id))
    stats: dict[Path, os.stat_result] = {}
    for path in on_disk:
        try:
            stats[path] = path.stat()
        except OSError:
            continue
    changed = [
        p
        for p in on_disk
        if p in stats
        and not (
            (r := records.get(p)) is not None
            and r.status != "missing"
            and r.size == stats[p].st_size
            and r.mtime_ns == stats[p].st_mtime_ns
        )
    ]
    for p in on_disk:
        if p in stats and p not in changed:
            report.results.append(FileResult(p, "unchanged"))
    gone = {r.sha256: r for p, r in records.items() if p not in stats and r.sha256 and r.status}
    total_bytes = sum(stats[p].st_size for p in changed)
    done_bytes = 0

    def tell(file: Path, number: int, page: int, pages: int, share: float) -> None:
        size = stats[file].st_size
        progress(
            IndexProgress(
                "reading",
                file,
                number,
                len(changed),
                page,
                pages,
                done_bytes + int(size * share),
                total_bytes,
                time.monotonic() - started,
            )
        )

    try:
        for number, path in enumerate(changed, start=1):
            if cancelled():
                raise _Stop
            tell(path, number, 0, 0, 0.0)

            def page_read(page: int, pages: int, p: Path = path, n: int = number) -> None:
                tell(p, n, page, pages, page / pages)

            result = _index_file(
                store,
                library,
                path,
                stat=stats[path],
                record=records.get(path),
                gone=gone,
                cancelled=cancelled,
                page_read=page_read,
            )
            done_bytes += stats[path].st_size
            report.results.append(result)
            report.pages_read += result.pages
            if result.outcome == "indexed":
                report.chunks_written += result.chunks
            file_done(result)
        moved_from = {Path(r.path) for r in gone.values() if r.id < 0}
        for p, r in records.items():
            if p not in stats and p not in moved_from and r.status == "indexed":
                store.mark_missing(r.id)
                result = FileResult(p, "missing")
                report.results.append(result)
                file_done(result)
        if embedder is not None:
            _embed_missing(store, library, embedder, cancelled, progress=progress, report=report)
    except _Stop:
        report.cancelled = True
    report.elapsed_s = time.monotonic() - started
    return report


def _index_file(
    store: ConversationStore,
    library: Library,
    path: Path,
    *,
    stat: os.stat_result,
    record: DocumentRecord | None,
    gone: dict[str, DocumentRecord],
    cancelled: Callable[[], bool],
    page_read: Callable[[int, int], None],
) -> FileResult:
    kind = kind_of(path) or "text"

    def facts(digest: str = "") -> FileFacts:
        return FileFacts(str(path), kind, stat.st_size, stat.st_mtime_ns, digest)

    def failed(problem: str, digest: str = "") -> FileResult:
        store.save_failed_document(library.id, facts(digest), problem)
        return FileResult(path, "failed", problem=problem)

    try:
        data = _read(path, stat)
    except DocumentProblem as problem:
        return failed(problem.full_message)
    digest = hashlib.sha256(data).hexdigest()
    if record is not None and record.sha256 == digest and record.status == "indexed":
        store.move_document(record.id, path, stat.st_mtime_ns)  # touched, not changed
        return FileResult(path, "unchanged")
    earlier = gone.get(digest)
    if earlier is not None and earlier.id >= 0:
        store.move_document(earlier.id, path, stat.st_mtime_ns)
        # Marked as used: another copy of the same content elsewhere is indexed on its own.
        gone[digest] = dataclasses.replace(earlier, id=-1)
        return FileResult(path, "moved", chunks=earlier.chunks, pages=earlier.pages)
    try:
        kind, pages, page_iter = read_pages(path, data)
        chunks = list(chunk_pages(_watched(page_iter, pages, cancelled, page_read)))
    except DocumentProblem as problem:
        return failed(problem.full_message, digest)
    if not chunks:
        return failed(f"“{path.name}” contains no text.", digest)
    store.save_document(library.id, facts(digest), pages=pages, chunks=chunks)
    return FileResult(path, "indexed", chunks=len(chunks), pages=pages)


def _watched(
    pages: Iterator[object],
    count: int,
    cancelled: Callable[[], bool],
    page_read: Callable[[int, int], None],
) -> Iterator[tuple[int, str]]:
    for page in pages:
        if cancelled():
            raise _Stop
        number, text = page.number, page.text  # type: ignore[attr-defined]
        if count:
            page_read(number, count)
        # pypdf releases the GIL briefly and often (zlib) and takes it straight back, so a
        # thread waiting for it — the window's — can starve for half a second (CPython's
        # convoy effect, bpo-7946). Sleeping gives it a turn after each page (~8 % slower).
        time.sleep(0)
        yield number, text


def _read(path: Path, stat: os.stat_result) -> bytes:
    limit = limit_for(path)
    if stat.st_size > limit:
        raise DocumentProblem(
            f"“{path.name}” is {stat.st_size / 1e6:,.0f} MB; Hearth reads files up to "
            f"{limit / 1e6:,.0f} MB of this kind.",
            "Split it into smaller files.",
        )
    try:
        with path.open("rb") as f:
            return f.read(limit + 1)[:limit]
    except PermissionError:
        raise DocumentProblem(
            f"“{path.name}” cannot be read: permission denied.",
            "Check the file's permissions.",
        ) from None
    except OSError as exc:
        raise DocumentProblem(
            f"“{path.name}” cannot be read ({exc.strerror or 'input/output error'})."
        ) from None


def _embed_missing(
    store: ConversationStore,
    library: Library,
    embedder: Embedder,
    cancelled: Callable[[], bool],
    *,
    progress: Callable[[IndexProgress], None],
    report: IndexReport,
) -> None:
    if library.embedder != embedder.model_id:
        store.set_library_embedder(library.id, embedder.model_id)
    started = time.monotonic()
    to_embed = store.count_missing_vectors(library.id, embedder.model_id)
    done = 0
    while True:
        if cancelled():
            raise _Stop
        batch = store.chunks_missing_vectors(library.id, embedder.model_id, VECTOR_BATCH)
        if not batch:
            return
        blobs = embedder.embed_passages([p.text for p in batch])
        store.save_vectors(embedder.model_id, zip((p.chunk_id for p in batch), blobs, strict=True))
        done += len(batch)
        report.embedded = done
        progress(
            IndexProgress(
                "embedding", None, 0, 0, 0, 0, 0, 0, time.monotonic() - started, done, to_embed
            )
        )


__all__ = [
    "FileResult",
    "IndexProgress",
    "IndexReport",
    "add_sources",
    "files_of",
    "update_library",
]
