"""The conversation list as a Qt item model: grouped by date under section headers, or the
search results while a search is on."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum
from typing import Any, Literal

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from desktop import theme
from engine.storage import ConversationSummary, SearchHit

PINNED, TODAY, YESTERDAY, WEEK, OLDER = ("Pinned", "Today", "Yesterday", "Previous 7 days", "Older")
SECTIONS = (PINNED, TODAY, YESTERDAY, WEEK, OLDER)

_Index = QModelIndex | QPersistentModelIndex


class Roles(IntEnum):
    CONVERSATION_ID = Qt.ItemDataRole.UserRole + 1  # int, or None on a header
    KIND = Qt.ItemDataRole.UserRole + 2  # "header", "conversation" or "hit"
    SNIPPET_HTML = Qt.ItemDataRole.UserRole + 4  # search hits: matches in highlighted spans
    MESSAGE_ID = Qt.ItemDataRole.UserRole + 5  # search hits: None for a title match
    SNIPPET = Qt.ItemDataRole.UserRole + 6  # search hits: the snippet as plain text
    HIGHLIGHTS = Qt.ItemDataRole.UserRole + 7  # search hits: (start, end) of each match in it
    MATCH_COUNT = Qt.ItemDataRole.UserRole + 8  # search hits: messages that match (0: title)


@dataclass(frozen=True)
class _Row:
    kind: Literal["header", "conversation", "hit"]
    header: str = ""
    summary: ConversationSummary | None = None
    hit: SearchHit | None = None


def section_of(summary: ConversationSummary, now: datetime) -> str:
    """Which date section a conversation belongs to, by the local calendar day."""
    if summary.pinned:
        return PINNED
    updated = summary.updated_at
    local = updated.astimezone(now.tzinfo) if updated.tzinfo and now.tzinfo else updated
    days = (now.date() - local.date()).days
    if days <= 0:
        return TODAY
    if days == 1:
        return YESTERDAY
    if days <= 7:
        return WEEK
    return OLDER


def snippet_html(hit: SearchHit, background: str | None = None) -> str:
    """The snippet as HTML, each match in a highlighted span; the rest escaped. Uses the
    store's offsets into the plain snippet, so a « typed by the person is never taken for a
    marker."""
    colour = background or theme.highlight_color().name()
    text, spans = hit.plain_snippet, sorted(hit.highlights)
    if not spans and "«" in hit.snippet:  # no offsets given: read the markers
        text, spans = _parse_markers(hit.snippet)
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out.append(html.escape(text[at:start]))
        out.append(
            f'<span style="background-color:{colour}; font-weight:bold">'
            f"{html.escape(text[start:end])}</span>"
        )
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def match_count_text(count: int, before: str = "") -> str:
    """ "3 matches" for a conversation with several matching messages; nothing for one."""
    return f"{before}{count} matches" if count > 1 else ""


def _parse_markers(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    text, spans, start = [], [], 0
    length = 0
    for ch in snippet:
        if ch == "«":
            start = length
        elif ch == "»":
            spans.append((start, length))
        else:
            text.append(ch)
            length += 1
    return "".join(text), spans


class ConversationListModel(QAbstractListModel):
    """Rows are section headers (not selectable), conversations, or search hits.

    Renaming through the view (``setData`` with ``EditRole``) shows the new title at once and
    emits ``title_edited(id, title)``; the window saves it.
    """

    title_edited = Signal(int, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._summaries: list[ConversationSummary] = []
        self._now: datetime | None = None
        self._searching = False

    # -- public API -----------------------------------------------------------------------------

    def set_conversations(
        self, summaries: Iterable[ConversationSummary], now: datetime | None = None
    ) -> None:
        """The whole list, grouped by date against ``now`` (local time by default)."""
        self._summaries = list(summaries)
        self._now = now
        if not self._searching:
            self._rebuild()

    def set_search_results(self, hits: Sequence[SearchHit]) -> None:
        """Show these hits (the store gives one per conversation) instead of the list until
        ``clear_search``."""
        self.beginResetModel()
        self._searching = True
        self._rows = [_Row("hit", hit=h) for h in hits]
        self.endResetModel()

    def clear_search(self) -> None:
        if self._searching:
            self._searching = False
            self._rebuild()

    def is_searching(self) -> bool:
        return self._searching

    def conversation_id(self, index: _Index) -> int | None:
        value = self.data(index, Roles.CONVERSATION_ID)
        return value if isinstance(value, int) else None

    def index_of(self, conversation_id: int) -> QModelIndex:
        for row, item in enumerate(self._rows):
            if item.summary is not None and item.summary.id == conversation_id:
                return self.index(row)
        return QModelIndex()

    def summary(self, conversation_id: int) -> ConversationSummary | None:
        return next((s for s in self._summaries if s.id == conversation_id), None)

    def section_headers(self) -> list[str]:
        return [r.header for r in self._rows if r.kind == "header"]

    # -- QAbstractListModel ---------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if role == Roles.KIND:
            return item.kind
        if item.kind == "header":
            return (
                item.header
                if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole)
                else None
            )
        if item.hit is not None:
            return self._hit_data(item.hit, role)
        assert item.summary is not None
        summary = item.summary
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return summary.title or "Untitled"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{summary.title or 'Untitled'}{', pinned' if summary.pinned else ''}"
        if role == Roles.CONVERSATION_ID:
            return summary.id
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        kind = self._rows[index.row()].kind
        if kind == "header":
            return Qt.ItemFlag.ItemIsEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags | Qt.ItemFlag.ItemIsEditable if kind == "conversation" else flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        item = self._rows[index.row()]
        title = str(value).strip()
        if item.summary is None or not title or title == item.summary.title:
            return False
        renamed = replace(item.summary, title=title)
        self._rows[index.row()] = replace(item, summary=renamed)
        self._summaries = [renamed if s.id == renamed.id else s for s in self._summaries]
        self.dataChanged.emit(index, index)
        self.title_edited.emit(renamed.id, title)
        return True

    # -- internals ------------------------------------------------------------------------------

    def _hit_data(self, hit: SearchHit, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return hit.conversation_title or "Untitled"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            title = hit.conversation_title or "Untitled"
            if hit.message_id is None:
                return f"{title}, the title matches"
            return f"{title}: {hit.plain_snippet}{match_count_text(hit.match_count, ', ')}"
        if role == Roles.CONVERSATION_ID:
            return hit.conversation_id
        if role == Roles.MESSAGE_ID:
            return hit.message_id
        if role == Roles.SNIPPET:
            return hit.plain_snippet
        if role == Roles.HIGHLIGHTS:
            return hit.highlights or tuple(_parse_markers(hit.snippet)[1])
        if role == Roles.MATCH_COUNT:
            return hit.match_count
        if role == Roles.SNIPPET_HTML:
            return snippet_html(hit)
        return None

    def _rebuild(self) -> None:
        now = self._now or datetime.now().astimezone()
        sections: dict[str, list[ConversationSummary]] = {name: [] for name in SECTIONS}
        for summary in self._summaries:
            sections[section_of(summary, now)].append(summary)
        rows: list[_Row] = []
        for name in SECTIONS:
            members = sorted(sections[name], key=lambda s: (s.updated_at, s.id), reverse=True)
            if members:
                rows.append(_Row("header", header=name))
                rows.extend(_Row("conversation", summary=s) for s in members)
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()
