"""The Library: the person's libraries of documents, each one's files and folders with what
became of them (indexed, unreadable and why, missing), and the ways to change them. Files are
read where they are; only their passages are kept, in the encrypted store. Removing a file or
a library erases its passages and never touches the file.

Store calls run on the store's owner thread; indexing runs on its own thread (``IndexJob``),
its progress shown here with the file and page being read, the speed, the time left, and a
Cancel that keeps what was finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.background import BackgroundOp
from desktop.dialogs.file_dialogs import choose_paths
from desktop.errors import describe
from desktop.workers.documents import (
    SharedEmbedder,
    progress_text,
    search_note,
    speed_text,
    status_text,
)
from desktop.workers.indexing import IndexJob
from engine.catalog import Catalog
from engine.docs import IndexProgress, IndexReport, add_sources
from engine.storage import StoreOwner
from engine.storage.types import DocumentRecord, Library, LibrarySummary

T = TypeVar("T")
PATH_ROLE = Qt.ItemDataRole.UserRole
EMPTY = "No library yet. Make one with New library…, then add your files or folders to it."
REFRESH_MS = 400  # while indexing, the list is read again at most this often


@dataclass(frozen=True)
class _Contents:
    libraries: list[LibrarySummary]
    sources: list[tuple[Path, bool]]  # of the chosen library
    documents: list[DocumentRecord]


class LibraryDialog(QDialog):
    libraries_changed = Signal()  # made, deleted or renamed: pickers list them again

    def __init__(
        self,
        owner: StoreOwner,
        embedder: SharedEmbedder,
        catalog: Catalog | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("library_dialog")
        self.setWindowTitle("Library")
        self._owner = owner
        self._embedder = embedder
        self._library: Library | None = None
        self._libraries: list[LibrarySummary] = []
        self.job: IndexJob | None = None
        self.file_dialog: QWidget | None = None  # the open file dialog, if any
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._build()
        self.search_label.setText(search_note(catalog, embedder))
        self.refresh()

    def _build(self) -> None:
        self.library_list = QListWidget()
        self.library_list.setAccessibleName("Libraries")
        self.library_list.currentRowChanged.connect(self._on_library_list_current_row_changed)
        self.new_button = QPushButton("New library…")
        self.delete_button = QPushButton("Delete library…")
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        left = QVBoxLayout()
        left.addWidget(self.library_list, 1)
        left.addWidget(self.new_button)
        left.addWidget(self.delete_button)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("sectionLabel")
        self.summary_label.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Documents")
        self.tree.setHeaderLabels(["Document", "Status"])
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.resizeSection(0, theme.em(self, 20))
        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        # The chosen row in full: a reason can be longer than its column.
        self.detail_label = QLabel()
        self.detail_label.setObjectName("hintLabel")
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_files_button = QPushButton("Add files…")
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip(
            "Take the chosen file or folder out of this library: its passages are erased from "
            "Hearth; the file itself stays where it is."
        )
        self.update_button = QPushButton("Update")
        self.update_button.setToolTip("Read new and changed files; resumes a stopped run.")
        self.add_files_button.clicked.connect(lambda: self._choose(folder=False))
        self.add_folder_button.clicked.connect(lambda: self._choose(folder=True))
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        self.update_button.clicked.connect(self.update_index)
        actions = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.update_button)

        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setAccessibleName("Indexing progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop reading; what was read is kept and Update resumes.")
        self.cancel_button.clicked.connect(self.cancel_index)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        right = QVBoxLayout()
        right.addWidget(self.summary_label)
        right.addWidget(self.tree, 1)
        right.addWidget(self.detail_label)
        right.addLayout(actions)
        right.addWidget(self.progress_label)
        right.addWidget(self.progress_row)
        right.addWidget(self.status_label)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 3)

        self.search_label = QLabel()
        self.search_label.setObjectName("noticeLabel")
        self.search_label.setWordWrap(True)
        self.search_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.privacy_label = QLabel(
            "Your files are read where they are and never copied or changed; their passages "
            "are kept only in Hearth's encrypted store."
        )
        self.privacy_label.setObjectName("hintLabel")
        self.privacy_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.search_label)
        layout.addWidget(self.privacy_label)
        layout.addWidget(buttons)
        self._show_progress(None)
        self.resize(theme.em(self, 62), theme.em(self, 36))

    # -- reading the store ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the libraries (and the chosen one's files) again."""
        store = self._owner.store
        wanted = self._library.id if self._library is not None else None

        def read() -> _Contents:
            libraries = store.list_libraries()
            ids = [s.library.id for s in libraries]
            chosen = wanted if wanted in ids else (ids[0] if ids else None)
            if chosen is None:
                return _Contents(libraries, [], [])
            return _Contents(libraries, store.library_sources(chosen), store.list_documents(chosen))

        self._op(read, self._show)

    def _show(self, contents: _Contents) -> None:
        self._libraries = contents.libraries
        ids = [s.library.id for s in contents.libraries]
        wanted = self._library.id if self._library is not None else None
        index = ids.index(wanted) if wanted in ids else (0 if ids else -1)
        self._library = contents.libraries[index].library if index >= 0 else None
        self.library_list.blockSignals(True)
        self.library_list.clear()
        for summary in contents.libraries:
            self.library_list.addItem(QListWidgetItem(summary.library.name))
        self.library_list.setCurrentRow(index)
        self.library_list.blockSignals(False)
        self._fill_tree(contents.sources, contents.documents)
        if index >= 0:
            s = contents.libraries[index]
            failed = f", {s.failed} unreadable" if s.failed else ""
            self.summary_label.setText(
                f"{s.library.name}: {s.documents} document{'s' if s.documents != 1 else ''}"
                f"{failed}, {s.chunks:,} passage{'s' if s.chunks != 1 else ''}"
            )
        else:
            self.summary_label.setText(EMPTY)
        self._update_buttons()

    def _fill_tree(self, sources: list[tuple[Path, bool]], docs: list[DocumentRecord]) -> None:
        chosen = self.tree.currentItem()
        keep = chosen.data(0, PATH_ROLE) if chosen is not None else None
        self.tree.clear()
        folders: dict[Path, QTreeWidgetItem] = {}
        for path, is_folder in sources:
            if is_folder:
                item = QTreeWidgetItem([f"{path.name}/", ""])
                item.setData(0, PATH_ROLE, str(path))
                item.setToolTip(0, str(path))
                self.tree.addTopLevelItem(item)
                folders[path] = item
        for doc in docs:
            path = Path(doc.path)
            folder = next((f for f in path.parents if f in folders), None)
            parent = folders[folder] if folder is not None else None
            name = str(path.relative_to(folder)) if folder is not None else str(path)
            item = QTreeWidgetItem([name, ""])
            item.setData(0, PATH_ROLE, doc.path)
            item.setToolTip(0, doc.path)
            item.setText(1, status_text(doc))
            item.setToolTip(1, status_text(doc))
            if parent is not None:
                parent.addChild(item)
            else:
                self.tree.addTopLevelItem(item)
        for folder, item in folders.items():
            count = item.childCount()
            item.setText(
                1, f"Folder · {count} document{'s' if count != 1 else ''}, in {folder.parent}"
            )
            item.setExpanded(True)
            item.setToolTip(1, str(folder))
        shown = {Path(d.path) for d in docs}
        for path, is_folder in sources:
            if not is_folder and path not in shown:  # added, not read yet
                item = QTreeWidgetItem([str(path), "Not read yet: press Update"])
                item.setData(0, PATH_ROLE, str(path))
                self.tree.addTopLevelItem(item)
        again = self._item(keep) if keep is not None else None
        if again is not None:  # the same row stays chosen as the list is read again
            self.tree.setCurrentItem(again)
        self._on_tree_current_item_changed(again)

    def _item(self, path: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top is None:
                continue
            for item in (top, *_children(top)):
                if item.data(0, PATH_ROLE) == path:
                    return item
        return None

    def choose_document(self, path: Path) -> None:
        """Choose the row of ``path`` (a file or an added folder)."""
        if (item := self._item(str(path))) is not None:
            self.tree.setCurrentItem(item)

    def _on_tree_current_item_changed(self, item: QTreeWidgetItem | None, *_: object) -> None:
        self.detail_label.setText(
            "" if item is None else f"{item.data(0, PATH_ROLE)}\n{item.text(1)}"
        )
        self.detail_label.setVisible(item is not None)
        self._update_buttons()

    def documents(self) -> list[tuple[str, str]]:
        """(name as shown, status) of every row, folders first, for tests and screen readers."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                rows.append((item.text(0), item.text(1)))
                rows.extend((c.text(0), c.text(1)) for c in _children(item))
        return rows

    @property
    def library(self) -> Library | None:
        return self._library

    def library_names(self) -> list[str]:
        return [s.library.name for s in self._libraries]

    # -- actions --------------------------------------------------------------------------------

    def choose_library(self, name: str) -> None:
        names = self.library_names()
        if name in names:
            self.library_list.setCurrentRow(names.index(name))

    def _on_library_list_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(self._libraries):
            self._library = self._libraries[row].library
            self.refresh()

    def _on_new_button_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "New library", "Name of the new library:")
        if ok and name.strip():
            self.create_library(name)

    def create_library(self, name: str) -> None:
        store = self._owner.store

        def made(library: Library) -> None:
            self._library = library
            self.status_label.setText(
                f"Library “{library.name}” made. Add files or a folder to it."
            )
            self.libraries_changed.emit()
            self.refresh()

        self._op(lambda: store.create_library(name), made)

    def _on_delete_button_clicked(self) -> None:
        library = self._library
        if library is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete library?",
            f"Delete the library “{library.name}”?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            "Every passage Hearth keeps from its documents is erased. Your files themselves "
            "are not touched."
        )
        delete = box.addButton("Delete Library", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is delete:
            self.delete_library()

    def delete_library(self) -> None:
        library, store = self._library, self._owner.store
        if library is None:
            return

        def deleted(_none: None) -> None:
            self._library = None
            self.status_label.setText(
                f"Library “{library.name}” deleted; your files were not touched."
            )
            self.libraries_changed.emit()
            self.refresh()

        self._op(lambda: store.delete_library(library.id), deleted)

    def _choose(self, *, folder: bool) -> None:
        if self._library is None:
            self.status_label.setText("Make a library first (New library…).")
            return
        title = "Add a folder to the library" if folder else "Add files to the library"
        self.file_dialog = choose_paths(self, title, self.add_paths, folder=folder)

    def add_paths(self, paths: list[Path]) -> None:
        """Add files or folders to the chosen library, then read them."""
        library, store = self._library, self._owner.store
        if library is None or not paths:
            return
        self._op(lambda: add_sources(store, library, paths), lambda _none: self.update_index())

    def _on_remove_button_clicked(self) -> None:
        item = self.tree.currentItem()
        if item is not None and self._library is not None:
            self.remove_path(Path(item.data(0, PATH_ROLE)))

    def remove_path(self, path: Path) -> None:
        library, store = self._library, self._owner.store
        if library is None:
            return

        def removed(count: int) -> None:
            self.status_label.setText(
                f"Removed “{path.name}” from {library.name}: "
                f"{count} document{'s' if count != 1 else ''} erased from Hearth. The "
                "files themselves stay where they are."
            )
            self.refresh()

        self._op(lambda: store.remove_library_source(library.id, path), removed)

    # -- indexing -------------------------------------------------------------------------------

    def update_index(self) -> None:
        """Read the chosen library's new and changed files, off this thread."""
        if self._library is None or (self.job is not None and self.job.running):
            return
        job = IndexJob(self._owner.routed(), self._library, self._embedder)
        job.progressed.connect(self._show_progress)
        job.file_finished.connect(self._on_job_file_finished)  # a slot here: queued to it
        job.finished.connect(self._on_job_finished)
        job.failed.connect(self._on_job_failed)
        self.job = job
        self.status_label.clear()
        self.progress_label.setText(f"Looking through {self._library.name}…")
        self.progress_bar.setValue(0)
        self.progress_label.show()
        self.progress_row.show()
        self.cancel_button.setEnabled(True)
        job.start()
        self._update_buttons()

    def cancel_index(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping after this page…")

    def _show_progress(self, p: IndexProgress | None) -> None:
        if p is None:
            self.progress_label.hide()
            self.progress_row.hide()
            return
        if self.job is not None and self.job.cancelled:
            return
        speed = speed_text(p)
        self.progress_label.setText(progress_text(p) + (f" · {speed}" if speed else ""))
        self.progress_bar.setValue(round(1000 * p.fraction))

    def _on_job_file_finished(self, _result: object) -> None:
        self._refresh_timer.start()  # read the list again soon (not for every file)

    def _on_job_finished(self, report: IndexReport) -> None:
        self._show_progress(None)
        read, failed = report.count("indexed"), report.count("failed")
        parts = [f"{read} file{'s' if read != 1 else ''} read"]
        if report.count("unchanged"):
            parts.append(f"{report.count('unchanged')} unchanged")
        if failed:
            parts.append(f"{failed} unreadable (the reason is beside each)")
        if report.count("missing"):
            parts.append(f"{report.count('missing')} missing")
        text = ", ".join(parts)
        if report.cancelled:
            text = f"Stopped: {text}. What was read is kept; Update resumes where it stopped."
        else:
            text = f"Up to date: {text}, in {report.elapsed_s:.1f} s."
        self.status_label.setText(text)
        self._refresh_timer.stop()
        self.refresh()

    def _on_job_failed(self, exc: Exception) -> None:
        self._show_progress(None)
        self._on_op_failed(exc)
        self._update_buttons()
        self.refresh()

    def done(self, result: int) -> None:
        if self.job is not None:
            self.job.cancel()  # what was read is kept
        super().done(result)

    # -- plumbing -------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        running = self.job is not None and self.job.running
        have = self._library is not None
        for button in (self.add_files_button, self.add_folder_button, self.update_button):
            button.setEnabled(have and not running)
        self.delete_button.setEnabled(have and not running)
        self.remove_button.setEnabled(have and not running and self.tree.currentItem() is not None)

    def _op(self, fn: Callable[[], T], on_success: Callable[[T], object]) -> None:
        BackgroundOp(self, fn).success(on_success).failure(self._on_op_failed).run(self._owner)

    def _on_op_failed(self, exc: Exception) -> None:
        self.status_label.setText(" ".join(part for part in describe(exc) if part))


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [c for i in range(item.childCount()) if (c := item.child(i)) is not None]
