"""Running ``hearth`` as a child process, with this checkout's code: through a pipe, or on a
pseudo-terminal (``Terminal``) where keys are typed as a person would."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from engine.paths import PROJECT_ROOT

# `python -m desktop.launch` from the checkout runs the `hearth` entry point with this tree's
# code (an installed `hearth` script may belong to another checkout's editable install).
HEARTH = [sys.executable, "-m", "desktop.launch"]


def hearth(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HEARTH, *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env={**os.environ, **(env or {})},
        cwd=PROJECT_ROOT,
        check=False,
    )


def files_containing(text: str, *folders: Path) -> list[Path]:
    """Every file under ``folders`` whose bytes contain ``text`` (UTF-8) in plaintext."""
    needle = text.encode()
    return [
        p
        for folder in folders
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and needle in p.read_bytes()
    ]


# What prompt-toolkit asks a terminal: where is the cursor?
_CURSOR_QUERY = b"\x1b[6n"
# What it sends when a prompt starts (bracketed paste on) and when it is done (off).
PROMPT_STARTED, PROMPT_DONE = b"\x1b[?2004h", b"\x1b[?2004l"
UP, ENTER, ALT_ENTER, CTRL_C, CTRL_D = b"\x1b[A", b"\r", b"\x1b\r", b"\x03", b"\x04"


def _take_terminal() -> None:
    """In the child, after setsid: the pseudo-terminal becomes its controlling terminal, so
    Ctrl+C typed there is a SIGINT, as in a real terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """``hearth ARGS`` on a pseudo-terminal (24 x 100): ``type`` keys, ``wait_for`` output.
    Answers prompt-toolkit's cursor-position queries like a terminal emulator would."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        self.process = subprocess.Popen(
            [*HEARTH, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=PROJECT_ROOT,
            env={**os.environ, "TERM": "xterm", **(env or {})},
            start_new_session=True,
            preexec_fn=_take_terminal,  # noqa: PLW1509  (one ioctl, no locks)
        )
        os.close(slave)
        self.output = b""
        self._answered = 0

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    @property
    def prompts(self) -> int:
        """How many prompts have been drawn so far."""
        return self.output.count(PROMPT_STARTED)

    def wait_for(self, done: Callable[[bytes], bool], timeout: float = 120) -> None:
        """Read output until ``done(output)``. Raises AssertionError with the output so far."""
        deadline = time.monotonic() + timeout
        while not done(self.output):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {self.prompts} prompts; the terminal shows:\n{self.text()}"
                )
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                self.output += os.read(self.master, 65536)
            except OSError:  # the child closed the terminal: it is exiting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=max(deadline - time.monotonic(), 0))
                if done(self.output):
                    return
                raise AssertionError(f"the terminal closed; it showed:\n{self.text()}") from None
            while self._answered < self.output.count(_CURSOR_QUERY):
                self.type(b"\x1b[1;1R")  # row 1, column 1
                self._answered += 1

    def wait_for_prompt(self, n: int) -> None:
        """Until the ``n``-th prompt is drawn (and so accepts keys)."""
        self.wait_for(lambda _: self.prompts >= n)

    def wait_for_exit(self, timeout: float = 60) -> int:
        self.wait_for(lambda _: self.process.poll() is not None, timeout)
        return self.process.wait()

    def text(self) -> str:
        """The output without escape sequences, roughly what the screen showed."""
        import re

        plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", self.output).replace(b"\r", b"")
        return plain.decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        os.close(self.master)
