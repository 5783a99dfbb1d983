"""The disk fills up while a reply streams in the real window (a real 8 MB tmpfs): the reply
stays on screen in full, says it was not saved, and Save Again stores it once space is back;
Copy puts it on the clipboard meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop.main_window import MainWindow
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
    reply = None

    def streaming() -> bool:
        nonlocal reply
        widgets = window.transcript._messages
        reply = widgets[-1] if len(widgets) == 2 else None
        return reply is not None and bool(reply.text())

    qtbot.waitUntil(streaming, timeout=REPLY_MS)
    filler = fill(disk)  # the disk fills up while the reply streams
    qtbot.waitUntil(lambda: not window.session.busy, timeout=REPLY_MS)
    assert reply is not None
    shown = reply.text()
    assert len(shown) > 20
    assert "disk is full" in reply.error_label.text()
    assert reply.save_again_button.isVisible() and reply.copy_unsaved_button.isVisible()

    reply.copy_unsaved_button.click()
    assert QGuiApplication.clipboard().text() == shown

    reply.save_again_button.click()  # still full
    qtbot.waitUntil(lambda: "Still not saved" in reply.error_label.text(), timeout=10_000)
    assert reply.save_again_button.isEnabled()

    filler.unlink()
    reply.save_again_button.click()
    qtbot.waitUntil(lambda: not reply.error_label.isVisible(), timeout=10_000)
    assert not reply.save_again_button.isVisible()
    store = window.owner.store
    (conversation,) = window.owner.call(store.list_conversations)
    path = window.owner.call(lambda: store.active_path(conversation.id))
    assert [m.content for m in path] == [QUESTION, shown]
    assert path[1].status in ("done", "interrupted")
