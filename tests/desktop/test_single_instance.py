"""A second launch focuses the running Hearth instead of opening another window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.single_instance import SingleInstance
from engine import paths


def test_the_second_instance_asks_the_first_to_come_forward(qtbot: QtBot, tmp_path: Path):
    first = SingleInstance(tmp_path / "run")
    second = SingleInstance(tmp_path / "run")
    try:
        assert first.primary
        assert not second.primary
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            second.notify_primary()
        assert not (tmp_path / "run" / "hearth.activate").exists()  # consumed
    finally:
        second.release()
        first.release()
    again = SingleInstance(tmp_path / "run")  # the lock is free once released
    try:
        assert again.primary
    finally:
        again.release()


def test_a_second_hearth_process_exits_and_focuses_the_first(qtbot: QtBot):
    """The real launcher as a child process, while this process holds the instance lock."""
    first = SingleInstance(paths.data_dir() / "run")
    try:
        assert first.primary
        with qtbot.waitSignal(first.activation_requested, timeout=60_000):
            done = subprocess.run(
                [str(Path(sys.executable).parent / "hearth")],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                check=False,
            )
        assert done.returncode == 0, done.stderr
        assert "already running" in done.stderr
        assert not (paths.data_dir() / "hearth.db").exists()  # it never opened the store
    finally:
        first.release()
