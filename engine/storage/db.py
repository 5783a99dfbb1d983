"""Opening the SQLCipher file: the key pragma first, a check that SQLCipher answers, then the
connection settings every store relies on. Also the one place sqlite errors become typed ones.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

import sqlcipher3

from engine.paths import ensure_private_dir
from engine.storage.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DiskFull,
    NotADatabase,
    ReadOnlyStorage,
    StorageError,
    StorageIOError,
    WrongKey,
)
from engine.storage.keys import DbKey, Passphrase

Connection = Any  # sqlcipher3 ships no type information
PAGE_SIZE = 4096
PLAINTEXT_SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 2000

_log_silenced = threading.Lock()
_log_done = False


def connect(path: Path, key: DbKey, *, uri_params: str = "") -> Connection:
    """Open (creating when absent, with 0600 permissions) the encrypted database at ``path``.

    Raises: WrongKey, NotADatabase, DatabaseCorrupt, ReadOnlyStorage, DiskFull,
    StorageIOError, StorageError.
    """
    _silence_sqlcipher_log()
    check_file(path)
    if not path.exists():
        create_private_file(path)
    target = path.resolve().as_uri() + (f"?{uri_params}" if uri_params else "")
    try:
        conn = sqlcipher3.connect(target, uri=True, isolation_level=None, check_same_thread=False)
    except sqlcipher3.Error as exc:
        raise translate(exc) from exc
    try:
        conn.execute(f"PRAGMA key = {key.pragma_literal}")  # must be the first statement
        version = conn.execute("PRAGMA cipher_version").fetchone()
        if not version or not version[0]:
            raise StorageError(
                "The database library has no encryption (SQLCipher missing).", "Reinstall Hearth."
            )
        verify_key(conn, key)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Sorts and temp indices stay in memory: no plaintext temp file, ever.
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        if "mode=ro" not in uri_params:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ReadOnlyStorage()
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlcipher3.Error as exc:
        conn.close()
        raise translate(exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def verify_key(conn: Connection, key: DbKey) -> None:
    """Read page 1: the first read that needs the key. Raises: WrongKey."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            if isinstance(key, Passphrase):
                raise WrongKey(
                    "The passphrase does not open this database, or the file was altered."
                ) from exc
            raise WrongKey("The key does not open this database, or the file was altered.") from exc
        raise


def check_file(path: Path) -> None:
    """Refuse, without touching it, a file that cannot be an encrypted database.

    Raises: NotADatabase.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if not path.is_file():
        raise NotADatabase(f"{path.name} is not a file.")
    if size == 0:
        return  # created but never written: SQLCipher initialises it
    with path.open("rb") as f:
        head = f.read(len(PLAINTEXT_SQLITE_HEADER))
    if head == PLAINTEXT_SQLITE_HEADER:
        raise NotADatabase(f"{path.name} is an unencrypted SQLite file, not a Hearth database.")
    if size % 512:
        raise NotADatabase(f"{path.name} is not a database file.")


def create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only, before any data goes in."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except PermissionError as exc:
        raise ReadOnlyStorage() from exc
    except OSError as exc:
        raise StorageIOError() from exc
    os.close(fd)


def remove_database_files(path: Path) -> None:
    """Delete the database file at ``path`` and its side files (-journal, -wal, -shm); a file
    already gone is skipped.

    Raises: OSError when one cannot be deleted.
    """
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def rollback(conn: Connection) -> None:
    """Roll back the open transaction, if sqlite has not rolled it back already."""
    with contextlib.suppress(sqlcipher3.Error):
        conn.execute("ROLLBACK")


def translate(exc: sqlcipher3.Error) -> StorageError:
    """The typed error for an sqlite error. The sqlite message stays in ``__cause__``."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    if name.startswith("SQLITE_FULL"):
        return DiskFull()
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return DatabaseCorrupt()
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return ReadOnlyStorage()
    if name.startswith("SQLITE_IOERR"):
        return StorageIOError()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return DatabaseBusy()
    return StorageError("The conversation database reported an unexpected error.")


def integrity_problems(conn: Connection) -> list[str]:
    """Every page's HMAC, then SQLite's structural check; an empty list means healthy."""
    problems = [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
    rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        problems.extend(rows)
    return problems


def _silence_sqlcipher_log() -> None:
    # SQLCipher 4.19 logs HMAC failures to stderr; our typed errors already say it.
    global _log_done  # noqa: PLW0603 - once per process
    with _log_silenced:
        if _log_done:
            return
        conn = sqlcipher3.connect(":memory:")
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
        finally:
            conn.close()
        _log_done = True
