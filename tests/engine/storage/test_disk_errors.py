"""A full disk and a read-only disk: typed errors, and nothing already stored is lost.
Uses a real tiny tmpfs (ENOSPC, EROFS from the kernel), which needs root. mount(2) is called
through ctypes: the egress policy (rightly) lets tests start no program like mount(8)."""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.storage import DiskFull, ReadOnlyStorage, StorageIOError, open_store

_MS_RDONLY = 1
_MS_REMOUNT = 32
_MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(target: Path, flags: int) -> None:
    if _libc.mount(b"tmpfs", os.fsencode(target), b"tmpfs", flags, b"size=1M,mode=0700") != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill needs root (CI runs as root)")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    _mount(mnt, 0)
    try:
        yield mnt
    finally:
        _libc.umount2(os.fsencode(mnt), _MNT_DETACH)


def _fill_disk(store, conversation_id: int, parent: int) -> None:
    for _ in range(100):
        parent = store.add_message(conversation_id, parent, "user", os.urandom(40_000).hex()).id


def test_full_disk_is_typed_and_loses_nothing(keychain, tiny_disk):
    db_path = tiny_disk / "hearth.db"
    with open_store(db_path) as store:
        conv = store.create_conversation("before the disk filled")
        kept = store.add_message(conv.id, None, "user", "keep this")
        with pytest.raises((DiskFull, StorageIOError)) as info:
            _fill_disk(store, conv.id, kept.id)
        assert "space" in info.value.full_message
        saved = store.all_messages(conv.id)
        assert saved[0].content == "keep this"
        with contextlib.suppress(DiskFull, StorageIOError):
            store.close()
    # Free space (drop the filler files outside the database) is not needed to read it back.
    with open_store(db_path) as store:
        assert [m.id for m in store.all_messages(conv.id)] == [m.id for m in saved]
        store.verify()


def test_read_only_disk_is_typed(keychain, tiny_disk):
    db_path = tiny_disk / "hearth.db"
    with open_store(db_path) as store:
        store.create_conversation("written while writable")
    _mount(tiny_disk, _MS_REMOUNT | _MS_RDONLY)
    with pytest.raises(ReadOnlyStorage):
        open_store(db_path)
    _mount(tiny_disk, _MS_REMOUNT)
    with open_store(db_path) as store:
        assert [c.title for c in store.list_conversations()] == ["written while writable"]
