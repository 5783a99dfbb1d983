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


def test_hearths_folders_are_owner_only_whatever_made_them(tmp_path: Path):
    from engine.paths import config_dir, data_dir, ensure_private_dir

    old = os.umask(0)
    try:
        run = ensure_private_dir(data_dir() / "run")  # as the window's first start does
        made_elsewhere = config_dir()
        made_elsewhere.mkdir(parents=True, mode=0o755)
        os.chmod(made_elsewhere, 0o755)
        ensure_private_dir(made_elsewhere / "sub")
    finally:
        os.umask(old)
    for folder in (run, data_dir(), config_dir(), config_dir() / "sub"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_first_command_under_umask_000_makes_the_data_folder_owner_only(
    starter_model_path: Path, keychain
):
    import subprocess
    import sys

    from engine.paths import PROJECT_ROOT, data_dir

    assert not data_dir().exists()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; os.umask(0); from desktop.launch import main; sys.exit(main())",
            "ask",
            "--max-tokens",
            "2",
            "hi",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(data_dir().stat().st_mode) == 0o700
    for path in data_dir().rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
