"""What is installed, how much disk it takes, removing it, and checking it is intact.

Only the user's models folder is ever changed: models that ship with Hearth (the starter) are
read-only here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from engine.catalog._files import sha256_file
from engine.catalog.catalog import Catalog, CatalogModel
from engine.catalog.installed import find_file, partial_path
from engine.catalog.pins import expected_sha256, unpin
from engine.errors import ModelNotRemovable
from engine.paths import bundled_models_dir, fsync_dir, models_dir


def disk_bytes(path: Path) -> int:
    """Space a file takes on disk (allocated blocks where the OS says, else its size)."""
    try:
        st = path.stat()
    except OSError:
        return 0
    blocks = getattr(st, "st_blocks", None)
    return blocks * 512 if blocks is not None else st.st_size


@dataclass(frozen=True)
class ModelState:
    """One catalog model on this machine."""

    model: CatalogModel
    path: Path | None  # the installed file, None when not installed
    bundled: bool  # ships with Hearth (read-only), not in the user's models folder
    disk_bytes: int  # of the installed file
    partial_bytes: int  # of an unfinished download kept for resuming

    @property
    def installed(self) -> bool:
        return self.path is not None


def model_states(catalog: Catalog, *, embedders: bool = False) -> list[ModelState]:
    """Every catalog chat model (with ``embedders``, then every embedding model) with its
    installed file, disk use and partial download."""
    states = []
    for model in catalog.everything if embedders else catalog.models:
        path = find_file(model)
        part = partial_path(model)
        states.append(
            ModelState(
                model=model,
                path=path,
                bundled=path is not None and path.parent == bundled_models_dir(),
                disk_bytes=disk_bytes(path) if path else 0,
                partial_bytes=part.stat().st_size if part.is_file() else 0,
            )
        )
    return states


def other_models(catalog: Catalog) -> list[Path]:
    """GGUF files in the models folder that no catalog entry names (imported unknown models)."""
    known = {m.file for m in catalog.everything}
    folder = models_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.gguf") if p.is_file() and p.name not in known)


@dataclass(frozen=True)
class Removal:
    """What removing a model deletes: shown to the person before they confirm."""

    label: str
    files: tuple[Path, ...]
    disk_bytes: int


def plan_removal(catalog: Catalog, spec: str) -> Removal:
    """The files ``spec`` (a catalog id, or the file name of an imported unknown model) has
    in the models folder, including a partial download.

    Raises: ModelNotRemovable when there is nothing of it to remove (not installed, or it
    ships with Hearth).
    """
    try:
        model: CatalogModel | None = catalog.get(spec)
    except KeyError:
        model = None
    file_name = model.file if model is not None else spec
    if "/" in file_name or "\\" in file_name or not file_name.endswith(".gguf"):
        raise ModelNotRemovable(f"“{spec}” is neither a catalog id nor an imported model.")
    label = model.label if model is not None else file_name
    candidates = [models_dir() / file_name, models_dir() / f"{file_name}.part"]
    files = tuple(p for p in candidates if p.is_file())
    if not files:
        if (bundled_models_dir() / file_name).is_file():
            raise ModelNotRemovable(
                f"{label} ships with Hearth and cannot be removed.",
                "Nothing to do; it takes no space in your models folder.",
            )
        raise ModelNotRemovable(f"{label} is not installed.")
    return Removal(label, files, sum(disk_bytes(p) for p in files))


def remove(removal: Removal) -> int:
    """Delete the files of ``removal`` (and forget a pinned checksum); returns bytes freed.

    Raises: OSError when a file cannot be deleted.
    """
    freed = 0
    for path in removal.files:
        size = disk_bytes(path)
        path.unlink(missing_ok=True)
        freed += size
        if path.suffix == ".gguf":
            unpin(path.name)
    fsync_dir(models_dir())
    return freed


class Verdict(StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    NO_REFERENCE = "no-reference"  # neither the catalog nor a pin has a checksum


@dataclass(frozen=True)
class Verification:
    label: str
    path: Path
    verdict: Verdict
    actual: str
    expected: str
    expected_from: str  # "the catalog", "the pinned checksum", ""

    def describe(self) -> str:
        if self.verdict is Verdict.OK:
            return f"{self.label}: OK (sha256 matches {self.expected_from})"
        if self.verdict is Verdict.MISMATCH:
            return (
                f"{self.label}: DAMAGED: sha256 {self.actual} does not match "
                f"{self.expected_from} ({self.expected})"
            )
        return f"{self.label}: no checksum to compare with (sha256 {self.actual})"


def verify_file(
    path: Path,
    label: str,
    model: CatalogModel | None,
    *,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Verification:
    """Re-hash ``path`` and compare with the catalog's checksum, else the pinned one.

    Raises: Cancelled, OSError.
    """
    expected, source = expected_sha256(model, path.name)
    actual = sha256_file(path, progress=progress, cancel=cancel)
    if not expected:
        verdict = Verdict.NO_REFERENCE
    else:
        verdict = Verdict.OK if actual == expected else Verdict.MISMATCH
    return Verification(label, path, verdict, actual, expected, source)


def to_verify(catalog: Catalog, spec: str | None) -> list[tuple[Path, str, CatalogModel | None]]:
    """(file, label, catalog entry) for ``spec`` (a catalog id or imported file name), or for
    every installed model when ``spec`` is None. Empty when nothing matches.
    """
    items: list[tuple[Path, str, CatalogModel | None]] = []
    for state in model_states(catalog):
        if state.path is not None and spec in (None, state.model.id):
            items.append((state.path, state.model.label, state.model))
    for path in other_models(catalog):
        if spec in (None, path.name):
            items.append((path, path.name, None))
    return items
