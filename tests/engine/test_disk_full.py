"""A disk that fills up while a reply streams, on a real (small) tmpfs: the person still gets
the whole reply, it stays in memory, and it is stored as shown once space is back. The CLI
says what happened. The real starter model answers."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.chat import Chat
from engine.inference import Answer, GenerationOptions, ModelSession, open_model
from engine.paths import PROJECT_ROOT
from engine.storage import DiskFull, StorageError, open_store

DISK_BYTES = 8 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB tmpfs, unmounted afterwards (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = _run("mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(mount))
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        _run("umount", "-l", str(mount))


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    # Through a bare interpreter: the egress policy in this test process rightly refuses to
    # start any program but Hearth's own.
    return subprocess.run(
        [sys.executable, "-c", _RUN, *command], capture_output=True, text=True, check=False
    )


_RUN = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def fill(disk: Path) -> Path:
    """Write a filler file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    with pytest.raises(OSError, match="No space left") as info:
        (disk / "probe").write_bytes(b"x" * 4096)
    assert info.value.errno == errno.ENOSPC
    return filler


@pytest.fixture(scope="module")
def session(starter_model_path: Path, catalog: Catalog) -> Iterator[ModelSession]:
    with open_model(starter_model_path, entry=catalog.default, n_ctx=1024) as s:
        yield s


def test_a_reply_that_cannot_be_saved_is_kept_and_saved_when_space_returns(
    keychain, small_disk: Path, session: ModelSession
):
    db = small_disk / "hearth.db"
    store = open_store(db)
    turn = Chat(store, session).send(
        "Write a long story about the sea.", GenerationOptions(max_tokens=60, temperature=0.0)
    )
    shown: list[str] = []
    filler: Path | None = None
    failed: StorageError | None = None
    try:
        for chunk in turn:
            if isinstance(chunk, Answer):
                shown.append(chunk.text)
                if len(shown) == 3:
                    filler = fill(small_disk)  # the disk fills up mid-reply
    except StorageError as exc:
        failed = exc
    assert isinstance(failed, DiskFull)
    assert "disk is full" in failed.user_message
    assert len(shown) > 3  # the whole reply was shown
    assert turn.unsaved is not None
    status, answer, _thinking, _stats = turn.unsaved
    assert answer == "".join(shown) and status == "done"
    with pytest.raises(DiskFull):
        turn.retry_save()  # still full: nothing lost, still in memory
    assert turn.unsaved is not None
    assert filler is not None
    filler.unlink()
    saved = turn.retry_save()
    assert saved.content == "".join(shown) and saved.status == "done"
    assert turn.unsaved is None and turn.retry_save() == saved  # idempotent
    store.close()
    with open_store(db) as reopened:
        (conversation,) = reopened.list_conversations()
        question, reply = reopened.active_path(conversation.id)
        assert question.content == "Write a long story about the sea."
        assert reply.content == "".join(shown) and reply.status == "done"


def test_hearth_ask_shows_the_whole_reply_and_says_it_was_not_saved(
    starter_model_path: Path, keychain, small_disk: Path
):
    from tests.engine._cli_run import HEARTH

    env = {**os.environ, "XDG_DATA_HOME": str(small_disk / "data")}
    child = subprocess.Popen(
        [*HEARTH, "ask", "--max-tokens", "120", "--temperature", "0", "Tell a story about a fox."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert child.stdout is not None
    first = child.stdout.read(1)  # the answer has begun: the question is stored
    filler = fill(small_disk)
    out, err = child.communicate(timeout=120)
    shown = (first + out).decode()
    assert child.returncode == 1
    assert len(shown.strip()) > 20
    message = err.decode()
    assert "This reply was shown but not saved" in message and "disk is full" in message
    assert "the reply above is the only copy" in message and "Traceback" not in message
    filler.unlink()
    with open_store(small_disk / "data" / "Hearth" / "hearth.db") as store:
        (conversation,) = store.list_conversations()
        assert store.active_path(conversation.id)[0].content == "Tell a story about a fox."
