"""The sidebar: search, "New chat", and the conversations grouped by date."""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAbstractTextDocumentLayout, QFont, QKeyEvent, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.models.conversation_list_model import ConversationListModel, Roles
from engine.storage import ConversationSummary, SearchHit

SEARCH_DEBOUNCE_MS = 150


class _ConversationDelegate(QStyledItemDelegate):
    """Section headers in small muted type; search hits as title plus highlighted snippet."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        kind = index.data(Roles.KIND)
        if kind == "header":
            painter.save()
            font = QFont(option.font)
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            painter.setFont(font)
            widget = option.widget
            if isinstance(widget, QWidget):
                painter.setPen(theme.muted_color(widget))
            rect: QRect = option.rect.adjusted(6, 0, -6, 0)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, str(index.data())
            )
            painter.restore()
            return
        if kind == "hit":
            self.initStyleOption(option, index)
            text = option.text
            option.text = ""
            style = option.widget.style() if option.widget else None
            if style is not None:
                style.drawControl(
                    QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget
                )
            doc = _hit_document(text, index.data(Roles.SNIPPET_HTML), option.rect.width() - 12)
            painter.save()
            painter.translate(option.rect.topLeft() + QPoint(6, 2))
            doc.documentLayout().draw(painter, QAbstractTextDocumentLayout.PaintContext())
            painter.restore()
            return
        super().paint(painter, option, index)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        base = super().sizeHint(option, index)
        kind = index.data(Roles.KIND)
        if kind == "header":
            return QSize(base.width(), round(base.height() * 1.4))
        if kind == "hit":
            width = max(120, option.rect.width() - 12)
            doc = _hit_document(str(index.data()), index.data(Roles.SNIPPET_HTML), width)
            return QSize(base.width(), round(doc.size().height()) + 4)
        return base


def _hit_document(title: str, snippet: str, width: int) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setHtml(f"<b>{html.escape(title, quote=False)}</b><br>{snippet}")
    doc.setTextWidth(width)
    return doc


class SidebarWidget(QWidget):
    """Signals only: the window talks to the store and feeds the results back with
    ``set_conversations`` and ``set_search_results``."""

    conversation_selected = Signal(int)  # an ordinary row; a search hit emits only the next
    search_hit_selected = Signal(int, int)  # conversation id, message id (-1: title match)
    new_requested = Signal()
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    pin_requested = Signal(int, bool)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False  # True while the list changes under the person's selection
        self.model = ConversationListModel(self)
        self.model.title_edited.connect(self.rename_requested)

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search conversations")
        self.search_edit.setAccessibleName("Search conversations")
        self.search_edit.setClearButtonEnabled(True)
        self.new_button = QPushButton("New chat")
        self.new_button.setAccessibleName("Start a new conversation")
        self.list_view = QListView()
        self.list_view.setAccessibleName("Conversations")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(_ConversationDelegate(self.list_view))
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.setUniformItemSizes(False)
        self.list_view.installEventFilter(self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)

        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.new_button.clicked.connect(self.new_requested)
        self.list_view.customContextMenuRequested.connect(
            self._on_list_view_custom_context_menu_requested
        )
        self.list_view.selectionModel().currentChanged.connect(self._on_list_view_current_changed)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list_view, 1)
        self.setMinimumWidth(theme.em(self, 12))

    # -- public API -----------------------------------------------------------------------------

    def set_conversations(
        self, summaries: Iterable[ConversationSummary], now: datetime | None = None
    ) -> None:
        """Replace the list; the selected conversation stays selected, silently."""
        current = self.current_conversation_id()
        with self._silenced():
            self.model.set_conversations(summaries, now)
            if current is not None and not self.model.is_searching():
                self.list_view.setCurrentIndex(self.model.index_of(current))

    def set_search_results(self, query: str, hits: Sequence[SearchHit]) -> None:
        """Show ``hits`` for ``query``; results for a query that is no longer typed are
        dropped (a slow search may answer after a newer one)."""
        if query != self.search_text() or not query:
            return
        with self._silenced():
            self.model.set_search_results(hits)

    def search_text(self) -> str:
        return self.search_edit.text().strip()

    def current_conversation_id(self) -> int | None:
        return self.model.conversation_id(self.list_view.currentIndex())

    def select_conversation(self, conversation_id: int | None) -> None:
        """Show which conversation is open (None: a new chat, none marked), without emitting
        ``conversation_selected``."""
        with self._silenced():
            if conversation_id is None:
                self.list_view.setCurrentIndex(QModelIndex())
                self.list_view.clearSelection()
            else:
                self.list_view.setCurrentIndex(self.model.index_of(conversation_id))

    def begin_rename(self, conversation_id: int) -> None:
        index = self.model.index_of(conversation_id)
        if index.isValid():
            self.list_view.setCurrentIndex(index)
            self.list_view.edit(index)

    def context_menu(self, conversation_id: int) -> QMenu:
        """The menu a right-click on that conversation opens."""
        summary = self.model.summary(conversation_id)
        pinned = bool(summary and summary.pinned)
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.begin_rename(conversation_id))
        menu.addAction(
            "Unpin" if pinned else "Pin",
            lambda: self.pin_requested.emit(conversation_id, not pinned),
        )
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete_requested.emit(conversation_id))
        return menu

    # -- slots ----------------------------------------------------------------------------------

    def _on_search_edit_text_changed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
            return
        self._search_timer.stop()  # cleared: the list comes back at once
        with self._silenced():
            self.model.clear_search()
        self.search_changed.emit("")

    def _on_search_timer_timeout(self) -> None:
        query = self.search_text()
        if query:
            self.search_changed.emit(query)

    def _on_list_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        conversation_id = self.model.conversation_id(current)
        if self._quiet or conversation_id is None:
            return
        if current.data(Roles.KIND) == "hit":  # one signal per pick: the window opens it once
            message_id = current.data(Roles.MESSAGE_ID)
            self.search_hit_selected.emit(conversation_id, -1 if message_id is None else message_id)
        else:
            self.conversation_selected.emit(conversation_id)

    def _on_list_view_custom_context_menu_requested(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        conversation_id = self.model.conversation_id(index)
        if conversation_id is None or index.data(Roles.KIND) != "conversation":
            return
        menu = self.context_menu(conversation_id)
        menu.exec(self.list_view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.list_view
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Delete
            and self.list_view.state() != QAbstractItemView.State.EditingState
        ):
            conversation_id = self.current_conversation_id()
            if conversation_id is not None and not self.model.is_searching():
                self.delete_requested.emit(conversation_id)
                return True
        return super().eventFilter(watched, event)

    @contextmanager
    def _silenced(self) -> Iterator[None]:
        """Selection changes made by code, not by the person, emit nothing."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before
