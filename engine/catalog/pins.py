"""Pinned checksums: the sha256 Hearth accepted for a model file the catalog has no checksum
for (from the server's declared digest, or an import), so later downloads and ``verify`` hold
the file to it.

Kept in ``model-pins.json`` in the data folder, keyed by file name, written atomically with
owner-only permissions. It holds file names and hashes, never user text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.catalog.catalog import CatalogModel
from engine.paths import data_dir, write_private_atomic

PINS_FILE = "model-pins.json"
_lock = threading.Lock()


@dataclass(frozen=True)
class Pin:
    sha256: str
    size: int
    source: str  # where the hash came from, for people: "server digest (X-Linked-ETag)", …


def pins_path() -> Path:
    return data_dir() / PINS_FILE


def _read() -> dict[str, Pin]:
    try:
        raw = json.loads(pins_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a damaged pin file pins nothing; the catalog's checksums still apply
    files = raw.get("files", {}) if isinstance(raw, dict) else {}
    if not isinstance(files, dict):
        return {}  # not a pin file Hearth wrote: it pins nothing
    pins = {}
    for name, entry in files.items():
        if not isinstance(entry, dict):
            continue
        try:
            pins[str(name)] = Pin(
                str(entry["sha256"]), int(entry["size"]), str(entry.get("source", ""))
            )
        except (KeyError, TypeError, ValueError):
            continue
    return pins


def _write(pins: dict[str, Pin]) -> None:
    data = {"version": 1, "files": {name: asdict(pin) for name, pin in sorted(pins.items())}}
    write_private_atomic(pins_path(), json.dumps(data, indent=1).encode("utf-8"))


def pinned(file_name: str) -> Pin | None:
    """The pin for a model file name, or None."""
    with _lock:
        return _read().get(file_name)


def all_pins() -> dict[str, Pin]:
    """Every pin, by file name (one read of the pin file, for callers that look up many)."""
    with _lock:
        return _read()


def expected_sha256(
    model: CatalogModel | None, file_name: str, *, pins: Mapping[str, Pin] | None = None
) -> tuple[str, str]:
    """The sha256 the model file ``file_name`` is held to, and where it comes from: the
    catalog's (``model``'s), else the pinned one, else ``("", "")``. The pin file is read
    only when the catalog has no checksum, and not at all when ``pins`` (from
    :func:`all_pins`) is given.
    """
    if model is not None and model.sha256:
        return model.sha256, "the catalog"
    entry = pins.get(file_name) if pins is not None else pinned(file_name)
    if entry is not None:
        return entry.sha256, "the pinned checksum"
    return "", ""


def pin(file_name: str, sha256: str, size: int, source: str) -> None:
    """Remember ``sha256`` for ``file_name``. Raises: OSError when it cannot be written."""
    with _lock:
        pins = _read()
        pins[file_name] = Pin(sha256, size, source)
        _write(pins)


def unpin(file_name: str) -> None:
    """Forget the pin for ``file_name`` (when the person removes the model)."""
    with _lock:
        pins = _read()
        if pins.pop(file_name, None) is not None:
            _write(pins)
