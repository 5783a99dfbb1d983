"""Encrypted backups: ``sqlcipher_export`` into a file keyed by a passphrase the person picks,
and restore into a new file that replaces the live one only once it is complete and checked.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

import sqlcipher3

from engine.paths import fsync_dir
from engine.storage.db import (
    Connection,
    check_file,
    connect,
    create_private_file,
    integrity_problems,
    remove_database_files,
    translate,
)
from engine.storage.errors import (
    DatabaseCorrupt,
    DiskFull,
    NotADatabase,
    ReadOnlyStorage,
    StorageError,
    StorageIOError,
    WrongKey,
)
from engine.storage.keys import DbKey, Passphrase
from engine.storage.migrations import LATEST_VERSION, migrate, schema_version


def export_to(db: Connection, dest: Path, passphrase: DbKey) -> None:
    """Write an encrypted copy of ``db`` to ``dest`` (atomically replaced), under
    ``passphrase`` (a person's backup) or the store's own key (the snapshot before an
    upgrade).

    Raises: DiskFull, ReadOnlyStorage, StorageIOError, StorageError.
    """
    tmp = _temp_sibling(dest)
    try:
        create_private_file(tmp)
        _export(db, tmp, passphrase)
        _fsync(tmp)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        raise translate_os(exc) from exc
    finally:
        remove_database_files(tmp)


def build_restored(src: Path, passphrase: Passphrase, dest_tmp: Path, key: DbKey) -> None:
    """Check the backup at ``src``, then write its content, keyed with ``key`` and migrated to
    the current schema, into the new file ``dest_tmp``.

    Raises: NotADatabase, WrongKey, DatabaseCorrupt, DatabaseTooNew, DiskFull, StorageError.
    """
    if not src.is_file():
        raise NotADatabase("The backup file does not exist.")
    check_file(src)
    try:
        source = connect(src, passphrase, uri_params="mode=ro")
    except WrongKey as exc:
        raise WrongKey(
            "The passphrase does not open this backup, or the backup was altered."
        ) from exc
    try:
        problems = integrity_problems(source)
        if problems:
            raise DatabaseCorrupt("the backup failed its integrity check")
        version = schema_version(source)
        if version > LATEST_VERSION:
            migrate(source)  # raises DatabaseTooNew without touching anything
        create_private_file(dest_tmp)
        _export(source, dest_tmp, key)
    except sqlcipher3.Error as exc:
        raise translate(exc) from exc
    finally:
        source.close()
    restored = connect(dest_tmp, key)
    try:
        migrate(restored)
        restored.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        restored.close()


def _export(source: Connection, target: Path, key: DbKey) -> None:
    version = schema_version(source)
    # ATTACH takes the key as a bound parameter: no quoting of the passphrase needed here.
    try:
        source.execute("ATTACH DATABASE ? AS export KEY ?", (str(target), key.bound_value))
        try:
            source.execute("SELECT sqlcipher_export('export')").fetchall()
            # sqlcipher_export copies no user_version; an int from our own schema.
            source.execute(f"PRAGMA export.user_version = {int(version)}")
        finally:
            source.execute("DETACH DATABASE export")
    except sqlcipher3.Error as exc:
        # sqlcipher_export reports the attached file's full disk as a plain SQLITE_ERROR
        # ("database or disk is full"), without SQLITE_FULL: read the message for it.
        if "disk is full" in str(exc):
            raise DiskFull() from exc
        raise translate(exc) from exc


def _temp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def translate_os(exc: OSError) -> StorageError:
    """The typed error for a failed file operation."""
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return DiskFull()
    if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
        return ReadOnlyStorage()
    return StorageIOError()
