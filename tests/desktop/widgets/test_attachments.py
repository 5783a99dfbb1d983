"""Attaching files in the composer: chips above the text box that can be taken off again,
files dropped on the box attach (a folder is refused with a reason), and the files leave
with the question."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.widgets.composer import FOLDER_REFUSED, ComposerWidget
from desktop.widgets.library_picker import MANAGE_TEXT, LibraryPickerWidget
from tests.desktop._documents import drop


@pytest.fixture
def composer(qtbot: QtBot) -> ComposerWidget:
    w = ComposerWidget()
    qtbot.addWidget(w)
    w.show()
    return w


def test_chips_show_attached_files_and_can_be_removed(
    qtbot: QtBot, composer: ComposerWidget, tmp_path: Path
):
    assert composer.attach_button.isEnabled()
    assert not composer.chips.isVisible()
    lease, notes = tmp_path / "lease.pdf", tmp_path / "notes.md"
    for f in (lease, notes):
        f.write_bytes(b"x")
    composer.attach([lease, notes, lease])
    assert composer.chips.names() == ["lease.pdf", "notes.md"]  # each file once
    assert composer.chips.isVisible()
    chip = composer.chips.chip(lease)
    assert chip is not None and chip.name_label.toolTip() == str(lease)
    assert chip.remove_button.accessibleName() == "Remove lease.pdf"
    qtbot.mouseClick(chip.remove_button, Qt.MouseButton.LeftButton)
    assert composer.chips.names() == ["notes.md"]
    qtbot.keyClicks(composer.text_edit, "What is in my notes?")
    with qtbot.waitSignal(composer.send_requested) as sent:
        qtbot.keyClick(composer.text_edit, Qt.Key.Key_Return)
    assert sent.args == ["What is in my notes?", (notes,)]
    assert composer.chips.names() == [] and not composer.chips.isVisible()


def test_dropped_files_attach_and_a_folder_is_refused(
    qtbot: QtBot, composer: ComposerWidget, tmp_path: Path
):
    tax = tmp_path / "tax.txt"
    tax.write_text("due in April", encoding="utf-8")
    drop(composer.text_edit.viewport(), [tax])  # on the text box: attached, not pasted as a path
    assert composer.chips.names() == ["tax.txt"]
    assert composer.text() == ""
    with qtbot.waitSignal(composer.attach_refused) as refused:
        drop(composer, [tmp_path])
    assert refused.args == [FOLDER_REFUSED]
    assert composer.chips.names() == ["tax.txt"]


def test_the_library_picker_lists_libraries_and_keeps_its_choice(qtbot: QtBot):
    picker = LibraryPickerWidget()
    qtbot.addWidget(picker)
    picker.set_current(2)  # chosen before the list is read: shown once it is
    assert picker.current_text() == "None"
    picker.set_libraries([(1, "Home"), (2, "Taxes")])
    assert picker.current_text() == "Taxes" and picker.current() == 2
    items = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    assert items == ["None", "Home", "Taxes", "", MANAGE_TEXT]
    with qtbot.waitSignal(picker.manage_requested):
        picker.combo.activated.emit(items.index(MANAGE_TEXT))
    assert picker.current_text() == "Taxes"  # managing chose nothing
    with qtbot.waitSignal(picker.library_chosen) as chosen:
        picker.combo.activated.emit(0)
    assert chosen.args == [None]
    picker.set_libraries([(1, "Home")])
    assert picker.current_text() == "None"
