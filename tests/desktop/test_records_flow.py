"""Settings → History in the real window, driven as a person does: Back Up (a file, a
passphrase typed twice), Restore (a backup, its passphrase, what it adds, then Add) and Export
(a folder, the word that the files are not encrypted, then the files). Real encrypted stores,
Qt's own file dialogs answered as a person would."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.dialogs.history_page import HistoryPage
from desktop.main_window import MainWindow
from engine import paths
from engine.storage import ConversationStore, StoreOwner, open_memory_store, open_store
from tests.desktop.window_helpers import LOAD_MS, _window, db, listed
from tests.engine.test_disk_full import _run, fill

PASSPHRASE = "correct horse battery"


def _conversation(store: ConversationStore, title: str, question: str, answer: str) -> int:
    conv = store.create_conversation(title)
    asked = store.add_message(conv.id, None, "user", question)
    reply = store.begin_reply(conv.id, asked.id, "smollm2")
    store.finish_reply(reply.id, answer, "", "done")
    return conv.id


@pytest.fixture
def two(window: MainWindow) -> MainWindow:
    """The window with two conversations in its history."""
    store = db(window)
    _conversation(store, "Trip to Lisbon", "Where to eat in Lisbon?", "Try the Alfama.")
    _conversation(store, "Bread", "How long to proof a loaf?", "About two hours.")
    window.conversations.refresh()
    return window


def _history(qtbot: QtBot, window: MainWindow) -> HistoryPage:
    """Settings → History, as a person opens it (closing Settings first if it is open)."""
    if window.settings_dialog is not None and shiboken6.isValid(window.settings_dialog):
        old = window.settings_dialog
        old.reject()
        qtbot.waitUntil(lambda: not shiboken6.isValid(old))
    window.settings_button.click()

    def shown() -> bool:
        dialog = window.settings_dialog  # the one before may be deleted
        return dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible()

    qtbot.waitUntil(shown)
    dialog = window.settings_dialog
    assert dialog is not None
    dialog.tabs.setCurrentWidget(dialog.history_page)
    return dialog.history_page


def _choose(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    chooser = window.settings_flow.records.file_dialog
    assert isinstance(chooser, QFileDialog) and chooser.isVisible()
    assert chooser.testOption(QFileDialog.Option.DontUseNativeDialog)  # Qt's own, never GTK's
    chooser.setDirectory(str(path.parent))
    chooser.selectFile(str(path))
    chooser.accept()
    qtbot.waitUntil(lambda: not shiboken6.isValid(chooser))  # deleted on close


def _type_passphrase(qtbot: QtBot, window: MainWindow, *typed: str) -> None:
    dialog = window.settings_flow.records.passphrase_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    for edit, text in zip((dialog.first_edit, dialog.second_edit), typed, strict=False):
        qtbot.keyClicks(edit, text)
    assert dialog.ok_button.isEnabled(), dialog.problem_label.text()
    dialog.ok_button.click()


def _back_up(qtbot: QtBot, window: MainWindow, target: Path) -> HistoryPage:
    page = _history(qtbot, window)
    page.backup_button.click()
    _choose(qtbot, window, target)
    _type_passphrase(qtbot, window, PASSPHRASE, PASSPHRASE)
    qtbot.waitUntil(lambda: not page.busy, timeout=20_000)
    return page


def _restore(qtbot: QtBot, window: MainWindow, source: Path, passphrase: str) -> HistoryPage:
    page = _history(qtbot, window)
    page.restore_button.click()
    _choose(qtbot, window, source)
    _type_passphrase(qtbot, window, passphrase)
    qtbot.waitUntil(lambda: not page.busy, timeout=20_000)
    return page


def _question(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: _visible(window.settings_flow.records.question_box))
    box = window.settings_flow.records.question_box
    assert box is not None
    return box


def _visible(box: QMessageBox | None) -> bool:
    return box is not None and shiboken6.isValid(box) and box.isVisible()


def _button(box: QMessageBox, text: str) -> QAbstractButton:
    (button,) = [b for b in box.buttons() if b.text().startswith(text)]
    return button


def _error(qtbot: QtBot, window: MainWindow) -> str:
    """The text of the error dialog on screen, which is then closed."""
    dialog = window.settings_dialog
    assert dialog is not None

    def shown() -> list[QMessageBox]:
        return [b for b in dialog.findChildren(QMessageBox, "error_dialog") if b.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1)
    (box,) = shown()
    text = f"{box.text()} {box.informativeText()}"
    box.accept()
    return text


@pytest.fixture
def fresh_window(qtbot: QtBot, starter_model_path: Path, keychain, tmp_path: Path):
    """A second window over a new, empty history (another file, as on a new computer)."""
    stores: list[tuple[MainWindow, StoreOwner, ConversationStore]] = []

    def make() -> MainWindow:
        store = open_store(tmp_path / "new-computer" / "hearth.db")
        owner = StoreOwner(store)
        w = _window(qtbot, owner)
        qtbot.waitUntil(lambda: w.session.ready, timeout=LOAD_MS)
        stores.append((w, owner, store))
        return w

    yield make
    for w, owner, store in stores:
        w.close()
        owner.close()
        store.close()


def test_a_backup_restored_into_a_new_history_adds_its_conversations(
    qtbot: QtBot, two: MainWindow, fresh_window, tmp_path: Path
):
    target = tmp_path / "backups" / "hearth-backup.db"
    target.parent.mkdir()
    page = _back_up(qtbot, two, target)
    assert "Backed up 2 conversations" in page.status_label.text()
    assert "without it the backup cannot be opened" in page.status_label.text()
    data = target.read_bytes()
    assert b"Lisbon" not in data and b"Alfama" not in data  # encrypted
    two.settings_dialog.reject()
    two.close()

    new = fresh_window()
    assert listed(new) == []
    page = _restore(qtbot, new, target, PASSPHRASE)
    box = _question(qtbot, new)
    assert "Add 2 conversations from hearth-backup.db?" in box.text()
    assert "Trip to Lisbon" in box.text() and "Bread" in box.text()
    assert "Nothing in your history is replaced" in box.informativeText()
    assert listed(new) == []  # nothing is added before the person says yes
    _button(box, "Add 2").click()
    qtbot.waitUntil(lambda: "Added 2 conversations" in page.status_label.text(), timeout=20_000)
    qtbot.waitUntil(lambda: len(listed(new)) == 2)  # the sidebar was read again
    store = db(new)
    (lisbon,) = [c for c in store.list_conversations() if c.title == "Trip to Lisbon"]
    assert [m.content for m in store.active_path(lisbon.id)] == [
        "Where to eat in Lisbon?",
        "Try the Alfama.",
    ]
    assert target.read_bytes() == data  # the backup itself is left exactly as it was


def test_a_backup_whose_conversations_are_all_here_adds_nothing_and_says_so(
    qtbot: QtBot, two: MainWindow, tmp_path: Path
):
    backup = tmp_path / "hearth-backup.db"
    db(two).backup(backup, PASSPHRASE)
    page = _restore(qtbot, two, backup, PASSPHRASE)
    assert page.status_label.text() == (
        "The backup holds 2 conversations, all already here: nothing was added."
    )
    assert not _visible(two.settings_flow.records.question_box)  # nothing to ask
    assert len(db(two).list_conversations()) == 2


def test_a_wrong_passphrase_or_a_file_that_is_no_backup_changes_nothing(
    qtbot: QtBot, two: MainWindow, tmp_path: Path
):
    backup = tmp_path / "hearth-backup.db"
    db(two).backup(backup, PASSPHRASE)
    for title in ("Trip to Lisbon", "Bread"):  # so that the backup would add both
        (conv,) = [c for c in db(two).list_conversations() if c.title == title]
        db(two).delete_conversation(conv.id)
    before = backup.read_bytes()

    page = _restore(qtbot, two, backup, "not the passphrase")
    assert "The passphrase does not open this backup" in _error(qtbot, two)
    assert not _visible(two.settings_flow.records.question_box)
    assert db(two).list_conversations() == [] and backup.read_bytes() == before
    assert page.restore_button.isEnabled()  # free to try again

    notes = tmp_path / "notes.txt"
    notes.write_text("Just some notes.\n")
    _restore(qtbot, two, notes, PASSPHRASE)
    assert "notes.txt is not a database file" in _error(qtbot, two)
    assert db(two).list_conversations() == []
    assert notes.read_text() == "Just some notes.\n"
    assert not list(paths.data_dir().glob(".restore-*"))  # no private copy left behind


def test_export_writes_readable_files_for_all_or_the_open_conversation(
    qtbot: QtBot, two: MainWindow, tmp_path: Path
):
    out = tmp_path / "exported"
    out.mkdir()
    page = _history(qtbot, two)
    page.export_button.click()  # all conversations, Markdown
    _choose(qtbot, two, out)
    box = _question(qtbot, two)
    assert "NOT encrypted" in box.informativeText()
    assert list(out.iterdir()) == []  # nothing is written before the person agrees
    _button(box, "Export").click()
    qtbot.waitUntil(lambda: "Wrote 2 files" in page.status_label.text(), timeout=20_000)
    assert "not encrypted" in page.status_label.text()
    texts = sorted(f.read_text() for f in out.glob("*.md"))
    assert texts[0].startswith("# Bread") and "About two hours." in texts[0]
    assert texts[1].startswith("# Trip to Lisbon") and "Try the Alfama." in texts[1]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in out.iterdir())
    two.settings_dialog.reject()

    (bread,) = [c for c in db(two).list_conversations() if c.title == "Bread"]
    two.open_conversation(bread.id)
    qtbot.waitUntil(lambda: len(two.transcript.messages()) == 2)
    one = tmp_path / "one"
    one.mkdir()
    page = _history(qtbot, two)
    page.scope_combo.setCurrentIndex(page.scope_combo.findData(True))  # This conversation
    page.format_combo.setCurrentIndex(page.format_combo.findData("json"))
    page.export_button.click()
    _choose(qtbot, two, one)
    box = _question(qtbot, two)
    assert "this conversation" in box.text()
    _button(box, "Export").click()
    qtbot.waitUntil(lambda: "Wrote 1 file " in page.status_label.text(), timeout=20_000)
    (exported,) = one.iterdir()
    document = json.loads(exported.read_text())
    assert document["conversation"]["title"] == "Bread"
    assert [m["content"] for m in document["messages"]] == [
        "How long to proof a loaf?",
        "About two hours.",
    ]


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real small tmpfs, filled up (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = _run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount))
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        fill(mount)
        yield mount
    finally:
        _run("umount", "-l", str(mount))


def test_a_backup_or_export_onto_a_full_disk_says_so_and_leaves_nothing(
    qtbot: QtBot, two: MainWindow, full_disk: Path
):
    there = sorted(full_disk.iterdir())
    page = _back_up(qtbot, two, full_disk / "hearth-backup.db")
    assert "The backup could not be written: the disk is full." in _error(qtbot, two)
    assert sorted(full_disk.iterdir()) == there  # no partial backup
    assert page.status_label.text() == "" and page.backup_button.isEnabled()

    page.export_button.click()
    _choose(qtbot, two, full_disk)
    _button(_question(qtbot, two), "Export").click()
    assert "The conversations could not be written: the disk is full." in _error(qtbot, two)
    assert sorted(full_disk.iterdir()) == there
    assert len(db(two).list_conversations()) == 2


def test_a_history_kept_in_memory_says_why_it_cannot_be_backed_up(
    qtbot: QtBot, starter_model_path: Path
):
    store = open_memory_store()
    owner = StoreOwner(store)
    window = _window(qtbot, owner)
    try:
        qtbot.waitUntil(lambda: window.session.ready, timeout=LOAD_MS)
        page = _history(qtbot, window)
        assert not page.backup_button.isEnabled() and not page.restore_button.isEnabled()
        assert page.not_saved_label.isVisible()
        assert "kept in memory only" in page.not_saved_label.text()
        assert page.export_button.isEnabled()  # what is on screen can still be written out
    finally:
        window.close()
        owner.close()
        store.close()


def test_locking_closes_the_history_dialogs(qtbot: QtBot, two: MainWindow, tmp_path: Path):
    backup = tmp_path / "hearth-backup.db"
    db(two).backup(backup, PASSPHRASE)
    page = _history(qtbot, two)
    page.restore_button.click()
    _choose(qtbot, two, backup)
    asking = two.settings_flow.records.passphrase_dialog
    assert asking is not None and asking.isVisible()
    two.lock()
    qtbot.waitUntil(lambda: not shiboken6.isValid(asking) or not asking.isVisible())
