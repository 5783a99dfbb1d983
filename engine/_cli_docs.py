"""``hearth docs``: libraries of the person's files, and the documents part of ``ask``.

Imported by engine/cli.py after the egress policy is installed.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine._cli_base import on_ctrl_c, store_context
from engine.docs import DocumentFinder

if TYPE_CHECKING:
    from engine.chat import Chat
    from engine.docs import Embedder, FileResult, IndexProgress, IndexReport
    from engine.storage import ConversationStore
    from engine.storage.types import Library, Source

SNIPPET_CHARS = 160


def cmd_docs(args: argparse.Namespace) -> int:
    command = getattr(args, "docs_command", None)
    with store_context(no_save=False) as store:
        if command == "add":
            return _add(store, args.library, args.paths)
        if command == "remove":
            return _remove(store, args.library, args.path)
        if command == "search":
            return _search(store, args.library, " ".join(args.query), args.limit, args.mode)
        if command == "update":
            return _update(store, args.library)
        return _list(store, args.library if command == "list" else None)


# -- commands -----------------------------------------------------------------------------


def _add(store: ConversationStore, name: str, paths: Sequence[Path]) -> int:
    from engine.docs import add_sources  # noqa: PLC0415
    from engine.storage import RecordNotFound  # noqa: PLC0415

    try:
        library = store.get_library(name)
    except RecordNotFound:
        library = store.create_library(name)
        print(f"New library “{library.name}”.", file=sys.stderr)
    add_sources(store, library, paths)
    return _index(store, library)


def _update(store: ConversationStore, name: str) -> int:
    return _index(store, store.get_library(name))


def _index(store: ConversationStore, library: Library) -> int:
    embedder = open_embedder_noting(note=True)
    try:
        report = index_with_progress(store, library, embedder, sys.stderr)
    finally:
        if embedder is not None:
            embedder.close()
    return 130 if report.cancelled else 0


def _list(store: ConversationStore, name: str | None) -> int:
    if name is None:
        libraries = store.list_libraries()
        if not libraries:
            print("No libraries yet. Add one with: hearth docs add NAME PATH...")
        for s in libraries:
            failed = f", {s.failed} unreadable" if s.failed else ""
            vectors = f", vectors from {s.library.embedder}" if s.library.embedder else ""
            print(
                f"{s.library.name}: {s.documents} document{'s' if s.documents != 1 else ''}"
                f"{failed}, {s.chunks:,} passages{vectors}"
            )
        return 0
    library = store.get_library(name)
    sources = store.library_sources(library.id)
    for path, is_folder in sources:
        print(f"added: {path}{'/' if is_folder else ''}")
    for doc in store.list_documents(library.id):
        pages = f", {doc.pages} pages" if doc.pages else ""
        if doc.status == "failed":
            print(f"  ✗ {doc.path}: {doc.problem}")
        elif doc.status == "missing":
            print(f"  ? {doc.path}: not found at this path any more ({doc.chunks} passages kept)")
        else:
            count = f"{doc.chunks} passage{'s' if doc.chunks != 1 else ''}"
            print(f"  ✓ {doc.path} ({doc.kind}{pages}, {count})")
    return 0


def _remove(store: ConversationStore, name: str, path: Path | None) -> int:
    import os  # noqa: PLC0415

    library = store.get_library(name)
    if path is None:
        store.delete_library(library.id)
        print(f"Library “{library.name}” erased (your files were not touched).")
        return 0
    count = store.remove_library_source(library.id, Path(os.path.abspath(path.expanduser())))
    print(f"Erased {count} document{'s' if count != 1 else ''} from “{library.name}”.")
    return 0


def _search(store: ConversationStore, name: str, query: str, limit: int, mode: str) -> int:
    from engine.docs import search  # noqa: PLC0415
    from engine.docs.citations import label, numbered  # noqa: PLC0415

    library = store.get_library(name)
    embedder = open_embedder_noting(note=mode != "keyword") if mode != "keyword" else None
    try:
        hits = search(
            store,
            [library],
            query,
            embedder=embedder,
            limit=limit,
            mode=mode,  # type: ignore[arg-type]  # argparse choices
        )
    finally:
        if embedder is not None:
            embedder.close()
    if not hits:
        print("No passage matches.", file=sys.stderr)
        return 1
    for rank, (hit, source) in enumerate(
        zip(hits, numbered([h.passage for h in hits]), strict=True), start=1
    ):
        print(f"{rank}. {label(source)} — {snippet(hit.passage.text)}  ({hit.passage.path})")
    return 0


# -- shared with ask ----------------------------------------------------------------------


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def open_embedder_noting(*, note: bool) -> Embedder | None:
    """The installed embedding model, or None (keyword search only; said once on stderr)."""
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.docs import open_catalog_embedder  # noqa: PLC0415

    catalog = load_catalog()
    embedder = open_catalog_embedder(catalog)
    if embedder is None and note and catalog.embedders:
        print(
            "note: keyword search only — no embedding model is installed "
            f"(hearth models pull {catalog.embedders[0].id}).",
            file=sys.stderr,
        )
    return embedder


def index_with_progress(
    store: ConversationStore,
    library: Library,
    embedder: Embedder | None,
    err: TextIO,
    *,
    quiet: bool = False,
) -> IndexReport:
    """Run ``update_library`` with a progress line on a terminal and a line per problem;
    Ctrl+C stops it (what was finished is kept; the next run resumes)."""
    from engine.docs import update_library  # noqa: PLC0415

    stop = threading.Event()
    tty = err.isatty()

    def progress(p: IndexProgress) -> None:
        if not tty:
            return
        if p.phase == "embedding":
            text = f"vectors {p.embedded:,}/{p.to_embed:,}"
        else:
            name = p.file.name if p.file else ""
            page = f" page {p.page}/{p.pages}" if p.pages else ""
            text = f"{p.file_number}/{p.files} {name}{page} · {p.bytes_per_s / 1e6:.1f} MB/s"
        eta = p.eta_s
        err.write(f"\r\033[K{text}{f' · {eta:.0f} s left' if eta is not None else ''}")
        err.flush()

    def file_done(r: FileResult) -> None:
        if tty:
            err.write("\r\033[K")
        if r.outcome == "failed":
            err.write(f"✗ {r.path}: {r.problem}\n")
        elif r.outcome == "missing":
            err.write(f"? {r.path}: gone; its passages stay until you remove it\n")
        elif r.outcome == "moved":
            err.write(f"→ {r.path}: moved here (not read again)\n")
        err.flush()

    with on_ctrl_c(stop.set):
        report = update_library(
            store,
            library,
            embedder=embedder,
            cancelled=stop.is_set,
            progress=progress,
            file_done=file_done,
        )
    if tty:
        err.write("\r\033[K")
    if quiet and not (report.count("indexed") or report.count("failed") or report.cancelled):
        return report
    pages = f", {report.pages_read:,} pages" if report.pages_read else ""
    vectors = f", {report.embedded:,} vectors" if report.embedded else ""
    name = library.name if library.conversation_id is None else "Attached"
    passages = f"{report.chunks_written:,} passage{'s' if report.chunks_written != 1 else ''}"
    err.write(
        f"{name}: {report.count('indexed')} read ({passages}"
        f"{pages}{vectors}), {report.count('unchanged')} unchanged, "
        f"{report.count('failed')} unreadable in {report.elapsed_s:.1f} s"
        + (" — stopped; run it again to resume." if report.cancelled else ".")
        + "\n"
    )
    err.flush()
    return report


def prepare_documents(chat: Chat, question: str, args: argparse.Namespace) -> list[int]:
    """For ``ask --library/--file``: bring the library's index up to date and make it the
    conversation's; read the attached files into the conversation. Returns the attached
    documents' ids. Raises: DocumentProblem (no attached file could be read), StorageError.
    """
    import os  # noqa: PLC0415

    from engine.docs import DocumentProblem, add_sources  # noqa: PLC0415

    name = getattr(args, "library", None)
    files: list[Path] = list(getattr(args, "file", None) or [])
    if not name and not files:
        return []
    store = chat.store
    embedder = chat.finder.embedder if isinstance(chat.finder, DocumentFinder) else None
    library = store.get_library(name) if name else None
    conversation_id = chat.ensure_conversation(question)
    if library is not None:
        # Files changed since they were indexed are read again first; vectors for their new
        # passages wait for `hearth docs update` (embedding a whole folder can take long).
        index_with_progress(store, library, None, sys.stderr, quiet=True)
        store.set_conversation_library(conversation_id, library.id)
    if not files:
        return []
    attachments = store.attachments_library(conversation_id)
    add_sources(store, attachments, files)
    report = index_with_progress(store, attachments, embedder, sys.stderr, quiet=True)
    if report.cancelled:
        raise KeyboardInterrupt
    wanted = {Path(os.path.abspath(f.expanduser())) for f in files}
    ids = [
        d.id
        for d in store.list_documents(attachments.id)
        if Path(d.path) in wanted and d.status == "indexed"
    ]
    if not ids:
        raise DocumentProblem(
            "None of the attached files could be read, so the question was not sent.",
            "See the reason given for each file above.",
        )
    return ids


def print_sources(sources: Sequence[Source], answer: str, out: TextIO) -> None:
    """The passages a reply was given, the cited ones marked."""
    from engine.docs import cited, label  # noqa: PLC0415

    if not sources:
        return
    used = set(cited(answer, sources))
    out.write("\nSources:\n")
    for s in sources:
        mark = "*" if s.number in used else " "
        out.write(f"{mark}[{s.number}] {label(s)} — {snippet(s.text, 100)}\n")
    out.flush()
