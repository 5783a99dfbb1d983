"""A reply's sources: one button per passage, labelled as a person reads it, the ones the
answer cites emphasised once the answer is complete, and a click that names its source."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.widgets.message_widget import MessageWidget
from engine.storage.types import Source

SOURCES = [
    Source(1, 7, "/home/ann/lease.pdf", 3, "The rent is 900 euros a month."),
    Source(2, 8, "/home/ann/notes.md", 0, "The boiler is serviced in October."),
]


def test_sources_show_under_a_reply_and_the_cited_ones_stand_out(qtbot: QtBot):
    reply = MessageWidget("assistant", status="streaming")
    qtbot.addWidget(reply)
    reply.show()
    reply.set_sources(SOURCES)
    row = reply.sources_row
    assert row is not None and row.isVisible()
    assert row.labels() == ["[1] lease.pdf, page 3", "[2] notes.md"]
    assert row.cited_numbers() == []  # nothing is cited before the answer is complete
    reply.append_answer("The boiler is serviced in October [2] (in 2024 [2024]).")
    reply.finish("done")
    assert row.cited_numbers() == [2]
    first, second = row.buttons()
    assert second.font().bold() and not first.font().bold()
    assert second.accessibleName() == "Source 2: notes.md, cited"
    assert "900 euros" in first.toolTip()
    with qtbot.waitSignal(reply.source_activated) as clicked:
        qtbot.mouseClick(first, Qt.MouseButton.LeftButton)
    assert clicked.args == [SOURCES[0]]


def test_a_reply_without_sources_has_no_row(qtbot: QtBot):
    reply = MessageWidget("assistant", "Hello.")
    qtbot.addWidget(reply)
    assert reply.sources_row is None
