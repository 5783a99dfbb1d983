"""The sidebar: "New chat", search, and the conversations grouped by date. The window hides
and shows it (``set_collapsed``); the person can also drag it shut with the splitter."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPen,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.models.conversation_list_model import (
    ConversationListModel,
    Roles,
    match_count_text,
)
from engine.storage import ConversationSummary, SearchHit

SEARCH_DEBOUNCE_MS = 150
EMPTY_TEXT = "Your conversations appear here. They are encrypted on this computer."
# A query longer than this is shortened in "No conversation mentions …".
_QUERY_SHOWN = 40
_SNIPPET_LINES = 2
_Spans = tuple[tuple[int, int], ...]
# A snippet's line breaks and tabs are drawn as spaces (same length: the offsets still hold).
_AS_SPACE = {ord(c): " " for c in "\n\r\t\v\f\u2028\u2029"}


def no_results_text(query: str) -> str:
    shown = query if len(query) <= _QUERY_SHOWN else query[: _QUERY_SHOWN - 1] + "…"
    return f"No conversation mentions “{shown}”."


class _ConversationDelegate(QStyledItemDelegate):
    """Draws the rows in Hearth's colours: section headers in small muted type; conversations
    as one title line, elided with "…"; search hits as title, up to two lines of snippet with
    the matches highlighted, and how many messages match. Rows are as wide as the view, never
    wider, so the list never scrolls sideways."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        t = theme.tokens()
        fm = QFontMetrics(option.font)
        pad = round(fm.height() * 0.6)
        kind = index.data(Roles.KIND)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect
        if kind == "header":
            font = _scaled(option.font, theme.TYPE["small"], bold=True)
            painter.setFont(font)
            painter.setPen(QColor(t.muted))
            text_rect = rect.adjusted(pad, 0, -pad, -round(fm.height() * 0.25))
            text = QFontMetrics(font).elidedText(
                str(index.data()), Qt.TextElideMode.ElideRight, text_rect.width()
            )
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, text
            )
            painter.restore()
            return
        self._paint_background(painter, option, t, fm)
        inner = rect.adjusted(pad, 0, -pad, 0)
        if kind == "conversation":
            painter.setFont(option.font)
            painter.setPen(QColor(t.text))
            text = self.title_shown(index, option.font, rect.width())
            painter.drawText(
                inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
            )
        elif kind == "hit":
            self._paint_hit(painter, option, index, inner, t)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        # Width 1: the view makes every row as wide as itself; a wider hint would give the
        # list a horizontal scrollbar (found with long titles).
        height = QFontMetrics(option.font).height()
        kind = index.data(Roles.KIND)
        if kind == "header":
            return QSize(1, round(height * 1.9))
        if kind == "hit":
            return QSize(1, self._hit_height(option, index))
        return QSize(1, round(height * 2.1))

    def title_shown(
        self, index: QModelIndex | QPersistentModelIndex, font: QFont, row_width: int
    ) -> str:
        """A conversation's title as its row draws it: elided with "…" to fit."""
        fm = QFontMetrics(font)
        width = row_width - 2 * round(fm.height() * 0.6)
        return fm.elidedText(str(index.data()), Qt.TextElideMode.ElideRight, width)

    def updateEditorGeometry(
        self,
        editor: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        inset = round(QFontMetrics(option.font).height() * 0.3)
        editor.setGeometry(option.rect.adjusted(inset, 2, -inset, -2))

    # -- internals ------------------------------------------------------------------------------

    def _paint_background(
        self, painter: QPainter, option: QStyleOptionViewItem, t: theme.Tokens, fm: QFontMetrics
    ) -> None:
        state = option.state
        margin = round(fm.height() * 0.25)
        box = QRectF(option.rect.adjusted(margin, 1, -margin, -1))
        radius = fm.height() * theme.RADIUS["small"]
        colour = None
        if state & QStyle.StateFlag.State_Selected:
            colour = t.selected
        elif state & QStyle.StateFlag.State_MouseOver:
            colour = t.hover
        if colour is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(box, radius, radius)
        if state & QStyle.StateFlag.State_HasFocus and self._view.hasFocus():
            # Where the keyboard is: the accent ring, as on every other focused control.
            painter.setPen(QPen(QColor(t.accent), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)

    def _paint_hit(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        inner: QRect,
        t: theme.Tokens,
    ) -> None:
        fonts = _HitFonts(option.font)
        highlight = QBrush(QColor(t.highlight))
        y = inner.top() + fonts.pad
        painter.setClipRect(inner)
        painter.setPen(QColor(t.text))
        if index.data(Roles.MESSAGE_ID) is None:  # a match in the title: the title shows it
            title, spans = _flat(index.data(Roles.SNIPPET)), index.data(Roles.HIGHLIGHTS)
        else:
            title, spans = str(index.data()), ()
        for text, line_spans in _lines(title, spans, fonts.title, inner.width(), 1):
            _draw_line(
                painter,
                QPointF(inner.left(), y),
                text,
                line_spans,
                font=fonts.title,
                highlight=highlight,
            )
        y += fonts.title_height
        if index.data(Roles.MESSAGE_ID) is not None:
            snippet = _flat(index.data(Roles.SNIPPET))
            painter.setPen(QColor(t.text))
            for text, line_spans in _lines(
                snippet, index.data(Roles.HIGHLIGHTS), fonts.snippet, inner.width(), _SNIPPET_LINES
            ):
                _draw_line(
                    painter,
                    QPointF(inner.left(), y),
                    text,
                    line_spans,
                    font=fonts.snippet,
                    highlight=highlight,
                )
                y += fonts.snippet_height
        count = match_count_text(int(index.data(Roles.MATCH_COUNT) or 0))
        if count:
            painter.setFont(fonts.snippet)
            painter.setPen(QColor(t.muted))
            painter.drawText(
                QRect(inner.left(), y, inner.width(), fonts.snippet_height),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                count,
            )

    def _hit_height(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> int:
        fonts = _HitFonts(option.font)
        height = 2 * fonts.pad + fonts.title_height
        if index.data(Roles.MESSAGE_ID) is not None:
            width = max(1, self._view.viewport().width() - 2 * fonts.row_pad)
            snippet = _flat(index.data(Roles.SNIPPET))
            lines = _lines(snippet, (), fonts.snippet, width, _SNIPPET_LINES)
            height += max(1, len(lines)) * fonts.snippet_height
        if match_count_text(int(index.data(Roles.MATCH_COUNT) or 0)):
            height += fonts.snippet_height
        return height


class _HitFonts:
    """A search hit's fonts and line heights, from the list's font."""

    def __init__(self, base: QFont) -> None:
        self.title = _scaled(base, 1.0, bold=True)
        self.snippet = _scaled(base, theme.TYPE["small"])
        self.title_height = QFontMetrics(self.title).height()
        self.snippet_height = QFontMetrics(self.snippet).height()
        base_height = QFontMetrics(base).height()
        self.pad = round(base_height * 0.45)
        self.row_pad = round(base_height * 0.6)


def _scaled(font: QFont, factor: float, *, bold: bool = False) -> QFont:
    out = QFont(font)
    if factor != 1.0:
        if out.pointSizeF() > 0:
            out.setPointSizeF(out.pointSizeF() * factor)
        else:
            out.setPixelSize(max(1, round(out.pixelSize() * factor)))
    if bold:
        out.setWeight(QFont.Weight.DemiBold)
    return out


def _flat(value: object) -> str:
    return str(value or "").translate(_AS_SPACE)


def _lines(
    text: str, spans: _Spans, font: QFont, width: int, max_lines: int
) -> list[tuple[str, _Spans]]:
    """``text`` wrapped to ``width`` in at most ``max_lines`` lines, the last one elided with
    "…" when text is left over; each line with its highlight spans, shifted to it."""
    if not text:
        return []
    layout = QTextLayout(text, _bold(font))  # bold: measured as wide as a highlight draws
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    breaks: list[tuple[int, int]] = []
    layout.beginLayout()
    while len(breaks) < max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        breaks.append((line.textStart(), line.textStart() + line.textLength()))
    layout.endLayout()
    out: list[tuple[str, _Spans]] = []
    for number, (start, end) in enumerate(breaks):
        piece = text[start:end]
        if number == len(breaks) - 1 and end < len(text):
            elided = QFontMetrics(_bold(font)).elidedText(
                text[start:], Qt.TextElideMode.ElideRight, width
            )
            piece = elided[:-1].rstrip() + "…" if elided.endswith("…") else elided
        shown = len(piece) - (1 if piece.endswith("…") and end < len(text) else 0)
        line_spans = tuple(
            (max(s, start) - start, min(e, start + shown) - start)
            for s, e in spans
            if s < start + shown and e > start
        )
        out.append((piece.rstrip(), line_spans))
    return out


def _bold(font: QFont) -> QFont:
    out = QFont(font)
    out.setBold(True)
    return out


def _draw_line(
    painter: QPainter, at: QPointF, text: str, spans: _Spans, *, font: QFont, highlight: QBrush
) -> None:
    layout = QTextLayout(text, font)
    formats = []
    for start, end in spans:
        fmt = QTextCharFormat()
        fmt.setBackground(highlight)
        fmt.setFontWeight(QFont.Weight.Bold)
        matched = QTextLayout.FormatRange()
        matched.start, matched.length, matched.format = start, end - start, fmt
        formats.append(matched)
    layout.setFormats(formats)
    layout.beginLayout()
    line = layout.createLine()
    line.setLineWidth(1_000_000)  # already cut to fit: one line
    layout.endLayout()
    layout.draw(painter, at)


class _ConversationListView(QListView):
    """The arrow keys step over section headers (they cannot be selected)."""

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        index = super().moveCursor(cursorAction, modifiers)
        model = self.model()
        if not index.isValid() or model.flags(index) & Qt.ItemFlag.ItemIsSelectable:
            return index
        action = QAbstractItemView.CursorAction
        forward = cursorAction in (
            action.MoveDown,
            action.MoveNext,
            action.MovePageDown,
            action.MoveHome,
        )
        for step in (1, -1) if forward else (-1, 1):  # on past the header, else back
            row = index.row()
            while 0 <= row < model.rowCount():
                if model.flags(model.index(row, 0)) & Qt.ItemFlag.ItemIsSelectable:
                    return model.index(row, 0)
                row += step
        return self.currentIndex()


class SidebarWidget(QWidget):
    """Signals only: the window talks to the store and feeds the results back with
    ``set_conversations`` and ``set_search_results``.

    Keyboard: Down or Enter in the search box goes to the first row, Up on the first row
    goes back; Esc in the search box (or in the results) clears the search and emits
    ``search_dismissed`` so the window can put the focus back in the composer.
    """

    conversation_selected = Signal(int)  # an ordinary row; a search hit emits only the next
    search_hit_selected = Signal(int, int)  # conversation id, message id (-1: title match)
    new_requested = Signal()
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    pin_requested = Signal(int, bool)
    search_changed = Signal(str)
    search_dismissed = Signal()  # Esc left the search: the focus should go back to the chat
    # The person dragged the splitter handle: the sidebar shut (True) or open again (False).
    collapse_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # #sidebar's background
        self._quiet = False  # True while the list changes under the person's selection
        self._collapsed = False
        self._open_width = 0  # its width when last open, to open it at again
        self._splitter: QSplitter | None = None  # the splitter it is in, if any
        self._dragged_shut = False  # the person dragged it to width 0 with the splitter
        self._listed = False  # the first list has arrived (before it, no empty state)
        self.model = ConversationListModel(self)
        self.model.title_edited.connect(self.rename_requested)

        self.new_button = QPushButton("New chat")
        self.new_button.setAccessibleName("Start a new conversation")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search conversations")
        self.search_edit.setAccessibleName("Search conversations")
        self.search_edit.setClearButtonEnabled(True)
        self._search_icon = self.search_edit.addAction(
            theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition
        )
        for button in self.search_edit.findChildren(QToolButton):  # the icon, the clear button
            is_icon = button.defaultAction() is self._search_icon
            button.setAccessibleName("Search" if is_icon else "Clear the search")
        self.list_view: QListView = _ConversationListView()
        self.list_view.setAccessibleName("Conversations")
        self.list_view.setModel(self.model)
        self._delegate = _ConversationDelegate(self.list_view)
        self.list_view.setItemDelegate(self._delegate)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.setUniformItemSizes(False)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setResizeMode(QListView.ResizeMode.Adjust)  # hits re-wrap on resize
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list_view.setMouseTracking(True)
        self.list_view.installEventFilter(self)
        self.search_edit.installEventFilter(self)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("hintLabel")
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        # Ignored: a long unbroken query must not widen the sidebar.
        self.empty_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        margin = theme.em(self, theme.SPACE["l"])
        self.empty_label.setContentsMargins(margin, margin, margin, margin)
        self.empty_label.hide()
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

        space = theme.em(self, theme.SPACE["s"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(space, space, space, 0)
        layout.setSpacing(space)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(self.empty_label, 1)
        self.setMinimumWidth(theme.em(self, 12))
        self._apply_icons()

    # -- public API -----------------------------------------------------------------------------

    def set_conversations(
        self, summaries: Iterable[ConversationSummary], now: datetime | None = None
    ) -> None:
        """Replace the list; the selected conversation stays selected, silently."""
        current = self.current_conversation_id()
        self._listed = True
        with self._silenced():
            self.model.set_conversations(summaries, now)
            if current is not None and not self.model.is_searching():
                self.list_view.setCurrentIndex(self.model.index_of(current))
        self._update_empty_state()

    def set_search_results(self, query: str, hits: Sequence[SearchHit]) -> None:
        """Show ``hits`` (one per conversation) for ``query``; results for a query that is no
        longer typed are dropped (a slow search may answer after a newer one)."""
        if query != self.search_text() or not query:
            return
        with self._silenced():
            self.model.set_search_results(hits)
        self._update_empty_state()

    def search_text(self) -> str:
        return self.search_edit.text().strip()

    def focus_search(self) -> None:
        """Ctrl+F: the focus in the search box, its text selected (to type over)."""
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def clear_search(self) -> None:
        """Back to the whole list (emits ``search_changed("")``)."""
        self.search_edit.clear()

    def set_collapsed(self, collapsed: bool) -> None:
        """Hide or show the sidebar, for the window (a narrow window, its toolbar toggle);
        emits nothing. Shown again after being dragged shut, it opens at its old width."""
        if collapsed and not self._collapsed:
            self._remember_width()
        self._collapsed = collapsed
        self.setVisible(not collapsed)
        if not collapsed and self._dragged_shut:
            # After the splitter has handled the show (it would keep the width at 0).
            QTimer.singleShot(0, self, self._reopen_in_splitter)

    def is_collapsed(self) -> bool:
        return self._collapsed

    def title_shown(self, conversation_id: int) -> str:
        """The conversation's title as its row shows it now (elided to the row's width)."""
        index = self.model.index_of(conversation_id)
        rect = self.list_view.visualRect(index)
        return self._delegate.title_shown(index, self.list_view.font(), rect.width())

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
        self._update_empty_state()
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
        if not isinstance(event, QKeyEvent) or event.modifiers() not in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        ):
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.search_edit:
            if key == Qt.Key.Key_Escape:
                # Accepting the override keeps the window's Esc shortcut (Stop) from taking it.
                if event.type() == QEvent.Type.ShortcutOverride:
                    event.accept()
                    return True
                if event.type() == QEvent.Type.KeyPress:
                    self._dismiss_search()
                    return True
            if event.type() == QEvent.Type.KeyPress and key in (
                Qt.Key.Key_Down,
                Qt.Key.Key_Return,
                Qt.Key.Key_Enter,
            ):
                return self._enter_list()
        elif watched is self.list_view and self.list_view.state() != (
            QAbstractItemView.State.EditingState
        ):
            return self._list_key(event) or super().eventFilter(watched, event)
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._collapsed:
            self._remember_width()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ParentChange:
            self._watch_splitter()
        return super().event(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light ↔ dark: icons in the new colours
            self._apply_icons()

    # -- internals ------------------------------------------------------------------------------

    def _list_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        searching = self.model.is_searching()
        if key == Qt.Key.Key_Escape and searching:
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()
            elif event.type() == QEvent.Type.KeyPress:
                self._dismiss_search()
            return True
        if event.type() != QEvent.Type.KeyPress:
            return False
        if key == Qt.Key.Key_Delete and not searching:
            conversation_id = self.current_conversation_id()
            if conversation_id is not None:
                self.delete_requested.emit(conversation_id)
                return True
        if key == Qt.Key.Key_Up and self.list_view.currentIndex().row() <= self._first_row():
            self.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return False

    def _enter_list(self) -> bool:
        row = self._first_row()
        if row < 0:
            return False
        self.list_view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.list_view.setCurrentIndex(self.model.index(row))
        return True

    def _first_row(self) -> int:
        return next(
            (
                r
                for r in range(self.model.rowCount())
                if self.model.flags(self.model.index(r)) & Qt.ItemFlag.ItemIsSelectable
            ),
            -1,
        )

    def _dismiss_search(self) -> None:
        self.clear_search()
        self.search_dismissed.emit()

    def _update_empty_state(self) -> None:
        empty = self._listed and self.model.rowCount() == 0
        if empty:
            searching = self.model.is_searching()
            self.empty_label.setText(
                no_results_text(self.search_text()) if searching else EMPTY_TEXT
            )
        self.empty_label.setVisible(empty)
        self.list_view.setVisible(not empty)

    def _watch_splitter(self) -> None:
        if self._splitter is not None:
            self._splitter.splitterMoved.disconnect(self._on_splitter_splitter_moved)
        parent = self.parentWidget()
        self._splitter = parent if isinstance(parent, QSplitter) else None
        if self._splitter is not None:
            self._splitter.splitterMoved.connect(self._on_splitter_splitter_moved)

    def _on_splitter_splitter_moved(self, _pos: int, _index: int) -> None:
        # A splitter shuts a child dragged below its minimum width: its size becomes 0 (the
        # widget itself stays visible, moved out of sight).
        splitter = self._splitter
        if splitter is None or not self.isVisible():
            return
        shut = splitter.sizes()[splitter.indexOf(self)] == 0
        if not shut:
            self._remember_width()
        self._dragged_shut = shut
        if shut != self._collapsed:
            self._collapsed = shut
            self.collapse_toggled.emit(shut)

    def _remember_width(self) -> None:
        splitter = self._splitter
        if splitter is not None:  # (a hidden or shut child's size is 0)
            width = splitter.sizes()[splitter.indexOf(self)]
            if width > 0:
                self._open_width = width

    def _reopen_in_splitter(self) -> None:
        """Dragged shut, then shown by the window: open at the width it had."""
        splitter = self._splitter
        if splitter is None or self._collapsed or not self._dragged_shut:
            return
        self._dragged_shut = False
        sizes = splitter.sizes()
        mine = splitter.indexOf(self)
        want = max(self.minimumWidth(), self._open_width or theme.em(self, 16))
        widest = max((i for i in range(len(sizes)) if i != mine), key=lambda i: sizes[i])
        other = splitter.widget(widest)
        floor = other.minimumWidth() if other is not None else 0
        give = min(want, max(0, sizes[widest] + sizes[mine] - floor))
        sizes[widest] += sizes[mine] - give
        sizes[mine] = give
        splitter.setSizes(sizes)

    def _apply_icons(self) -> None:
        t = theme.tokens()
        size = theme.em(self, 1.1)
        self.new_button.setIcon(theme.icon("new-chat", t.text))
        self.new_button.setIconSize(QSize(size, size))
        self._search_icon.setIcon(theme.icon("search", t.muted))

    @contextmanager
    def _silenced(self) -> Iterator[None]:
        """Selection changes made by code, not by the person, emit nothing."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before
