"""Indexing a library into the real encrypted store: new, unchanged, changed, moved, gone and
unreadable files; progress; cancel and resume; vectors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine.docs import IndexProgress, add_sources, indexer, search, update_library
from engine.storage import ConversationStore
from tests._files import write_pdf


def names(report, outcome: str) -> set[str]:
    return {r.path.name for r in report.results if r.outcome == outcome}


def found(store: ConversationStore, library, query: str) -> set[str]:
    return {Path(p.path).name for p in (h.passage for h in search(store, [library], query))}


def test_a_folder_is_indexed_and_an_unreadable_file_named(store: ConversationStore, folder: Path):
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    (folder / "empty.txt").write_text("   \n")
    library = store.create_library("Home")
    add_sources(store, library, [folder, folder / "photo.png"])
    report = update_library(store, library)
    assert names(report, "indexed") == {
        "notes.md",
        "tax.txt",
        "rent.py",
        "page.html",
        "lease.pdf",
        "warranty.docx",
    }
    failed = {r.path.name: r.problem for r in report.results if r.outcome == "failed"}
    assert set(failed) == {"photo.png", "empty.txt"}
    assert "not a text document" in failed["photo.png"]
    docs = {Path(d.path).name: d for d in store.list_documents(library.id)}
    assert docs["lease.pdf"].pages == 3 and docs["lease.pdf"].status == "indexed"
    assert docs["photo.png"].status == "failed" and docs["photo.png"].chunks == 0
    assert found(store, library, "when is the tax return due") >= {"tax.txt"}
    (summary,) = store.list_libraries()
    assert (summary.documents, summary.failed) == (8, 2)


def test_second_run_reads_nothing_unchanged(store: ConversationStore, folder: Path):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)
    again = update_library(store, library)
    assert names(again, "indexed") == set() and len(names(again, "unchanged")) == 6


def test_changed_file_is_read_again(store: ConversationStore, folder: Path):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)
    (folder / "tax.txt").write_text("The deadline moved to 31 July because of the strike.")
    stat = (folder / "tax.txt").stat()
    os.utime(folder / "tax.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    report = update_library(store, library)
    assert names(report, "indexed") == {"tax.txt"}
    assert found(store, library, "strike deadline") == {"tax.txt"}
    assert found(store, library, "receipts") == set()  # the old text is gone


def test_moved_file_is_not_read_again(store: ConversationStore, folder: Path):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)
    before = {d.path: d for d in store.list_documents(library.id)}
    old = before[str(folder / "lease.pdf")]
    (folder / "archive").mkdir()
    shutil.move(folder / "lease.pdf", folder / "archive" / "lease-2026.pdf")
    report = update_library(store, library)
    assert names(report, "moved") == {"lease-2026.pdf"}
    assert names(report, "missing") == set()
    after = {d.path: d for d in store.list_documents(library.id)}
    moved = after[str(folder / "archive" / "lease-2026.pdf")]
    assert moved.id == old.id and moved.chunks == old.chunks  # same passages, new place
    assert str(folder / "lease.pdf") not in after


def test_deleted_file_is_marked_missing_then_removed(store: ConversationStore, folder: Path):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)
    (folder / "tax.txt").unlink()
    report = update_library(store, library)
    assert names(report, "missing") == {"tax.txt"}
    assert found(store, library, "receipts") == {"tax.txt"}  # kept until removed
    erased = store.remove_library_source(library.id, folder / "tax.txt")
    assert erased == 1
    assert found(store, library, "receipts") == set()


def test_a_file_taken_out_of_a_folder_stays_out(store: ConversationStore, folder: Path):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)
    assert found(store, library, "bool") == {"rent.py"}
    store.remove_library_source(library.id, folder / "code")
    report = update_library(store, library)
    assert "rent.py" not in names(report, "indexed") | names(report, "unchanged")
    assert found(store, library, "bool") == set()


def test_progress_cancel_and_resume(store: ConversationStore, tmp_path: Path):
    root = tmp_path / "big"
    root.mkdir()
    for i in range(3):
        write_pdf(
            root / f"report-{i}.pdf", [f"Report {i} page {n} about budgets." for n in range(6)]
        )
    library = store.create_library("Reports")
    add_sources(store, library, [root])
    seen: list[IndexProgress] = []

    def stop_in_second_file() -> bool:
        return any(p.file_number == 2 and p.page >= 3 for p in seen)

    first = update_library(store, library, cancelled=stop_in_second_file, progress=seen.append)
    assert first.cancelled
    assert names(first, "indexed") == {"report-0.pdf"}  # the file being read is not kept half
    pages = [(p.file_number, p.page) for p in seen if p.file_number == 1 and p.pages]
    assert pages[-1] == (1, 6)  # page by page
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and 0 < fractions[-1] < 1
    resumed = update_library(store, library)
    assert not resumed.cancelled
    assert names(resumed, "unchanged") == {"report-0.pdf"}
    assert names(resumed, "indexed") == {"report-1.pdf", "report-2.pdf"}


def test_vectors_for_every_passage_and_resume(
    store: ConversationStore, folder: Path, embedder, monkeypatch
):
    monkeypatch.setattr(indexer, "VECTOR_BATCH", 3)
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)  # keyword index only
    total = sum(d.chunks for d in store.list_documents(library.id))
    assert store.count_missing_vectors(library.id, embedder.model_id) == total

    def stop_after_one_batch() -> bool:
        return store.count_missing_vectors(library.id, embedder.model_id) < total

    cut = update_library(store, library, embedder=embedder, cancelled=stop_after_one_batch)
    assert cut.cancelled and cut.embedded == 3
    assert store.count_missing_vectors(library.id, embedder.model_id) == total - 3
    rest = update_library(store, library, embedder=embedder)
    assert rest.embedded == total - 3
    assert store.count_missing_vectors(library.id, embedder.model_id) == 0
    library = store.library_by_id(library.id)
    assert library.embedder == embedder.model_id
    ids, matrix = store.vector_matrix([library.id], embedder.model_id)
    assert len(ids) == total
    assert matrix.shape == (total, embedder.dimensions)
