"""The conversation list model: date sections, search hits with highlighted matches, rename."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextDocument
from pytestqt.qtbot import QtBot

from desktop.models.conversation_list_model import ConversationListModel, Roles, snippet_html
from engine.storage import ConversationSummary, SearchHit

LOCAL = timezone(timedelta(hours=2))
NOW = datetime(2025, 3, 10, 0, 30, tzinfo=LOCAL)


def _summary(id_: int, title: str, updated: datetime, pinned: bool = False):
    return ConversationSummary(id=id_, title=title, updated_at=updated, pinned=pinned)


def _rows(model: ConversationListModel) -> list[str]:
    return [model.data(model.index(r)) for r in range(model.rowCount())]


@pytest.fixture
def model(qtbot: QtBot) -> ConversationListModel:
    return ConversationListModel()


def test_conversations_are_grouped_under_date_headers(model: ConversationListModel):
    model.set_conversations(
        [
            _summary(1, "Old pinned", NOW - timedelta(days=90), pinned=True),
            _summary(2, "Just now", NOW - timedelta(minutes=5)),
            _summary(3, "Last night", NOW - timedelta(hours=2)),
            _summary(4, "Monday", NOW - timedelta(days=4)),
            _summary(5, "Last month", NOW - timedelta(days=30)),
            _summary(6, "Earlier today", NOW - timedelta(minutes=20)),
        ],
        now=NOW,
    )
    assert _rows(model) == [
        "Pinned",
        "Old pinned",
        "Today",
        "Just now",
        "Earlier today",
        "Yesterday",
        "Last night",
        "Previous 7 days",
        "Monday",
        "Older",
        "Last month",
    ]
    assert model.section_headers() == ["Pinned", "Today", "Yesterday", "Previous 7 days", "Older"]


def test_days_are_local_calendar_days_not_utc_ones(model: ConversationListModel):
    # 22:10 UTC on the 9th is 00:10 on the 10th here: today, though UTC says yesterday.
    model.set_conversations(
        [_summary(1, "After midnight", datetime(2025, 3, 9, 22, 10, tzinfo=UTC))], now=NOW
    )
    assert _rows(model) == ["Today", "After midnight"]


def test_headers_cannot_be_selected_and_carry_no_id(model: ConversationListModel):
    model.set_conversations([_summary(9, "Chat", NOW)], now=NOW)
    header, chat = model.index(0), model.index(1)
    assert not model.flags(header) & Qt.ItemFlag.ItemIsSelectable
    assert model.conversation_id(header) is None
    assert model.flags(chat) & Qt.ItemFlag.ItemIsSelectable
    assert model.conversation_id(chat) == 9
    assert model.index_of(9).row() == 1


def test_search_hits_replace_the_list_until_the_search_is_cleared(model):
    model.set_conversations([_summary(1, "Trip", NOW)], now=NOW)
    hit = SearchHit(
        conversation_id=1,
        message_id=4,
        conversation_title="Trip",
        snippet="the «blue» sky",
        plain_snippet="the blue sky",
        highlights=((4, 8),),
    )
    model.set_search_results([hit])
    assert model.is_searching()
    assert _rows(model) == ["Trip"]
    assert model.data(model.index(0), Roles.KIND) == "hit"
    assert model.data(model.index(0), Roles.MESSAGE_ID) == 4
    model.set_conversations([_summary(1, "Trip", NOW), _summary(2, "New", NOW)], now=NOW)
    assert _rows(model) == ["Trip"]  # still searching
    model.clear_search()
    assert _rows(model) == ["Today", "New", "Trip"]  # same time: newest id first, as the store


def _highlighted(html: str) -> list[str]:
    doc = QTextDocument()
    doc.setHtml(html)
    found = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if (
                fmt.fontWeight() == QFont.Weight.Bold
                and fmt.background().style() != Qt.BrushStyle.NoBrush
            ):
                found.append(it.fragment().text())
            it += 1
        block = block.next()
    return found


def test_snippet_matches_become_highlighted_spans_and_the_rest_is_escaped():
    hit = SearchHit(
        conversation_id=1,
        message_id=2,
        conversation_title="t",
        snippet="a «<b>» and «sky» «x",
        plain_snippet="a <b> and sky «x",
        highlights=((2, 5), (10, 13)),
    )
    html = snippet_html(hit, background="#ffe58a")
    doc = QTextDocument()
    doc.setHtml(html)
    assert doc.toPlainText() == "a <b> and sky «x"
    assert _highlighted(html) == ["<b>", "sky"]


def test_markers_are_read_when_no_offsets_are_given():
    hit = SearchHit(
        conversation_id=1,
        message_id=None,
        conversation_title="t",
        snippet="«Trip» plans",
        plain_snippet="Trip plans",
        highlights=(),
    )
    assert _highlighted(snippet_html(hit)) == ["Trip"]


def test_renaming_through_the_view_shows_the_title_and_says_so(qtbot: QtBot, model):
    model.set_conversations([_summary(1, "Untitled chat", NOW)], now=NOW)
    with qtbot.waitSignal(model.title_edited) as edited:
        assert model.setData(model.index(1), "  Paris trip ", Qt.ItemDataRole.EditRole)
    assert edited.args == [1, "Paris trip"]
    assert model.data(model.index(1)) == "Paris trip"
    with qtbot.assertNotEmitted(model.title_edited):
        assert not model.setData(model.index(1), "   ", Qt.ItemDataRole.EditRole)


def test_a_hit_carries_its_match_count_and_plain_snippet(model: ConversationListModel):
    several = SearchHit(1, 4, "Trip", "the «blue» sky", "the blue sky", ((4, 8),), 3)
    title = SearchHit(2, None, "Blue notes", "«Blue» notes", "Blue notes", (), 0)
    model.set_search_results([several, title])
    first, second = model.index(0), model.index(1)
    assert model.data(first, Roles.MATCH_COUNT) == 3
    assert model.data(first, Roles.SNIPPET) == "the blue sky"
    assert model.data(first, Roles.HIGHLIGHTS) == ((4, 8),)
    assert model.data(first, Qt.ItemDataRole.AccessibleTextRole) == "Trip: the blue sky, 3 matches"
    assert model.data(second, Roles.HIGHLIGHTS) == ((0, 4),)  # read from the markers
    assert model.data(second, Qt.ItemDataRole.AccessibleTextRole) == (
        "Blue notes, the title matches"
    )
    one = SearchHit(3, 5, "Sky", "«blue»", "blue", ((0, 4),), 1)
    model.set_search_results([one])
    assert model.data(model.index(0), Qt.ItemDataRole.AccessibleTextRole) == "Sky: blue"
