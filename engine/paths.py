"""Where Hearth keeps things. Wraps platformdirs; nothing uses the cwd or a bare ``~``.

No version in the paths: an upgrade must find the same profile.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Hearth"
APP_AUTHOR = "Hearth"


def _project_root() -> Path:
    """The checkout, or in a PyInstaller bundle its data folder: either carries models.toml
    and assets/. A frozen app's modules live in an archive, so ``__file__`` is only a label
    there; PyInstaller puts the data files in ``sys._MEIPASS`` (``_internal/`` of a one-folder
    build; ``Contents/Frameworks`` of a macOS .app, linked to ``Contents/Resources``)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


PROJECT_ROOT = _project_root()


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR, roaming=False)


def data_dir() -> Path:
    """Per-user data: the encrypted database and downloaded models."""
    return Path(_dirs().user_data_dir)


def config_dir() -> Path:
    """Per-user settings (never user text: that lives in the encrypted store)."""
    return Path(_dirs().user_config_dir)


def models_dir() -> Path:
    """Models the user downloaded or imported."""
    return data_dir() / "models"


def bundled_models_dir() -> Path:
    """Models that ship with the app (the starter model), read-only."""
    override = os.environ.get("HEARTH_BUNDLED_MODELS")
    return Path(override) if override else PROJECT_ROOT / "assets" / "models"


def catalog_path() -> Path:
    """The model catalog shipped with the app."""
    override = os.environ.get("HEARTH_CATALOG")
    return Path(override) if override else PROJECT_ROOT / "models.toml"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` readable by the owner only, and so every folder made on the way
    (``mkdir(parents=True)`` would give those the umask's mode: 0777 under umask 000).
    Hearth's own data and settings folders are made owner-only even when something else
    created them."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another thread or process: tightened below
        _owner_only(new)
    for root in (data_dir(), config_dir()):
        if path == root or root in path.parents:
            _owner_only(root)
    return path


def _owner_only(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not ours to change (another user's, read-only)
        if folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) != 0o700:
            folder.chmod(0o700)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_private_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only: a new temporary file beside it,
    0600 before any byte is written, fsynced, then renamed over ``path`` and the rename made
    durable. The folder is created owner-only when missing. ``path`` is never half-written.

    Raises: OSError.
    """
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):  # exactly 0600 whatever the umask (POSIX only)
                os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
