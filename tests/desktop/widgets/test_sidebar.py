"""The sidebar: picking, searching, renaming, pinning and deleting conversations."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from desktop.widgets.sidebar import SEARCH_DEBOUNCE_MS, SidebarWidget
from engine.storage import ConversationSummary, SearchHit

NOW = datetime.now().astimezone()


def _summaries(pinned_first: bool = False) -> list[ConversationSummary]:
    return [
        ConversationSummary(1, "Paris trip", NOW - timedelta(minutes=1), pinned_first),
        ConversationSummary(2, "Sourdough", NOW - timedelta(days=1), False),
    ]


@pytest.fixture
def sidebar(qtbot: QtBot) -> SidebarWidget:
    w = SidebarWidget()
    qtbot.addWidget(w)
    w.resize(300, 500)
    w.show()
    w.set_conversations(_summaries(), now=NOW)
    return w


def _titles(sidebar: SidebarWidget) -> list[str]:
    m = sidebar.model
    return [m.data(m.index(r)) for r in range(m.rowCount())]


def test_clicking_a_conversation_selects_it(qtbot: QtBot, sidebar: SidebarWidget):
    rect = sidebar.list_view.visualRect(sidebar.model.index_of(2))
    with qtbot.waitSignal(sidebar.conversation_selected) as selected:
        qtbot.mouseClick(sidebar.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert selected.args == [2]
    assert sidebar.current_conversation_id() == 2


def test_the_window_selecting_or_reloading_emits_nothing(qtbot: QtBot, sidebar: SidebarWidget):
    with qtbot.assertNotEmitted(sidebar.conversation_selected):
        sidebar.select_conversation(1)
        sidebar.set_conversations(_summaries(pinned_first=True), now=NOW)
    assert sidebar.current_conversation_id() == 1  # still selected after the reload
    assert _titles(sidebar) == ["Pinned", "Paris trip", "Yesterday", "Sourdough"]


def test_search_is_debounced_and_its_results_replace_the_list(qtbot: QtBot, sidebar: SidebarWidget):
    typed_at = time.monotonic()
    with qtbot.waitSignal(sidebar.search_changed) as searched:
        qtbot.keyClicks(sidebar.search_edit, "dough")
    waited = time.monotonic() - typed_at
    assert searched.args == ["dough"]  # one search for five keystrokes
    assert waited >= SEARCH_DEBOUNCE_MS / 1000 - 0.01  # a timer never fires early
    hit = SearchHit(2, 7, "Sourdough", "a «dough» starter", "a dough starter", ((2, 7),))
    sidebar.set_search_results("dough", [hit])
    assert _titles(sidebar) == ["Sourdough"]
    sidebar.set_search_results("dou", [])  # a late answer to an older query
    assert _titles(sidebar) == ["Sourdough"]
    with qtbot.waitSignal(sidebar.search_hit_selected) as picked:
        sidebar.list_view.setCurrentIndex(sidebar.model.index(0))
    assert picked.args == [2, 7]
    with qtbot.waitSignal(sidebar.search_changed) as cleared:
        sidebar.search_edit.clear()
    assert cleared.args == [""]
    assert _titles(sidebar) == ["Today", "Paris trip", "Yesterday", "Sourdough"]


def test_menu_pins_and_deletes(qtbot: QtBot, sidebar: SidebarWidget):
    menu = sidebar.context_menu(1)
    labels = [a.text() for a in menu.actions() if a.text()]
    assert labels == ["Rename", "Pin", "Delete"]
    with qtbot.waitSignal(sidebar.pin_requested) as pinned:
        next(a for a in menu.actions() if a.text() == "Pin").trigger()
    assert pinned.args == [1, True]
    with qtbot.waitSignal(sidebar.delete_requested) as deleted:
        next(a for a in menu.actions() if a.text() == "Delete").trigger()
    assert deleted.args == [1]
    sidebar.set_conversations(_summaries(pinned_first=True), now=NOW)
    unpin = [a.text() for a in sidebar.context_menu(1).actions() if a.text()]
    assert unpin == ["Rename", "Unpin", "Delete"]


def test_rename_inline_asks_for_the_new_title(qtbot: QtBot, sidebar: SidebarWidget):
    rename = next(a for a in sidebar.context_menu(2).actions() if a.text() == "Rename")
    rename.trigger()
    editor = sidebar.list_view.findChild(QLineEdit)
    assert editor is not None and editor.text() == "Sourdough"
    editor.selectAll()
    qtbot.keyClicks(editor, "Bread")
    with qtbot.waitSignal(sidebar.rename_requested) as renamed:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert renamed.args == [2, "Bread"]
    assert "Bread" in _titles(sidebar)


def test_delete_key_and_new_button(qtbot: QtBot, sidebar: SidebarWidget):
    sidebar.select_conversation(2)
    with qtbot.waitSignal(sidebar.delete_requested) as deleted:
        qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Delete)
    assert deleted.args == [2]
    with qtbot.waitSignal(sidebar.new_requested):
        qtbot.mouseClick(sidebar.new_button, Qt.MouseButton.LeftButton)
