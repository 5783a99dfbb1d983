"""The ways out of (and back into) the encrypted store that a person asks for by name, as the
window's Settings → History offers them (``hearth export/backup/restore`` take the same steps
in engine/_cli_records.py).

Export writes readable (unencrypted) files, and the callers say so; a backup is an encrypted
copy under a passphrase the person chooses; restore adds a backup's conversations that are not
here, replacing nothing. Every function takes the open store and runs on the caller's thread
(the window calls them on the store's owner thread).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.paths import data_dir, ensure_private_dir, write_private_atomic
from engine.storage import (
    ConversationStore,
    DatabaseCorrupt,
    DiskFull,
    NotADatabase,
    ReadOnlyStorage,
    StorageError,
    StorageIOError,
    WrongKey,
    open_store,
)
from engine.storage.backup import translate_os
from engine.storage.db import check_file, create_private_file, remove_database_files
from engine.storage.merge import MergePlan
from engine.storage.store import snapshot_path

__all__ = [
    "MIN_PASSPHRASE",
    "ExportFormat",
    "Exported",
    "MergePlan",
    "backup",
    "export_conversations",
    "new_passphrase_problem",
    "restore",
    "restore_plan",
]

MIN_PASSPHRASE = 8
ExportFormat = Literal["md", "json"]


@dataclass(frozen=True)
class Exported:
    """What an export did: how many files it wrote into ``folder``, the files it left alone
    because they were there already (an export never overwrites), and the conversations it
    skipped because they lie on a damaged part of the history."""

    folder: Path
    written: int
    existing: list[Path] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)


def new_passphrase_problem(first: str, again: str | None = None) -> str | None:
    """Why ``first`` cannot protect a new backup (``again`` is the repeat, when asked twice),
    in plain words; None when it can."""
    if len(first) < MIN_PASSPHRASE:
        return f"The passphrase needs at least {MIN_PASSPHRASE} characters."
    if again is not None and first != again:
        return "The two passphrases differ."
    return None


def _slug(title: str) -> str:
    words = re.sub(r"[^\w\s-]", "", title, flags=re.UNICODE).split()
    return "-".join(words)[:60] or "conversation"


def export_conversations(
    store: ConversationStore,
    folder: Path,
    fmt: ExportFormat,
    conversation_ids: Sequence[int] | None = None,
) -> Exported:
    """Write each conversation (all of them by default) as one Markdown or JSON file into
    ``folder`` (made owner-only when missing); the files are owner-only too, and NOT
    encrypted. A file already there is left as it is; a conversation on a damaged part of
    the history is skipped (the others are written).

    Raises: RecordNotFound, StorageError (``folder`` could not be written: full disk,
    read-only folder).
    """
    ids = (
        list(conversation_ids)
        if conversation_ids is not None
        else [c.id for c in store.list_conversations()]
    )
    written, existing, damaged = 0, [], []
    try:
        folder = ensure_private_dir(folder)
        for conversation_id in ids:
            try:
                conversation = store.get_conversation(conversation_id)
                text = (
                    store.export_markdown(conversation_id)
                    if fmt == "md"
                    else store.export_json(conversation_id)
                )
            except DatabaseCorrupt:
                damaged.append(conversation_id)
                continue
            target = folder / f"{conversation_id}-{_slug(conversation.title)}.{fmt}"
            if target.exists():
                existing.append(target)
                continue
            write_private_atomic(target, text.encode("utf-8"))
            written += 1
    except OSError as exc:
        raise _export_error(exc) from exc
    return Exported(folder, written, existing, damaged)


def _export_error(exc: OSError) -> StorageError:
    return _not_written(
        "The conversations",
        translate_os(exc),
        "Files already written there are complete; your history is unchanged.",
    )


def _not_written(what: str, error: StorageError, kept: str) -> StorageError:
    # The typed errors speak of the history's own file; here it is the chosen place that
    # could not take the file.
    if isinstance(error, DiskFull):
        why = "the disk is full"
    elif isinstance(error, ReadOnlyStorage):
        why = "that folder cannot be written (read-only, or not yours)"
    else:
        why = "writing to that folder failed"
    return StorageError(
        f"{what} could not be written: {why}.",
        f"Free some space or choose another place, and try again. {kept}",
    )


def backup(store: ConversationStore, target: Path, passphrase: str) -> int:
    """Write an encrypted copy of the whole history to ``target`` (replaced atomically)
    under ``passphrase``; returns how many conversations it holds.

    Raises: StorageError (the history is not saved to disk, the passphrase is too short, or
    ``target`` could not be written: full disk, read-only folder), InvalidPassphrase.
    """
    _require_saved(store)
    problem = new_passphrase_problem(passphrase)
    if problem is not None:
        raise StorageError(problem, "Choose a longer passphrase. Nothing was written.")
    try:
        store.backup(target, passphrase)
    except (DiskFull, ReadOnlyStorage, StorageIOError) as exc:
        raise _not_written(
            "The backup", exc, "No partial backup was left; your history is unchanged."
        ) from exc
    return len(store.list_conversations())


def _require_saved(store: ConversationStore) -> None:
    if not store.saved:
        raise StorageError(
            "This history is kept in memory only, not saved to disk, so there is nothing to "
            "back up and nowhere to restore into.",
            "Set a passphrase (or unlock the system keychain) and restart Hearth to keep "
            "your conversations.",
        )


@contextlib.contextmanager
def _opened_backup(source: Path, passphrase: str) -> Iterator[ConversationStore]:
    """The backup at ``source``, opened from a private copy: opening a store may upgrade it,
    and the person's backup file must stay exactly as it is. The copy is gone afterwards."""
    if not source.is_file():
        raise NotADatabase(f"{source.name} is not a file.")
    check_file(source)  # names the person's file, not the private copy
    if source.stat().st_size == 0:
        raise NotADatabase(f"{source.name} is empty: it is not a Hearth backup.")
    copy = ensure_private_dir(data_dir()) / f".restore-{secrets.token_hex(6)}.db"
    try:
        create_private_file(copy)
        try:
            shutil.copyfile(source, copy)
        except OSError as exc:
            raise translate_os(exc) from exc
        try:
            opened = open_store(copy, passphrase=passphrase)
        except WrongKey as exc:
            raise WrongKey(
                "The passphrase does not open this backup, or the file is not a Hearth backup."
            ) from exc
        with opened:
            yield opened
    finally:
        remove_database_files(copy)
        remove_database_files(snapshot_path(copy))  # made if the backup was from an older Hearth


def restore_plan(store: ConversationStore, source: Path, passphrase: str) -> MergePlan:
    """What ``restore`` would add from the backup at ``source`` (nothing is written here).

    Raises: NotADatabase, WrongKey, DatabaseCorrupt, DatabaseTooNew, DiskFull, StorageError.
    """
    _require_saved(store)
    with _opened_backup(source, passphrase) as other:
        return store.merge_plan(other)


def restore(store: ConversationStore, source: Path, passphrase: str) -> MergePlan:
    """Add the conversations of the backup at ``source`` that are not here (same creation
    time and first message), in one transaction; nothing here is replaced or changed.
    Returns what was added.

    Raises: NotADatabase, WrongKey, DatabaseCorrupt, DatabaseTooNew, DiskFull, StorageError
    (nothing was added).
    """
    _require_saved(store)
    with _opened_backup(source, passphrase) as other:
        return store.merge_from(other)
