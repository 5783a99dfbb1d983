"""The sidebar's conversations against a real encrypted store, through its owner thread."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop.conversation_list import ConversationList
from desktop.widgets.sidebar import SidebarWidget
from engine.storage import ConversationStore, StoreOwner


@pytest.fixture
def host(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def parts(qtbot: QtBot, owner: StoreOwner, host: QWidget) -> tuple[ConversationList, SidebarWidget]:
    sidebar = SidebarWidget(host)
    sidebar.resize(300, 500)
    conversations = ConversationList(owner, sidebar, host)
    host.show()
    return conversations, sidebar


def _conversation(db: ConversationStore, title: str, *texts: str) -> tuple[int, list[int]]:
    conv = db.create_conversation(title)
    ids: list[int] = []
    for text in texts:
        ids.append(db.add_message(conv.id, ids[-1] if ids else None, "user", text).id)
    return conv.id, ids


def _rows(sidebar: SidebarWidget) -> list[int]:
    model = sidebar.model
    ids = [model.conversation_id(model.index(r)) for r in range(model.rowCount())]
    return [i for i in ids if i is not None]


def test_a_search_lists_each_conversation_once_with_its_match_count(
    qtbot: QtBot, owner: StoreOwner, parts
):
    conversations, sidebar = parts
    db = owner.routed()
    zoo, zoo_messages = _conversation(
        db,
        "Zoo visit",
        "Where do zebras live?",
        "Do zebras sleep standing?",
        "And lions?",
        "Are zebras horses?",
    )
    stripes, _ = _conversation(db, "Stripes", "Why do zebras have stripes?")
    _conversation(db, "Bread", "Knead the dough")
    conversations.refresh()
    qtbot.waitUntil(lambda: len(_rows(sidebar)) == 3)
    qtbot.keyClicks(sidebar.search_edit, "zebras")
    qtbot.waitUntil(sidebar.model.is_searching)
    assert _rows(sidebar) == [stripes, zoo]  # one row each, newest match first
    model, view = sidebar.model, sidebar.list_view
    zoo_row = model.index(1)
    assert model.data(zoo_row, Qt.ItemDataRole.AccessibleTextRole) == (
        "Zoo visit: Are zebras horses?, 3 matches"
    )
    assert view.visualRect(zoo_row).height() > view.visualRect(model.index(0)).height()
    with qtbot.waitSignal(conversations.open_requested) as opened:
        qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(zoo_row).center()
        )
    assert opened.args == [zoo, zoo_messages[3]]  # the chat scrolls to that message
    sidebar.search_edit.setFocus()
    with qtbot.waitSignal(sidebar.search_dismissed):
        qtbot.keyClick(sidebar.search_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: len(_rows(sidebar)) == 3 and not model.is_searching())


def test_no_conversations_and_no_results_say_so(qtbot: QtBot, owner: StoreOwner, parts):
    conversations, sidebar = parts
    conversations.refresh()
    qtbot.waitUntil(sidebar.empty_label.isVisible)
    assert "encrypted on this computer" in sidebar.empty_label.text()
    _conversation(owner.routed(), "Bread", "Knead the dough")
    conversations.refresh()
    qtbot.waitUntil(lambda: len(_rows(sidebar)) == 1)
    assert not sidebar.empty_label.isVisible()
    qtbot.keyClicks(sidebar.search_edit, "zebras")
    qtbot.waitUntil(sidebar.empty_label.isVisible)
    assert sidebar.empty_label.text() == "No conversation mentions “zebras”."


def test_a_delete_can_be_undone_until_it_happens(qtbot: QtBot, owner: StoreOwner, parts):
    conversations, sidebar = parts
    bread, _ = _conversation(owner.routed(), "Bread", "Knead the dough")
    conversations.refresh()
    qtbot.waitUntil(lambda: _rows(sidebar) == [bread])
    assert not conversations.can_undo()
    view = sidebar.list_view
    rect = view.visualRect(sidebar.model.index_of(bread))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(conversations.deleted):
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert conversations.can_undo()
    assert _rows(sidebar) == []
    conversations.undo()
    assert not conversations.can_undo()
    assert _rows(sidebar) == [bread]
