"""The app lock: the passcode kept only as a scrypt hash in a 0600 file; locking hides every
conversation and closes the store; only the right passcode brings it back."""

from __future__ import annotations

import stat

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

import desktop.window_lock
from desktop import app_lock
from desktop.main_window import MainWindow
from desktop.settings import AppSettings
from engine.inference import GenerationOptions
from tests.desktop.window_helpers import REPLY_MS, ask, db, shown

SECRET = "pineapple"


def visible_text(window: MainWindow) -> str:
    """Every piece of text a person could see in the window right now."""
    parts = [window.windowTitle()]
    for w in window.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QLabel | QAbstractButton | QLineEdit):
            parts.append(w.text())
        elif isinstance(w, QTextEdit | QPlainTextEdit):
            parts.append(w.toPlainText())
        elif isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            parts += [str(m.index(r, 0).data()) for r in range(m.rowCount())]
    return "\n".join(parts)


def test_passcode_file_holds_only_a_salted_hash(tmp_path):
    path = tmp_path / "cfg" / "app-lock.json"
    app_lock.set_passcode("hunter2", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_text()
    assert "hunter2" not in data and '"kdf": "scrypt"' in data
    assert app_lock.check_passcode("hunter2", path)
    assert not app_lock.check_passcode("hunter3", path)
    first = data
    app_lock.set_passcode("hunter2", path)
    assert path.read_text() != first  # a new salt each time
    assert [p.name for p in path.parent.iterdir()] == ["app-lock.json"]  # no temp file left
    app_lock.clear_passcode(path)
    assert not app_lock.has_passcode(path) and not app_lock.check_passcode("hunter2", path)


def test_lock_hides_conversations_closes_the_store_and_needs_the_passcode(
    qtbot: QtBot, window: MainWindow
):
    app_lock.set_passcode("4321")
    ask(qtbot, window, f"My secret word is {SECRET}. Repeat it.")
    assert SECRET in visible_text(window)
    with qtbot.waitSignal(window.store_locked, timeout=10_000):
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.is_locked() and window.lock_screen.isVisible()
    assert SECRET not in visible_text(window)
    assert not window.sidebar.isVisible() and not window.transcript.isVisible()
    assert window.windowTitle() == "Hearth"
    store = window.owner.store
    assert window.owner.call(lambda: store.locked and store._conn is None and store._key is None)
    # The model's KV cache held the conversation's tokens: wiped too.
    session = window.session.worker._session
    qtbot.waitUntil(lambda: session._cached == [], timeout=10_000)

    window.lock_screen.passcode_edit.setText("0000")
    window.lock_screen.unlock_button.click()
    qtbot.waitUntil(window.lock_screen.problem_label.isVisible, timeout=5000)
    assert "Wrong passcode" in window.lock_screen.problem_label.text()
    assert window.is_locked() and db(window).locked
    assert SECRET not in visible_text(window)

    window.lock_screen.passcode_edit.setText("4321")
    qtbot.keyClick(window.lock_screen.passcode_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_locked() and len(shown(window)) == 2, timeout=10_000)
    assert not db(window).locked
    assert shown(window)[0] == ("user", f"My secret word is {SECRET}. Repeat it.")
    assert window.sidebar.isVisible()


def test_locking_stops_a_reply_before_closing_the_store(qtbot: QtBot, window: MainWindow):
    window.session.options = GenerationOptions(max_tokens=1000)
    qtbot.keyClicks(window.composer.text_edit, "Write a long story about the sea.")
    with qtbot.waitSignal(window.session.turn_finished, timeout=REPLY_MS) as saved:
        qtbot.keyClick(window.composer.text_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: len(shown(window)[1][1]) > 60, timeout=REPLY_MS)
        with qtbot.waitSignal(window.store_locked, timeout=REPLY_MS):
            qtbot.keyClick(
                window.composer.text_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier
            )
            assert window.lock_screen.isVisible()  # hidden at once, closed once stopped
            assert not window.lock_screen.unlock_button.isEnabled()
    assert saved.args[0].status == "interrupted"
    assert db(window).locked
    window.lock_screen.unlock_button.click()  # no passcode set: Unlock just reopens
    qtbot.waitUntil(lambda: not window.is_locked(), timeout=10_000)
    (conv,) = db(window).list_conversations()
    assert db(window).active_path(conv.id)[1].status == "interrupted"


def test_idle_time_locks_and_input_resets_it(qtbot: QtBot, window: MainWindow, monkeypatch):
    monkeypatch.setattr(desktop.window_lock, "IDLE_UNIT_MS", 600)  # "a minute" is 0.6 s here
    window._use_settings(AppSettings(lock_idle_minutes=1))
    target = window.composer.text_edit
    for _ in range(12):  # 1.2 s of someone moving the mouse: no lock
        QApplication.sendEvent(
            target,
            QMouseEvent(
                QEvent.Type.MouseMove,
                QPointF(5, 5),
                QPointF(5, 5),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )
        qtbot.wait(100)
    assert not window.is_locked()
    with qtbot.waitSignal(window.store_locked, timeout=5000):
        pass  # nobody there: it locks by itself
    assert window.is_locked() and db(window).locked
