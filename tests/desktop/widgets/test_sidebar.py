"""The sidebar: picking, searching, renaming, pinning and deleting conversations."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLineEdit, QSplitter, QWidget
from pytestqt.qtbot import QtBot

from desktop import theme
from desktop.models.conversation_list_model import Roles
from desktop.widgets.sidebar import EMPTY_TEXT, SEARCH_DEBOUNCE_MS, SidebarWidget
from engine.storage import ConversationSummary, SearchHit
from tests.desktop.test_accessibility import unnamed_controls

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


LONG_TITLE = ("Planning a two week walking holiday through the hills of northern Portugal " * 4)[
    :200
]


def _search(qtbot: QtBot, sidebar: SidebarWidget, text: str) -> None:
    """Type ``text`` into the search box and wait for the (debounced) search it asks for."""
    with qtbot.waitSignal(sidebar.search_changed):
        qtbot.keyClicks(sidebar.search_edit, text)


def test_a_long_title_is_elided_and_the_list_never_scrolls_sideways(qtbot: QtBot):
    sidebar = SidebarWidget()
    qtbot.addWidget(sidebar)
    sidebar.resize(sidebar.minimumWidth(), 400)  # as narrow as the window lets it be
    sidebar.show()
    sidebar.set_conversations(
        [ConversationSummary(3, LONG_TITLE, NOW, False), *_summaries()], now=NOW
    )
    qtbot.waitExposed(sidebar)
    view = sidebar.list_view
    bar = view.horizontalScrollBar()
    assert not bar.isVisible() and bar.maximum() == 0
    row = view.visualRect(sidebar.model.index_of(3))
    assert row.width() <= view.viewport().width()
    shown = sidebar.title_shown(3)
    assert shown.endswith("…") and LONG_TITLE.startswith(shown[:-1].rstrip())
    assert len(shown) < 60
    assert sidebar.model.data(sidebar.model.index_of(3), Qt.ItemDataRole.ToolTipRole) == LONG_TITLE
    # What is drawn stops short of the edge: elided, not cut off by the border.
    image = view.viewport().grab().toImage()
    background = image.pixelColor(QPoint(row.left() + 2, row.top() + 2))
    inked = [
        x
        for x in range(row.left(), row.right())
        if any(
            _differs(image.pixelColor(QPoint(x, y)), background)
            for y in range(row.top() + 4, row.bottom() - 4)
        )
    ]
    assert inked and max(inked) < row.right() - theme.em(view, 0.3)


def _differs(a: QColor, b: QColor) -> bool:
    return abs(a.lightness() - b.lightness()) > 40


def test_resizing_narrower_keeps_it_elided(qtbot: QtBot, sidebar: SidebarWidget):
    sidebar.set_conversations([ConversationSummary(3, LONG_TITLE, NOW, False)], now=NOW)
    wide = sidebar.title_shown(3)
    sidebar.resize(sidebar.minimumWidth(), 500)
    qtbot.waitUntil(lambda: sidebar.title_shown(3) != wide)
    assert len(sidebar.title_shown(3)) < len(wide)
    assert sidebar.list_view.horizontalScrollBar().maximum() == 0


def _hit(conversation_id: int, message_id: int | None, count: int) -> SearchHit:
    if message_id is None:  # a match in the title
        return SearchHit(
            conversation_id, None, "Starter care", "«Starter» care", "Starter care", ((0, 7),), 0
        )
    return SearchHit(
        conversation_id,
        message_id,
        "Sourdough",
        "feed the «starter» daily",
        "feed the starter daily",
        ((9, 16),),
        count,
    )


def test_a_hit_shows_how_many_messages_match_and_opens_at_its_message(
    qtbot: QtBot, sidebar: SidebarWidget
):
    _search(qtbot, sidebar, "starter")
    sidebar.set_search_results("starter", [_hit(2, 9, 3), _hit(1, None, 0)])
    model = sidebar.model
    assert model.rowCount() == 2
    first = model.index(0)
    assert "3 matches" in first.data(Qt.ItemDataRole.AccessibleTextRole)
    assert model.index(1).data(Qt.ItemDataRole.AccessibleTextRole) == (
        "Starter care, the title matches"
    )
    view = sidebar.list_view
    single = view.visualRect(model.index(1)).height()
    assert view.visualRect(first).height() > single  # snippet and count lines
    with qtbot.waitSignal(sidebar.search_hit_selected) as picked:
        qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(first).center()
        )
    assert picked.args == [2, 9]
    with qtbot.waitSignal(sidebar.search_hit_selected) as picked:
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert picked.args == [1, -1]  # a title match: no message to scroll to


@pytest.fixture
def in_window(qtbot: QtBot) -> tuple[QWidget, SidebarWidget, list[str]]:
    """The sidebar in a window with an Esc shortcut of its own, as the main window has
    (Esc stops a reply)."""
    window = QWidget()
    qtbot.addWidget(window)
    sidebar = SidebarWidget()
    other = QLineEdit()
    other.setAccessibleName("Composer")
    layout = QHBoxLayout(window)
    layout.addWidget(sidebar)
    layout.addWidget(other)
    stopped: list[str] = []
    QShortcut(QKeySequence("Esc"), window, lambda: stopped.append("stop"))
    window.resize(600, 400)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    sidebar.set_conversations(_summaries(), now=NOW)
    return window, sidebar, stopped


def test_esc_in_the_search_box_clears_the_search_and_gives_the_focus_back(qtbot: QtBot, in_window):
    _window, sidebar, stopped = in_window
    sidebar.search_edit.setFocus()
    _search(qtbot, sidebar, "dough")
    sidebar.set_search_results("dough", [_hit(2, 7, 1)])
    assert sidebar.model.is_searching()
    with (
        qtbot.waitSignal(sidebar.search_dismissed),
        qtbot.waitSignal(sidebar.search_changed) as cleared,
    ):
        qtbot.keyClick(sidebar.search_edit, Qt.Key.Key_Escape)
    assert cleared.args == [""]
    assert sidebar.search_edit.text() == ""
    assert _titles(sidebar) == ["Today", "Paris trip", "Yesterday", "Sourdough"]
    assert stopped == []  # the window's Esc did not take it
    # Outside the search, Esc is the window's again.
    sidebar.list_view.setFocus()
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Escape)
    assert stopped == ["stop"]


def test_esc_in_the_results_clears_the_search_too(qtbot: QtBot, in_window):
    _window, sidebar, stopped = in_window
    sidebar.search_edit.setFocus()
    _search(qtbot, sidebar, "dough")
    sidebar.set_search_results("dough", [_hit(2, 7, 1)])
    with qtbot.waitSignal(sidebar.search_hit_selected):
        qtbot.keyClick(sidebar.search_edit, Qt.Key.Key_Down)  # into the results
    assert sidebar.list_view.hasFocus()
    with qtbot.waitSignal(sidebar.search_dismissed):
        qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Escape)
    assert not sidebar.model.is_searching() and stopped == []


def test_the_keyboard_moves_between_the_search_box_and_the_list(qtbot: QtBot, in_window):
    _window, sidebar, _stopped = in_window
    sidebar.search_edit.setFocus()
    with qtbot.waitSignal(sidebar.conversation_selected) as selected:
        qtbot.keyClick(sidebar.search_edit, Qt.Key.Key_Down)
    assert selected.args == [1]  # the first conversation, under its header
    assert sidebar.list_view.hasFocus()
    with qtbot.waitSignal(sidebar.conversation_selected) as selected:
        qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Down)  # over the "Yesterday" header
    assert selected.args == [2]
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Home)  # onto the first conversation
    assert sidebar.current_conversation_id() == 1
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_End)
    assert sidebar.current_conversation_id() == 2
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Up)
    assert sidebar.current_conversation_id() == 1
    qtbot.keyClick(sidebar.list_view, Qt.Key.Key_Up)  # above the first: back to the search
    assert sidebar.search_edit.hasFocus()


def test_empty_states_say_what_is_going_on(qtbot: QtBot):
    sidebar = SidebarWidget()
    qtbot.addWidget(sidebar)
    sidebar.resize(300, 400)
    sidebar.show()
    assert not sidebar.empty_label.isVisible()  # nothing said before the list arrives
    sidebar.set_conversations([], now=NOW)
    assert sidebar.empty_label.isVisible() and not sidebar.list_view.isVisible()
    assert sidebar.empty_label.text() == EMPTY_TEXT
    assert "encrypted" in EMPTY_TEXT
    sidebar.set_conversations(_summaries(), now=NOW)
    assert sidebar.list_view.isVisible() and not sidebar.empty_label.isVisible()
    _search(qtbot, sidebar, "zebras")
    sidebar.set_search_results("zebras", [])
    assert sidebar.empty_label.isVisible()
    assert sidebar.empty_label.text() == "No conversation mentions “zebras”."
    sidebar.search_edit.clear()
    assert sidebar.list_view.isVisible() and not sidebar.empty_label.isVisible()
    width = sidebar.width()
    _search(qtbot, sidebar, "x" * 300)  # a long query never widens the sidebar
    sidebar.set_search_results("x" * 300, [])
    assert sidebar.empty_label.text().endswith("…”.")
    assert sidebar.width() == width and sidebar.sizeHint().width() < 400


@pytest.fixture
def split(qtbot: QtBot) -> tuple[QSplitter, SidebarWidget, QWidget]:
    """The sidebar beside the chat in a splitter, as in the window."""
    splitter = QSplitter()
    qtbot.addWidget(splitter)
    sidebar = SidebarWidget()
    chat = QWidget()
    chat.setMinimumWidth(300)
    splitter.addWidget(sidebar)
    splitter.addWidget(chat)
    splitter.setSizes([260, 640])
    splitter.resize(900, 500)
    splitter.show()
    qtbot.waitExposed(splitter)
    return splitter, sidebar, chat


def test_the_window_collapses_and_opens_the_sidebar(qtbot: QtBot, split):
    _splitter, sidebar, chat = split
    narrower = chat.width()
    with qtbot.assertNotEmitted(sidebar.collapse_toggled):
        sidebar.set_collapsed(True)  # a narrow window, or the toolbar's toggle
    assert sidebar.is_collapsed() and not sidebar.isVisible()
    qtbot.waitUntil(lambda: chat.width() > narrower)  # the chat takes the room
    with qtbot.assertNotEmitted(sidebar.collapse_toggled):
        sidebar.set_collapsed(False)
    assert not sidebar.is_collapsed() and sidebar.isVisible()
    qtbot.waitUntil(lambda: chat.width() == narrower)  # at the width it had


def _drag_handle(qtbot: QtBot, splitter: QSplitter, to_x: int) -> None:
    """Press on the splitter's handle, move to ``to_x`` (in the splitter) and let go."""
    handle = splitter.handle(1)
    start = handle.rect().center()
    end = QPointF(to_x - handle.x(), start.y())
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    # QTest's mouseMove carries no button, and a handle only follows a move with the left
    # button down: the move is sent as the windowing system would.
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        end,
        handle.mapToGlobal(end),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(handle, move)
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=end.toPoint())


def test_dragging_the_sidebar_shut_and_open_again_says_so(qtbot: QtBot, split):
    splitter, sidebar, _chat = split
    with qtbot.waitSignal(sidebar.collapse_toggled) as toggled:
        _drag_handle(qtbot, splitter, 5)  # below its minimum width: the splitter shuts it
    assert toggled.args == [True]
    assert sidebar.is_collapsed() and splitter.sizes()[0] == 0
    with qtbot.waitSignal(sidebar.collapse_toggled) as toggled:
        _drag_handle(qtbot, splitter, 280)
    assert toggled.args == [False]
    assert not sidebar.is_collapsed() and splitter.sizes()[0] > 0


def test_shut_by_a_drag_the_window_can_open_it_again(qtbot: QtBot, split):
    splitter, sidebar, _chat = split
    with qtbot.waitSignal(sidebar.collapse_toggled):
        _drag_handle(qtbot, splitter, 5)
    sidebar.set_collapsed(True)  # the window's toggle follows: hidden
    sidebar.set_collapsed(False)  # and the person shows it from the toolbar
    qtbot.waitUntil(lambda: splitter.sizes()[0] == 259)  # as wide as before the drag
    assert sidebar.isVisible() and not sidebar.is_collapsed()


def test_every_control_has_an_accessible_name(qtbot: QtBot, sidebar: SidebarWidget):
    assert sidebar.objectName() == "sidebar"
    assert unnamed_controls(sidebar) == []
    _search(qtbot, sidebar, "x")  # the search box's clear button shows
    sidebar.set_search_results("x", [_hit(2, 7, 3)])
    assert sidebar.model.index(0).data(Roles.MATCH_COUNT) == 3
    assert unnamed_controls(sidebar) == []
