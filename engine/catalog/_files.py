"""File helpers the model manager shares: hashing with progress and cancel, and the models
folder's free space. (Private atomic writes are :func:`engine.paths.write_private_atomic`.)"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from engine.catalog.plan import format_size
from engine.errors import Cancelled, NotEnoughDiskSpace

CHUNK = 1024 * 1024
MIB = 1024**2
# Kept free on the models disk beyond the file itself: the OS and Hearth's database need room.
DISK_MARGIN = 128 * MIB


def sha256_file(
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """The file's sha256 in hex. ``progress`` gets the bytes hashed so far.

    Raises: Cancelled, OSError.
    """
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done)
    return digest.hexdigest()


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Refuse before writing when ``folder``'s disk cannot take ``needed`` more bytes plus a
    margin.

    Raises: NotEnoughDiskSpace.
    """
    free = shutil.disk_usage(folder).free
    if needed + DISK_MARGIN > free:
        raise NotEnoughDiskSpace(
            f"Not enough disk space for {what}: it needs {format_size(needed)} more (plus "
            f"{format_size(DISK_MARGIN)} kept free) and {folder} has {format_size(free)} free."
        )
