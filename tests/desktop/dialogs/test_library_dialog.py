"""The Library dialog with a real encrypted store and real files: libraries made, a folder
added through Qt's own file dialog and indexed off the GUI thread with its progress shown,
cancelled and resumed, an unreadable file's reason, removing and deleting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.dialogs.library_dialog import LibraryDialog
from desktop.workers.documents import SharedEmbedder
from engine.catalog import load_catalog
from engine.storage import StoreOwner
from tests._files import write_docx, write_pdf, write_scanned_pdf
from tests.desktop._documents import dialog_traces

INDEX_MS = 60_000


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    """A person's folder: many notes (so a run can be stopped part-way), a lease, a
    warranty, and a scan with no text."""
    root = tmp_path / "papers"
    (root / "notes").mkdir(parents=True)
    for n in range(60):
        (root / "notes" / f"note-{n:02}.md").write_text(
            f"# Note {n}\n\nThe boiler was serviced in month {n % 12 + 1}. " * 20,
            encoding="utf-8",
        )
    write_pdf(root / "lease.pdf", ["The lease starts in April.", "The rent is 900 euros."])
    write_docx(root / "warranty.docx", ["The dishwasher warranty lasts two years."])
    write_scanned_pdf(root / "scan.pdf")
    return root


@pytest.fixture
def dialog(qtbot: QtBot, owner: StoreOwner) -> Iterator[LibraryDialog]:
    embedder = SharedEmbedder()
    d = LibraryDialog(owner, embedder, load_catalog())
    qtbot.addWidget(d)
    d.show()
    yield d
    d.close()
    if d.job is not None:
        qtbot.waitUntil(lambda: not d.job.running, timeout=INDEX_MS)
    embedder.close()


def _new_library(qtbot: QtBot, dialog: LibraryDialog, name: str) -> None:
    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QInputDialog)
        box.setTextValue(name)
        box.accept()

    QTimer.singleShot(0, answer)
    dialog.new_button.click()
    qtbot.waitUntil(lambda: name in dialog.library_names())


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0


def _add_folder(qtbot: QtBot, dialog: LibraryDialog, folder: Path) -> None:
    dialog.add_folder_button.click()
    chooser = dialog.file_dialog
    assert isinstance(chooser, QFileDialog)
    assert chooser.testOption(QFileDialog.Option.DontUseNativeDialog)  # never GTK's
    assert chooser.fileMode() is QFileDialog.FileMode.Directory
    chooser.setDirectory(str(folder.parent))
    chooser.selectFile(str(folder))
    chooser.accept()
    qtbot.waitUntil(lambda: not shiboken6.isValid(chooser))  # deleted on close


def test_a_folder_is_indexed_with_progress_stopped_and_resumed(
    qtbot: QtBot, dialog: LibraryDialog, papers: Path, fresh_profile: Path
):
    assert "No library yet" in dialog.summary_label.text()
    assert not dialog.add_folder_button.isEnabled()
    # No embedding model in the test profile: the dialog says so, and which one to get.
    note = dialog.search_label.text()
    assert "keywords only" in note
    assert "hearth models pull nomic-embed-text-v1.5-q8_0" in note
    _new_library(qtbot, dialog, "Home papers")
    assert dialog.summary_label.text() == "Home papers: 0 documents, 0 passages"

    seen: list[tuple[str, int]] = []
    stopped = []
    # What the person sees, sampled on the GUI thread from before the run starts (a slot
    # connected to the job would miss what it told before the connection).
    sampler = QTimer()
    sampler.timeout.connect(
        lambda: seen.append((dialog.progress_label.text(), dialog.progress_bar.value()))
    )
    sampler.start(5)

    def stop_after_first_file(_r: object) -> None:
        if not stopped:
            stopped.append(True)
            # What is shown as the first file is done (its progress arrived just before,
            # in order, and may be replaced before the sampler's next look).
            seen.append((dialog.progress_label.text(), dialog.progress_bar.value()))
            assert dialog.cancel_button.isVisible()
            dialog.cancel_button.click()

    _add_folder(qtbot, dialog, papers)
    qtbot.waitUntil(lambda: dialog.job is not None)
    job = dialog.job
    job.file_finished.connect(stop_after_first_file)
    assert not dialog.update_button.isEnabled()  # one run at a time
    qtbot.waitUntil(lambda: not job.running, timeout=INDEX_MS)
    assert stopped
    status = dialog.status_label.text()
    assert status.startswith("Stopped:") and "Update resumes" in status
    assert not dialog.progress_bar.isVisible()
    sampler.stop()
    assert any(re.match(r"Reading .* file \d+ of 63", text) for text, _ in seen), seen[:5]
    read = _count(r"(\d+) files? read", status)  # "Stopped: 3 files read, 1 unreadable…"
    done_before = read + _count(r"(\d+) unreadable", status)
    assert read > 0 and done_before < 63  # stopped part-way: the rest waits for Update
    qtbot.waitUntil(lambda: sum(s.startswith("Indexed") for _n, s in dialog.documents()) == read)

    # Update resumes: the files already read are not read again.
    dialog.update_button.click()
    qtbot.waitUntil(lambda: not dialog.job.running, timeout=INDEX_MS)
    status = dialog.status_label.text()
    assert status.startswith("Up to date:"), status
    assert f"{done_before} unchanged" in status  # read (or found unreadable) before
    folder_row = f"Folder · 63 documents, in {papers.parent}"
    qtbot.waitUntil(lambda: dict(dialog.documents())["papers/"] == folder_row)
    rows = dict(dialog.documents())
    assert rows["notes/note-00.md"] == "Indexed · 2 passages"  # named within its folder
    assert rows["lease.pdf"] == "Indexed · 2 pages · 2 passages"
    assert rows["warranty.docx"].startswith("Indexed · 1 passage")
    assert rows["scan.pdf"].startswith("Unreadable: “scan.pdf” has no text layer")
    assert sum(s.startswith("Indexed") for s in rows.values()) == 62
    assert dialog.summary_label.text().startswith("Home papers: 63 documents, 1 unreadable")
    assert not dialog_traces(fresh_profile)


def test_remove_a_file_then_delete_the_library_leaves_the_files(
    qtbot: QtBot, dialog: LibraryDialog, owner: StoreOwner, tmp_path: Path
):
    lease = write_pdf(tmp_path / "lease.pdf", ["The rent is 900 euros."])
    (tmp_path / "tax.txt").write_text("The return is due in April.", encoding="utf-8")
    _new_library(qtbot, dialog, "Taxes")
    dialog.add_files_button.click()
    chooser = dialog.file_dialog
    assert isinstance(chooser, QFileDialog)
    assert chooser.testOption(QFileDialog.Option.DontUseNativeDialog)
    assert chooser.fileMode() is QFileDialog.FileMode.ExistingFiles
    chooser.setDirectory(str(tmp_path))
    chooser.selectFile('"lease.pdf" "tax.txt"')
    chooser.accept()
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Up to date"), timeout=INDEX_MS)
    both = [str(lease), str(tmp_path / "tax.txt")]
    qtbot.waitUntil(lambda: [name for name, _s in dialog.documents()] == both)

    item = dialog.tree.topLevelItem(0)
    dialog.tree.setCurrentItem(item)
    assert dialog.remove_button.isEnabled()
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: len(dialog.documents()) == 1)
    assert "Removed “lease.pdf” from Taxes: 1 document erased" in dialog.status_label.text()
    assert "stay where they are" in dialog.status_label.text()
    assert lease.exists()

    def confirm() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
        assert "files themselves are not touched" in box.informativeText()
        next(b for b in box.buttons() if b.text() == "Delete Library").click()

    QTimer.singleShot(0, confirm)
    dialog.delete_button.click()
    qtbot.waitUntil(lambda: dialog.library_names() == [])
    assert "deleted; your files were not touched" in dialog.status_label.text()
    assert owner.call(owner.store.list_libraries) == []
    assert lease.exists() and (tmp_path / "tax.txt").exists()


def test_a_500_page_pdf_is_read_while_the_window_keeps_working(
    qtbot: QtBot, dialog: LibraryDialog, tmp_path: Path
):
    folder = tmp_path / "book"
    folder.mkdir()
    # Full pages (about 300 words each), so reading takes long enough to be watched.
    page = "The boiler's valve is checked each spring and the filter is cleaned. " * 25
    write_pdf(folder / "manual.pdf", [f"Chapter {n}. {page}" for n in range(500)])
    _new_library(qtbot, dialog, "Manuals")
    shown: list[str] = []
    # A GUI-thread timer samples what the person sees: it only runs if the event loop does.
    sampler = QTimer()
    sampler.timeout.connect(lambda: shown.append(dialog.progress_label.text()))
    sampler.start(20)
    _add_folder(qtbot, dialog, folder)
    qtbot.waitUntil(lambda: dialog.job is not None)
    qtbot.waitUntil(lambda: not dialog.job.running, timeout=INDEX_MS)
    sampler.stop()
    pages = {int(m.group(1)) for t in shown if (m := re.search(r"page (\d+) of 500", t))}
    # The window showed the file's progress as it went, page after page (progress is told
    # every 50 ms). Seen failing (2-3 pages) while pypdf starved the GUI thread of the GIL.
    assert len([p for p in pages if 1 < p < 500]) >= 8, sorted(pages)
    # The list is read again after the run ends (on the store's thread): wait for it.
    qtbot.waitUntil(
        lambda: dict(dialog.documents()).get("manual.pdf", "").startswith("Indexed · 500 pages"),
        timeout=INDEX_MS,
    )
