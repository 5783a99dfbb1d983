"""The disk fills up while a reply streams in the real window (a real 8 MB tmpfs): the reply
stays on screen in full, says it was not saved, also when its conversation is opened again,
and Save Again (or the next question) stores it once space is back; Copy puts it on the
clipboard meanwhile. A question the full disk cannot hold goes back to the composer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
from desktop.widgets.message_widget import MessageWidget
from engine.inference import GenerationOptions
from engine.storage import StoreOwner, open_store
from tests.desktop.window_helpers import LOAD_MS, REPLY_MS, _window
from tests.engine.test_disk_full import DISK_BYTES, _run, fill

QUESTION = "Write a long story about the sea."


@pytest.fixture
def full_disk_window(
    qtbot: QtBot, starter_model_path: Path, keychain, tmp_path: Path
) -> Iterator[tuple[MainWindow, Path]]:
    mount = tmp_path / "disk"
    mount.mkdir()
    made = _run("mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(mount))
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    store = open_store(mount / "hearth.db")
    owner = StoreOwner(store)
    window = _window(qtbot, owner)
    window.session.options = GenerationOptions(max_tokens=200, temperature=0.0)
    qtbot.waitUntil(lambda: window.session.ready, timeout=LOAD_MS)
    try:
        yield window, mount
    finally:
        window.close()
        owner.close()
        store.close()
        _run("umount", "-l", str(mount))


def test_a_reply_the_full_disk_cannot_hold_stays_and_is_saved_again(
    qtbot: QtBot, full_disk_window: tuple[MainWindow, Path]
):
    window, disk = full_disk_window
    qtbot.keyClicks(window.composer.text_edit, QUESTION)
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    reply = _streaming_reply(qtbot, window, 2)
    filler = fill(disk)  # the disk fills up while the reply streams
    qtbot.waitUntil(lambda: not window.session.busy, timeout=REPLY_MS)
    shown = reply.text()
    assert len(shown) > 20
    assert "disk is full" in reply.error_label.text()
    assert reply.save_again_button.isVisible() and reply.copy_unsaved_button.isVisible()

    reply.copy_unsaved_button.click()
    assert QGuiApplication.clipboard().text() == shown

    reply.save_again_button.click()  # still full
    qtbot.waitUntil(lambda: "Still not saved" in reply.error_label.text(), timeout=10_000)
    assert reply.save_again_button.isEnabled()

    # Opened again, the conversation shows the whole reply (its stored row holds less), and
    # still offers to save it.
    conversation_id = window.session.conversation_id
    assert conversation_id is not None
    window.session.new_conversation()
    window.session.open_conversation(conversation_id)
    qtbot.waitUntil(lambda: len(window.transcript.messages()) == 2, timeout=10_000)
    reply = window.transcript.messages()[-1]
    assert reply.text() == shown
    assert reply.save_again_button.isVisible() and "Still not saved" in reply.error_label.text()

    filler.unlink()
    reply.save_again_button.click()
    qtbot.waitUntil(lambda: not reply.error_label.isVisible(), timeout=10_000)
    assert not reply.save_again_button.isVisible()
    store = window.owner.store
    (conversation,) = window.owner.call(store.list_conversations)
    path = window.owner.call(lambda: store.active_path(conversation.id))
    assert [m.content for m in path] == [QUESTION, shown]
    assert path[1].status in ("done", "interrupted")


def test_a_question_the_full_disk_cannot_hold_goes_back_and_the_next_one_saves_the_reply(
    qtbot: QtBot, full_disk_window: tuple[MainWindow, Path]
):
    window, disk = full_disk_window
    filler = fill(disk)
    qtbot.keyClicks(window.composer.text_edit, QUESTION)
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS) as ended:
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    assert ended.args[0].unsent
    qtbot.waitUntil(lambda: window.composer.text() == QUESTION, timeout=10_000)
    told = window.transcript.messages()[-1].error_label.text()
    assert "Your question was not sent" in told and "disk is full" in told
    store = window.owner.store
    stored = window.owner.call(
        lambda: [m for c in store.list_conversations() for m in store.all_messages(c.id)]
    )
    assert stored == []

    # Space is back: the question is sent from the composer; the disk fills mid-reply.
    filler.unlink()
    qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    reply = _streaming_reply(qtbot, window, 4)
    filler = fill(disk)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=REPLY_MS)
    shown = reply.text()
    assert reply.save_again_button.isVisible()

    # Space is back again, and the person asks on without Save Again: the reply is stored
    # first, its notice goes, and the next question follows the whole reply.
    filler.unlink()
    qtbot.keyClicks(window.composer.text_edit, "And a short one?")
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS):
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not reply.error_label.isVisible(), timeout=10_000)
    assert not reply.save_again_button.isVisible()
    (conversation,) = window.owner.call(store.list_conversations)
    path = window.owner.call(lambda: store.active_path(conversation.id))
    assert [m.content for m in path[:3]] == [QUESTION, shown, "And a short one?"]
    assert path[1].status == "done" and path[3].status == "done"


def _streaming_reply(qtbot: QtBot, window: MainWindow, count: int) -> MessageWidget:
    """The transcript's last reply once it has text, with ``count`` messages shown."""
    found: MessageWidget | None = None

    def streaming() -> bool:
        nonlocal found
        widgets = window.transcript.messages()
        found = widgets[-1] if len(widgets) == count else None
        return found is not None and bool(found.text())

    qtbot.waitUntil(streaming, timeout=REPLY_MS)
    assert found is not None
    return found
