"""A reply's Markdown never makes the transcript open a file: images become placeholders with
their address. Proven under strace: the rendering process never opens the paths named (a
canary file, a FIFO that would hang it, /dev/zero that would exhaust its memory)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.widgets.markdown_view import MarkdownViewWidget
from engine.paths import PROJECT_ROOT

CHILD = r"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.widgets.markdown_view import MarkdownViewWidget
view = MarkdownViewWidget()
view.resize(600, 400)
view.show()
view.set_markdown(sys.argv[1])
for _ in range(20):
    app.processEvents()
view.grab()  # lays out and paints every block
print("rendered", flush=True)
"""


def _markdown(canary: Path, fifo: Path) -> str:
    return (
        f"Here is the file: ![secret](file://{canary})\n\n"
        f'And again ![]({canary} "title") and ![fifo](<{fifo}>)\n\n'
        "![zero](file:///dev/zero) and a reference ![ref][r]\n\n"
        f"[r]: {canary}\n"
    )


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_rendering_images_opens_no_file(tmp_path: Path):
    canary = tmp_path / "canary.png"
    canary.write_bytes(b"\x89PNG not really")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    trace = tmp_path / "trace.txt"
    done = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,openat2",
            "-o",
            str(trace),
            sys.executable,
            "-c",
            CHILD,
            _markdown(canary, fifo),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,  # a read of the FIFO would block here
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "rendered" in done.stdout
    opened = trace.read_text()
    assert "openat(" in opened  # the trace works: Python itself opened its modules
    for path in (str(canary), str(fifo), "/dev/zero"):
        assert path not in opened, f"{path} was opened"


def test_an_image_shows_as_a_placeholder_with_its_address(qtbot: QtBot, tmp_path: Path):
    view = MarkdownViewWidget()
    qtbot.addWidget(view)
    view.set_markdown("Look: ![a cat](file:///home/me/cat.png) and `![code](kept)`")
    text = view.plain_text()
    assert "[image: a cat] file:///home/me/cat.png" in text
    assert "![code](kept)" in text  # code is shown as written
