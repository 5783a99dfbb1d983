"""Private atomic writes (engine.paths.write_private_atomic): owner-only from the first byte,
whole or not at all, nothing left beside the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.paths import write_private_atomic


def test_a_new_file_and_its_folder_are_owner_only_whatever_the_umask(tmp_path: Path):
    path = tmp_path / "new" / "settings.json"
    old = os.umask(0)
    try:
        write_private_atomic(path, b'{"a": 1}')
    finally:
        os.umask(old)
    assert path.read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.listdir(path.parent) == ["settings.json"]


def test_replacing_a_readable_file_leaves_it_owner_only(tmp_path: Path):
    path = tmp_path / "pins.json"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_private_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "pins.json"
    path.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_private_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["pins.json"]
