"""Recover: copy everything readable out of a damaged database into a new one.

The damaged file is only read (through a read-only connection) and then moved aside with its
log, byte for byte as it was, into a ``damaged-<time>`` folder beside the database; the new
file takes its place under the same key. Rows are read table by table; when a scan hits a
damaged page, the table is read again one row at a time, so one bad page costs only the rows
stored in it. Documents' extracted text is not copied: it is derived from the person's files,
and the libraries (which are copied) read them again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3

from engine.paths import ensure_private_dir, fsync_dir
from engine.storage.db import connect, integrity_problems, remove_database_files, rollback
from engine.storage.errors import StorageError
from engine.storage.migrations import migrate

if TYPE_CHECKING:
    from engine.storage.db import Connection
    from engine.storage.keys import DbKey

# Ids are probed one by one only up to this far past the last one seen, when a table's
# largest id cannot be read.
_PROBE_PAST_LAST = 10_000

_CONVERSATION = "title, system_prompt, pinned, active_leaf_id, created_at, updated_at, library_id"
_MESSAGE = (
    "conversation_id, parent_id, role, content, thinking, model_id, status, prompt_tokens, "
    "generated_tokens, time_to_first_token_s, tokens_per_second, activated, created_at, "
    "updated_at"
)


@dataclass(frozen=True)
class RecoveryReport:
    """What Recover copied, what it could not read, and where the damaged files are."""

    conversations: int
    messages: int
    messages_lost: int  # rows on damaged pages (never-used ids are not counted)
    conversations_untitled: int  # whose own row was lost: recovered under a new title
    kept_at: Path

    def describe(self) -> str:
        lost = (
            "Every message was read."
            if not self.messages_lost
            else f"{self.messages_lost} message(s) could not be read and are not in it."
        )
        return (
            f"Recovered {self.conversations} conversation(s) with {self.messages} message(s). "
            f"{lost} The damaged file is kept, unchanged, in {self.kept_at}."
        )


def recover(damaged: Connection, path: Path, key: DbKey) -> tuple[Connection, RecoveryReport]:
    """Copy what ``damaged`` (a read-only connection to ``path``) can read into a new file
    under ``key``, close ``damaged``, move the damaged files aside and put the new file in
    their place. Returns a read-write connection to it.

    Raises: DiskFull, ReadOnlyStorage, StorageIOError, StorageError (nothing was moved: the
    damaged file is still where it was).
    """
    fresh = path.with_name(f".{path.name}.recovering")
    remove_database_files(fresh)
    new = connect(fresh, key)
    try:
        migrate(new)
        counts = _copy_readable(damaged, new)
        if integrity_problems(new):
            raise StorageError("The recovered copy did not pass its own check.")
    except BaseException:
        new.close()
        remove_database_files(fresh)
        raise
    new.close()
    damaged.close()
    kept = path.parent / time.strftime("damaged-%Y%m%d-%H%M%S")
    ensure_private_dir(kept)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", kept / f"{path.name}{suffix}")
    os.replace(fresh, path)
    fsync_dir(path.parent)
    return connect(path, key), RecoveryReport(*counts, kept_at=kept)


def _copy_readable(theirs: Connection, db: Connection) -> tuple[int, int, int, int]:
    libraries, _ = _read(theirs, "libraries", "name, conversation_id, embedder, created_at")
    sources, _ = _read(theirs, "library_sources", "library_id, path, is_folder, excluded")
    conversations, _ = _read(theirs, "conversations", _CONVERSATION)
    messages, messages_lost = _read(theirs, "messages", _MESSAGE)
    egress, _ = _read(
        theirs, "egress_log", "time, action, host, port, module, mode, allowed, detail"
    )
    untitled = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        conversation_ids: dict[int, int] = {}
        for old_id, row in conversations.items():
            cur = db.execute(
                "INSERT INTO conversations (title, system_prompt, pinned, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?)",
                (row[0], row[1], row[2], row[4], row[5]),
            )
            conversation_ids[old_id] = int(cur.lastrowid)
        message_ids: dict[int, int] = {}
        last_in: dict[int, int] = {}  # conversation (old id) -> last message copied (new id)
        for old_id, row in messages.items():  # in id order: parents first
            conversation = int(row[0])
            if conversation not in conversation_ids:
                untitled += 1
                cur = db.execute(
                    "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                    (f"Recovered conversation {untitled}", row[12], row[13]),
                )
                conversation_ids[conversation] = int(cur.lastrowid)
            parent = row[1]
            # A parent on a damaged page: the message follows the last one read before it.
            new_parent = message_ids.get(parent, last_in.get(conversation)) if parent else None
            cur = db.execute(
                f"INSERT INTO messages ({_MESSAGE}) VALUES ({', '.join('?' * 14)})",
                (conversation_ids[conversation], new_parent, *row[2:]),
            )
            message_ids[old_id] = last_in[conversation] = int(cur.lastrowid)
        for old_id, row in conversations.items():
            leaf = message_ids.get(row[3]) if row[3] is not None else None
            leaf = leaf or last_in.get(old_id)
            if leaf is not None:
                db.execute(
                    "UPDATE conversations SET active_leaf_id = ? WHERE id = ?",
                    (leaf, conversation_ids[old_id]),
                )
        _copy_libraries(db, libraries, sources, conversations, conversation_ids)
        _copy_message_sources(theirs, db, message_ids)
        for row in egress.values():
            db.execute(
                "INSERT INTO egress_log (time, action, host, port, module, mode, allowed, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        with contextlib.suppress(sqlcipher3.DatabaseError):  # settings on a damaged page
            for key, value in theirs.execute("SELECT key, value FROM settings").fetchall():
                db.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value)
                )
        db.execute("COMMIT")
    except BaseException:
        rollback(db)
        raise
    return len(conversation_ids), len(message_ids), messages_lost, untitled


def _copy_libraries(
    db: Connection,
    libraries: dict[int, tuple[Any, ...]],
    sources: dict[int, tuple[Any, ...]],
    conversations: dict[int, tuple[Any, ...]],
    conversation_ids: dict[int, int],
) -> None:
    library_ids: dict[int, int] = {}
    for old_id, (name, conversation, embedder, created_at) in libraries.items():
        if conversation is not None and conversation not in conversation_ids:
            continue  # the attachments of a conversation that could not be read
        cur = db.execute(
            "INSERT INTO libraries (name, conversation_id, embedder, created_at) "
            "VALUES (?, ?, ?, ?)",
            (name, conversation_ids.get(conversation), embedder, created_at),
        )
        library_ids[old_id] = int(cur.lastrowid)
    for library, path, is_folder, excluded in sources.values():
        if library in library_ids:
            db.execute(
                "INSERT OR IGNORE INTO library_sources (library_id, path, is_folder, excluded) "
                "VALUES (?, ?, ?, ?)",
                (library_ids[library], path, is_folder, excluded),
            )
    for old_id, row in conversations.items():
        if row[6] in library_ids:
            db.execute(
                "UPDATE conversations SET library_id = ? WHERE id = ?",
                (library_ids[row[6]], conversation_ids[old_id]),
            )


def _copy_message_sources(theirs: Connection, db: Connection, message_ids: dict[int, int]) -> None:
    # The passages a reply was given; those on damaged pages are simply not shown any more.
    with contextlib.suppress(sqlcipher3.DatabaseError):
        for message_id, number, path, page, text in theirs.execute(
            "SELECT message_id, number, path, page, text FROM message_sources"
        ).fetchall():
            if message_id in message_ids:
                db.execute(
                    "INSERT OR IGNORE INTO message_sources (message_id, number, document_id, "
                    "path, page, text) VALUES (?, ?, NULL, ?, ?, ?)",
                    (message_ids[message_id], number, path, page, text),
                )


def _read(theirs: Connection, table: str, columns: str) -> tuple[dict[int, tuple[Any, ...]], int]:
    """Every readable row of ``table`` by id, in id order, and how many could not be read."""
    try:
        rows = theirs.execute(f"SELECT id, {columns} FROM {table} ORDER BY id").fetchall()
        return {int(r[0]): tuple(r[1:]) for r in rows}, 0
    except sqlcipher3.DatabaseError:
        pass  # a damaged page on the way: one row at a time
    found: dict[int, tuple[Any, ...]] = {}
    lost = 0
    for row_id, row in _probe(theirs, table, columns):
        if row is None:
            lost += 1
        else:
            found[row_id] = row
    return found, lost


def _probe(
    theirs: Connection, table: str, columns: str
) -> Iterator[tuple[int, tuple[Any, ...] | None]]:
    """(id, row) for each id up to the table's largest, with None for a row that exists but
    cannot be read. Ids that hold no row (deleted ones) are skipped."""
    try:
        top = theirs.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
    except sqlcipher3.DatabaseError:
        top = None
    last_seen = 0
    row_id = 0
    while True:
        row_id += 1
        if top is not None and row_id > top:
            return
        if top is None and row_id > last_seen + _PROBE_PAST_LAST:
            return
        try:
            row = theirs.execute(
                f"SELECT {columns} FROM {table} WHERE id = ?", (row_id,)
            ).fetchone()
        except sqlcipher3.DatabaseError:
            # A damaged page on this id's path: the id probably held a row (deleted ids
            # leave no trace to tell them apart).
            yield row_id, None
            continue
        if row is not None:
            last_seen = row_id
            yield row_id, tuple(row)
