"""Importing a GGUF file the person already has into the models folder.

The file is checked before it is installed: the GGUF header and metadata are parsed with the
``gguf`` package (architecture, parameters, quantization, context length, chat template), the
chat template gets :func:`engine.chat_template.check_chat_template` (compiled and rendered in
the sandbox sessions use; refused if it reaches for Python internals, fails, or is too large),
and the sha256 is matched against the catalog. The file is hard-linked (same disk) or copied
into the models folder under a temporary name, hashed there, then renamed into place: a
half-imported file never has a model's name. A file the catalog does not know is allowed, with
a warning; its hash is pinned so ``verify`` can check it later.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.catalog._files import CHUNK, check_free_space, sha256_file
from engine.catalog.catalog import Catalog, CatalogModel
from engine.catalog.gguf_info import GGUFInfo, read_gguf
from engine.catalog.pins import all_pins, expected_sha256, pin
from engine.chat_template import check_chat_template
from engine.errors import Cancelled, ImportRejected, ModelError, NotEnoughDiskSpace
from engine.paths import ensure_private_dir, fsync_dir, models_dir


@dataclass(frozen=True)
class ImportResult:
    path: Path  # where the model now lives
    model: CatalogModel | None  # the catalog entry it matched, None for an unknown model
    info: GGUFInfo
    sha256: str
    linked: bool  # hard-linked (no extra disk space) rather than copied
    already_installed: bool
    warnings: tuple[str, ...]


def import_model(
    source: Path,
    catalog: Catalog,
    *,
    link: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Check ``source`` and install it into the models folder.

    ``link``: hard-link when the models folder is on the same disk (falls back to a copy).
    ``progress`` gets (bytes done, total) while copying or hashing.

    Raises: ImportRejected (not GGUF, truncated, unsafe template, conflicts with the
    catalog), NotEnoughDiskSpace, Cancelled.
    """
    source = source.expanduser()
    if not source.is_file():
        raise ImportRejected(f"There is no file at {source}.")
    if source.suffix.lower() != ".gguf":
        raise ImportRejected(f"“{source.name}” is not a .gguf file; Hearth runs GGUF models.")
    try:
        info = read_gguf(source)
        if info.chat_template:
            check_chat_template(info.chat_template)
    except ModelError as exc:
        raise ImportRejected(exc.user_message) from None
    warnings: list[str] = []
    if not info.chat_template:
        warnings.append(
            "The file has no chat template; Hearth will use ChatML, which may not suit this model."
        )

    folder = ensure_private_dir(models_dir())
    tmp = folder / f".{source.name}.{os.getpid()}.{threading.get_ident()}.import"
    try:
        linked, digest = _place(source, tmp, link=link, progress=progress, cancel=cancel)
        model, pin_as = _match(catalog, source.name, info, digest, warnings)
        dest = folder / (model.file if model is not None else source.name)
        if dest.exists():
            if sha256_file(dest, cancel=cancel) == digest:
                return ImportResult(dest, model, info, digest, linked, True, tuple(warnings))
            raise ImportRejected(
                f"A different file named “{dest.name}” is already installed.",
                "Remove it first (hearth models remove), or rename the file you import.",
            )
        os.replace(tmp, dest)
        fsync_dir(folder)
        if pin_as:
            pin(dest.name, digest, info.size, pin_as)
    finally:
        tmp.unlink(missing_ok=True)
    return ImportResult(dest, model, info, digest, linked, False, tuple(warnings))


def _place(
    source: Path,
    tmp: Path,
    *,
    link: bool,
    progress: Callable[[int, int], None] | None,
    cancel: threading.Event | None,
) -> tuple[bool, str]:
    """Hard-link or copy ``source`` to ``tmp``; (linked, sha256 of what is at ``tmp``)."""
    total = source.stat().st_size

    def report(done: int) -> None:
        if progress is not None:
            progress(done, total)

    if link:
        try:
            os.link(source, tmp)
        except OSError:
            pass  # another disk, or no hard links there: copy
        else:
            # Hashed at its new name: what is hashed is what gets installed.
            return True, sha256_file(tmp, progress=report, cancel=cancel)
    check_free_space(tmp.parent, total, f"a copy of {source.name}")
    digest = hashlib.sha256()
    done = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        while block := src.read(CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            try:
                out.write(block)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise NotEnoughDiskSpace(
                        f"The disk filled up while copying {source.name}."
                    ) from None
                raise
            digest.update(block)
            done += len(block)
            report(done)
        out.flush()
        os.fsync(out.fileno())
    return False, digest.hexdigest()


def _match(
    catalog: Catalog, name: str, info: GGUFInfo, digest: str, warnings: list[str]
) -> tuple[CatalogModel | None, str]:
    """The catalog entry the file is, by sha256 (catalog or pin), else by name and shape;
    and, when its checksum is to be pinned once installed, where the checksum came from."""
    by_hash = catalog.by_sha256(digest)
    pins = all_pins() if by_hash is None else {}  # read once, and only when needed
    if by_hash is None:
        by_hash = next(
            (m for m in catalog.models if expected_sha256(m, m.file, pins=pins)[0] == digest), None
        )
    if by_hash is not None:
        if by_hash.size and by_hash.size != info.size:
            raise ImportRejected(f"“{name}” has the checksum of {by_hash.label} but not its size.")
        return by_hash, ""
    same_name = catalog.by_file(name)
    if same_name is None:
        warnings.append(
            f"“{name}” is not in the catalog: it is installed as an unknown model "
            f"({info.architecture}, {info.quantization}). Hearth does not know its "
            "recommended settings or whether it reasons. Its checksum is pinned."
        )
        return None, "import of an unknown model"
    reference, _ = expected_sha256(same_name, same_name.file, pins=pins)
    if reference:
        raise ImportRejected(
            f"“{name}” has the name of {same_name.label} but not its checksum "
            f"(sha256 {digest}, expected {reference}).",
            "It is a different or damaged file: nothing was copied. Rename it to import it "
            "as an unknown model.",
        )
    if (info.quantization, info.layers) != (same_name.quantization, same_name.layers):
        raise ImportRejected(
            f"“{name}” has the name of {same_name.label} but is {info.quantization} with "
            f"{info.layers} layers (the catalog says {same_name.quantization}, "
            f"{same_name.layers}).",
            "Nothing was copied. Rename it to import it as an unknown model.",
        )
    warnings.append(
        f"The catalog has no checksum for {same_name.label}, so this file was matched by its "
        "name and shape, not verified. Its checksum is pinned from now on."
    )
    return same_name, "import (matched by name, not verified)"
