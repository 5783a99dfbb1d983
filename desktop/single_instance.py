"""One Hearth window per person: a second launch brings the running one to the front.

A lock file held for the process's life decides who runs; the second launch leaves a small
file beside it, which the first one watches for. No socket of any kind (QLocalServer lives in
QtNetwork, which Hearth never imports), and nothing in the files but a timestamp.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal

from engine.paths import ensure_private_dir

LOCK_NAME = "hearth.lock"
POKE_NAME = "hearth.activate"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt  # noqa: PLC0415

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class SingleInstance(QObject):
    """``primary`` is True for the first launch, which then emits ``activation_requested``
    each time a later launch calls :meth:`notify_primary`."""

    activation_requested = Signal()

    def __init__(self, directory: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dir = ensure_private_dir(directory)
        self._poke = self._dir / POKE_NAME
        self._fd: int | None = os.open(self._dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        self.primary = _try_lock(self._fd)
        self._watcher: QFileSystemWatcher | None = None
        if self.primary:
            with contextlib.suppress(FileNotFoundError):
                self._poke.unlink()  # left by a launch that found the last instance closing
            self._watcher = QFileSystemWatcher([str(self._dir)], self)
            self._watcher.directoryChanged.connect(self._on_watcher_directory_changed)
        else:
            os.close(self._fd)
            self._fd = None

    def notify_primary(self) -> None:
        """From a second launch: ask the running instance to show its window."""
        tmp = self._dir / f".{POKE_NAME}.{os.getpid()}"
        tmp.write_text(f"{time.time()}\n")
        os.replace(tmp, self._poke)

    def release(self) -> None:
        """Give up the lock (the process exiting does it too)."""
        if self._watcher is not None:
            self._watcher.removePaths(self._watcher.directories())
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _on_watcher_directory_changed(self, _path: str) -> None:
        try:
            self._poke.unlink()
        except FileNotFoundError:
            return  # some other change in the folder (our own unlink included)
        self.activation_requested.emit()
