"""Private documents in the real window, with the real starter model and a real encrypted
store: files attached to a question (Qt's own file dialog, no trace left), the reply's
sources, the passage and its original (opened only after asking), a reopened conversation's
sources, unreadable files, and a library chosen per conversation."""

from __future__ import annotations

import os
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from desktop.dialogs.open_link_dialog import OpenLinkDialog
from desktop.main_window import MainWindow
from desktop.workers.documents import NONE_READ
from engine.docs import add_sources, update_library
from tests._files import write_pdf, write_scanned_pdf
from tests.desktop._documents import dialog_traces, drop
from tests.desktop.window_helpers import REPLY_MS, ask, db, shown


class _ReplyWatcher(QObject):
    """Lives on the GUI thread, so the model thread's news reaches it queued, after the chat
    session has shown it: it notes what the reply then says it is doing."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.told: list[str] = []

    @Slot(int, str)
    def on_activity(self, _request_id: int, _text: str) -> None:
        self.told.append(self._window.transcript.messages()[-1].waiting_label.text())


def _attach_with_dialog(qtbot: QtBot, window: MainWindow, *files: Path) -> None:
    qtbot.mouseClick(window.composer.attach_button, Qt.MouseButton.LeftButton)
    chooser = window.documents.file_dialog
    assert isinstance(chooser, QFileDialog) and chooser.isVisible()
    assert chooser.testOption(QFileDialog.Option.DontUseNativeDialog)  # Qt's own, never GTK's
    chooser.setDirectory(str(files[0].parent))
    chooser.selectFile(" ".join(f'"{f.name}"' for f in files))
    chooser.accept()
    qtbot.waitUntil(lambda: not shiboken6.isValid(chooser))  # deleted on close


def _open(qtbot: QtBot, window: MainWindow, conversation_id: int, messages: int) -> None:
    window.new_conversation()
    window.open_conversation(conversation_id)
    qtbot.waitUntil(lambda: len(window.transcript.messages()) == messages)


def test_an_attached_file_answers_with_its_sources(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, fresh_profile: Path, monkeypatch
):
    lease = write_pdf(
        tmp_path / "lease.pdf",
        ["The lease of the flat starts in April.", "The rent is 900 euros a month."],
    )
    _attach_with_dialog(qtbot, window, lease)
    assert window.composer.chips.names() == ["lease.pdf"]
    assert window.composer.chips.isVisible()
    watcher = _ReplyWatcher(window)
    window.session.worker.activity_changed.connect(watcher.on_activity)
    told = watcher.told
    ask(qtbot, window, "How much is the rent?")
    assert any(t.startswith("Reading lease.pdf — page 1 of 2") for t in told), told
    assert window.composer.chips.names() == []  # the files went with the question
    reply = window.transcript.messages()[1]
    row = reply.sources_row
    assert row is not None and row.isVisible()
    labels, cited = row.labels(), row.cited_numbers()
    assert labels == ["[1] lease.pdf, page 1", "[2] lease.pdf, page 2"]
    (conv,) = db(window).list_conversations()

    # A source shows its passage; its original opens only after asking.
    opened: list[str] = []
    monkeypatch.setattr(
        "desktop.dialogs.passage_dialog.QDesktopServices.openUrl",
        lambda url: opened.append(url.toLocalFile()),
    )
    qtbot.mouseClick(row.buttons()[1], Qt.MouseButton.LeftButton)
    passage = window.documents.passage_dialog
    assert passage is not None and passage.isVisible()
    assert "900 euros" in passage.text_view.toPlainText()
    asked = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, OpenLinkDialog)
        asked["text"] = box.text()
        asked["default"] = box.defaultButton() is box.cancel_button
        box.open_button.click()

    QTimer.singleShot(0, answer)
    passage.open_button.click()
    assert str(lease) in asked["text"] and asked["default"]
    assert opened == [str(lease)]
    passage.close()

    # Reopened, the reply shows the same sources (stored with it).
    _open(qtbot, window, conv.id, 2)
    again = window.transcript.messages()[1].sources_row
    assert again is not None and again.labels() == labels
    assert again.cited_numbers() == cited
    # Neither GTK's recently used list nor Qt's dialog history was written.
    assert not dialog_traces(fresh_profile)


def test_an_unreadable_file_says_why_and_none_readable_sends_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    scan = write_scanned_pdf(tmp_path / "scan.pdf")
    notes = tmp_path / "notes.md"
    notes.write_text("# Boiler\n\nThe boiler is serviced every October.\n", encoding="utf-8")
    drop(window, [scan, notes])  # dropped on the window, not just the message box
    assert window.composer.chips.names() == ["scan.pdf", "notes.md"]
    ask(qtbot, window, "When is the boiler serviced?")
    reply = window.transcript.messages()[1]
    assert "“scan.pdf” has no text layer" in reply.notes_label.text()
    assert reply.notes_label.isVisible()
    assert reply.sources_row is not None and reply.sources_row.labels() == ["[1] notes.md"]

    # Only unreadable files: the question is kept for the person, not sent to the model.
    window.new_conversation()
    window.composer.attach([scan])
    ask(qtbot, window, "What does the scan say?")
    assert shown(window)[0] == ("user", "What does the scan say?")
    failed = window.transcript.messages()[1]
    assert NONE_READ in failed.error_label.text()
    assert "“scan.pdf” has no text layer" in failed.notes_label.text()
    assert window.composer.text() == "What does the scan say?"
    assert window.composer.chips.names() == ["scan.pdf"]
    assert window.session.conversation_id is None
    assert len(db(window).list_conversations()) == 1  # no empty conversation was left


def test_the_library_choice_is_kept_per_conversation(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    (tmp_path / "tax.txt").write_text(
        "The tax return for 2025 is due on 15 April 2026.", encoding="utf-8"
    )
    store = db(window)
    taxes = store.create_library("Taxes")
    add_sources(store, taxes, [tmp_path / "tax.txt"])
    update_library(store, taxes)
    window.documents.refresh_libraries()
    picker = window.library_picker
    qtbot.waitUntil(lambda: picker.combo.findText("Taxes") >= 0)
    assert picker.current_text() == "None"

    # Chosen in a new chat, before its first question: stored when the question makes it.
    index = picker.combo.findText("Taxes")
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    ask(qtbot, window, "When is the tax return due?")
    first = window.session.conversation_id
    assert first is not None
    assert store.conversation_library(first) == taxes
    sources = window.transcript.messages()[1].sources_row
    assert sources is not None and sources.labels() == ["[1] tax.txt"]

    window.new_conversation()
    assert picker.current_text() == "None"
    ask(qtbot, window, "Say hello.")
    second = window.session.conversation_id
    assert second is not None and store.conversation_library(second) is None
    assert window.transcript.messages()[1].sources_row is None  # no documents in play

    _open(qtbot, window, first, 2)
    assert picker.current_text() == "Taxes"
    _open(qtbot, window, second, 2)
    assert picker.current_text() == "None"
    # Chosen for a stored conversation: stored at once.
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    qtbot.waitUntil(lambda: store.conversation_library(second) == taxes, timeout=REPLY_MS)


def test_a_changed_file_is_read_again_before_the_question(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
):
    tax = tmp_path / "tax.txt"
    tax.write_text("The tax return for 2025 is due on 15 April 2026.", encoding="utf-8")
    store = db(window)
    taxes = store.create_library("Taxes")
    add_sources(store, taxes, [tax])
    update_library(store, taxes)
    window.documents.refresh_libraries()
    picker = window.library_picker
    qtbot.waitUntil(lambda: picker.combo.findText("Taxes") >= 0)
    index = picker.combo.findText("Taxes")
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    # The file changes after it was indexed, as a person's files do.
    tax.write_text("The tax return deadline moved to 31 July 2026.", encoding="utf-8")
    stat = tax.stat()
    os.utime(tax, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    ask(qtbot, window, "When is the tax return deadline?")
    conversation = window.session.conversation_id
    assert conversation is not None
    reply = store.active_path(conversation)[-1]
    (sources,) = store.sources_for([reply.id]).values()
    assert "31 July 2026" in sources[0].text  # what the file says now, not when indexed
