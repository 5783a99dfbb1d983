"""Private documents in the window: attaching files to a question (Qt's own file dialog, or a
drop anywhere on the window), the Library dialog, the “Answer from” picker, and a reply's
sources (the passage, then its original file, opened only after asking)."""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from desktop.background import BackgroundOp
from desktop.chat_session import ChatSession
from desktop.dialogs.file_dialogs import choose_paths
from desktop.dialogs.library_dialog import LibraryDialog
from desktop.dialogs.passage_dialog import PassageDialog
from desktop.widgets.composer import ComposerWidget, dropped_paths
from desktop.widgets.library_picker import LibraryPickerWidget
from desktop.widgets.transcript_view import TranscriptView
from engine.catalog import Catalog
from engine.storage import StoreOwner
from engine.storage.types import Source


class DocumentsFlow(QObject):
    error_raised = Signal(object)
    status_message = Signal(str, int)  # text, milliseconds

    def __init__(
        self,
        owner: StoreOwner,
        session: ChatSession,
        window: QWidget,
        *,
        composer: ComposerWidget,
        picker: LibraryPickerWidget,
        transcript: TranscriptView,
        catalog: Catalog | None,
        locked: Callable[[], bool],
    ) -> None:
        super().__init__(window)
        self._locked = locked
        self._owner = owner
        self._session = session
        self._composer = composer
        self._picker = picker
        self._window = window
        self._catalog = catalog
        self.library_dialog: LibraryDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self.passage_dialog: PassageDialog | None = None
        composer.attach_requested.connect(self.choose_attachments)
        composer.attach_refused.connect(lambda text: self.status_message.emit(text, 8000))
        picker.library_chosen.connect(session.choose_library)
        picker.manage_requested.connect(self.open_library_dialog)
        session.library_changed.connect(picker.set_current)
        transcript.source_activated.connect(self.show_source)
        window.setAcceptDrops(True)  # files dropped anywhere on the chat attach to the question
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Drag enter, move and drop (QDropEvent is the base of all three) on the window itself.
        if watched is self._window and isinstance(event, QDropEvent):
            paths = [] if self._locked() else dropped_paths(event.mimeData())
            if paths:
                event.acceptProposedAction()
                if event.type() == QEvent.Type.Drop:
                    self._composer.attach(paths)
                return True
        return super().eventFilter(watched, event)

    def refresh_libraries(self) -> None:
        """List the person's libraries in the picker again."""
        store = self._owner.store

        def show(libraries: list[tuple[int, str]]) -> None:
            self._picker.set_libraries(libraries)
            chosen = self._session.library_id
            if chosen is not None and chosen not in {i for i, _name in libraries}:
                self._session.choose_library(None)  # it was deleted

        BackgroundOp(
            self, lambda: [(s.library.id, s.library.name) for s in store.list_libraries()]
        ).success(show).failure(self.error_raised.emit).run(self._owner)

    def choose_attachments(self) -> QFileDialog:
        """The attach button: Qt's own dialog (see desktop.dialogs.file_dialogs)."""
        self.file_dialog = choose_paths(self._window, "Attach files", self._composer.attach)
        return self.file_dialog

    def open_library_dialog(self) -> LibraryDialog:
        if self.library_dialog is not None and shiboken6.isValid(self.library_dialog):
            self.library_dialog.raise_()
            return self.library_dialog
        dialog = LibraryDialog(self._owner, self._session.embedder, self._catalog, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.libraries_changed.connect(self.refresh_libraries)
        dialog.finished.connect(lambda _result: self.refresh_libraries())
        self.library_dialog = dialog
        dialog.open()
        return dialog

    def show_source(self, source: Source) -> PassageDialog:
        """A source button under a reply: its passage, and the way to the original."""
        dialog = PassageDialog(source, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.passage_dialog = dialog
        dialog.open()
        return dialog

    def close_dialogs(self) -> None:
        """The app locks: nothing about the documents stays on screen."""
        dialogs: list[QDialog | None] = [self.library_dialog, self.file_dialog, self.passage_dialog]
        for dialog in dialogs:
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.reject()
