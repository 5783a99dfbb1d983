"""A disk that fills up while a reply streams, on a real (small) tmpfs: the person still gets
the whole reply, it stays in memory, and it is stored as shown once space is back. The CLI
says what happened. The real starter model answers."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from engine.catalog import Catalog
from engine.chat import Chat, Turn
from engine.inference import Answer, GenerationOptions, ModelSession, open_model
from engine.paths import PROJECT_ROOT
from engine.storage import DiskFull, StorageError, open_store

DISK_BYTES = 8 << 20
# Long enough that the disk is filled before the child's reply ends (it runs on its own).
LONG_REPLY = ("--max-tokens", "400", "--temperature", "0")


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
    assert turn.unsaved.content == "".join(shown) and turn.unsaved.status == "done"
    assert turn.unsaved.stats is not None and turn.unsaved.stats.generated_tokens > 3
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
        [*HEARTH, "ask", *LONG_REPLY, "Tell a story about a fox."],
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


def test_the_next_question_stores_the_unsaved_reply_first(
    keychain, small_disk: Path, session: ModelSession
):
    db = small_disk / "hearth.db"
    store = open_store(db)
    chat = Chat(store, session)
    options = GenerationOptions(max_tokens=40, temperature=0.0)
    turn = chat.send("Name three rivers.", options)
    shown, filler, failed = _stream_filling(turn, small_disk)
    assert isinstance(failed, DiskFull)
    assert chat.unsaved is turn
    with pytest.raises(DiskFull):
        chat.send("And three mountains?", options)  # still full: neither is stored
    assert chat.unsaved is turn
    filler.unlink()
    follow_up = chat.send("And three mountains?", options)
    assert chat.unsaved is None
    # The question follows the whole reply, which the model is sent as history.
    assert follow_up.question.parent_id == turn.reply_id
    assert "".join(c.text for c in follow_up if isinstance(c, Answer))
    store.close()
    with open_store(db) as reopened:
        path = reopened.active_path(reopened.list_conversations()[0].id)
        assert [(m.role, m.status) for m in path] == [
            ("user", "done"),
            ("assistant", "done"),
            ("user", "done"),
            ("assistant", "done"),
        ]
        assert path[1].content == "".join(shown)


def _stream_filling(turn: Turn, disk: Path) -> tuple[list[str], Path, StorageError | None]:
    """The answer's chunks, the disk filled after the first: (chunks, filler, the error)."""
    shown: list[str] = []
    filler: Path | None = None
    try:
        for chunk in turn:
            if isinstance(chunk, Answer):
                shown.append(chunk.text)
                if filler is None:
                    filler = fill(disk)
    except StorageError as exc:
        assert filler is not None
        return shown, filler, exc
    assert filler is not None
    return shown, filler, None


def _read_until(stream: IO[bytes], needle: bytes, *, extra: int = 0) -> bytes:
    """What ``stream`` gives until ``needle`` (and ``extra`` bytes more), within 120 s."""
    seen = b""
    deadline = time.monotonic() + 120
    fd = stream.fileno()
    while needle not in seen or len(seen) < seen.index(needle) + len(needle) + extra:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"not seen in 120 s; got {seen.decode(errors='replace')!r}"
        byte = os.read(fd, 1)
        assert byte, f"ended first; got {seen.decode(errors='replace')!r}"
        seen += byte
    return seen


def test_hearth_chat_offers_to_save_the_reply_again(
    starter_model_path: Path, keychain, small_disk: Path
):
    from tests.engine._cli_run import HEARTH

    env = {**os.environ, "XDG_DATA_HOME": str(small_disk / "data")}
    child = subprocess.Popen(
        [*HEARTH, "chat", *LONG_REPLY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    child.stdin.write(b"Tell a story about a fox.\n")
    child.stdin.flush()
    # The first prompt, then the answer's first character: the question is stored.
    first = _read_until(child.stdout, "you › ".encode(), extra=1)[-1:]
    filler = fill(small_disk)
    note = _read_until(child.stderr, b"/retry-save").decode()
    assert "This reply was shown but not saved" in note and "disk is full" in note
    assert "Free some disk space, then type /retry-save" in note
    child.stdin.write(b"/retry-save\n")  # still full
    child.stdin.flush()
    assert "Still not saved: The disk is full" in _read_until(child.stderr, b"again.").decode()
    child.stdin.write(b"What is a fox?\n")
    child.stdin.flush()
    refused = _read_until(child.stderr, b"saved first).").decode()
    assert "Your message was not sent: the last reply is still not saved." in refused
    filler.unlink()
    out, err = child.communicate(b"/retry-save\n/quit\n", timeout=120)
    assert child.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    shown, _, after = (first + out).decode().partition("\nyou › ")
    assert "Saved." in after
    with open_store(small_disk / "data" / "Hearth" / "hearth.db") as store:
        (conversation,) = store.list_conversations()
        question, reply = store.active_path(conversation.id)
        assert question.content == "Tell a story about a fox."
        assert reply.status == "done" and reply.content.strip() == shown.strip()
