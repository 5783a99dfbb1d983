"""Kills while ``open_store`` upgrades a schema-1 database, and what must hold afterwards.

A schema-1 store (made with ``migrate(target=1)``, as tests/engine/storage/test_migrations.py
makes each old version) is filled with conversations, then copied fresh for each kill. A child
(``python -m benchmarks._crash_migrate PATH ENTRY``) opens the copy with ``open_store``, which
first writes the encrypted copy from before the upgrade (``hearth.db.before-upgrade``,
atomically renamed into place) and then runs every pending migration in one transaction. The
parent waits for that copy to appear (the upgrade's transaction starts right after), then
SIGKILLs the child at a random moment within the upgrade's measured length.

After each kill: the file, read through a read-only connection first, passes both integrity
checks and is at schema 1 with every row as it was (rolled back) or, if the kill came after
the commit, at the latest schema with every row; ``open_store`` then upgrades it and every
row is still there.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from engine.paths import PROJECT_ROOT
from engine.storage import Keychain, open_store
from engine.storage.db import Connection, connect, remove_database_files
from engine.storage.keys import RawKey, new_raw_key
from engine.storage.migrations import LATEST_VERSION, migrate, schema_version
from engine.storage.store import snapshot_path

OLD_VERSION = 1
_WORDS = (
    "lighthouse harbour keeper lantern storm ferry island tide gull rope anchor beacon pier fog "
    "signal chart compass shore cliff wave sail dune kelp reef"
)


class MigrationCheckFailed(AssertionError):
    """A kill during an upgrade left the database damaged, half-upgraded or missing rows."""


@dataclass(frozen=True)
class MigrationKill:
    found_version: int  # schema version right after the kill (before reopening)
    killed: bool  # False: the upgrade had finished before the kill moment
    delay_s: float  # after the copy from before the upgrade appeared
    leftovers: int  # temporary files left beside the database


def make_old_store(path: Path, keychain: Keychain, messages: int, seed: int) -> str:
    """A schema-1 store at ``path`` holding ``messages`` messages in conversations of 20,
    keyed from ``keychain`` (a key of its own); returns its rows' digest."""
    rng = random.Random(seed)
    words = _WORDS.split()
    key = new_raw_key()
    keychain.save(key)
    db = connect(path, key)
    try:
        migrate(db, target=OLD_VERSION)
        db.execute("BEGIN")
        message_id = 0
        for conv in range(1, messages // 20 + 1):
            db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (conv, " ".join(rng.choices(words, k=4)), conv, conv),
            )
            parent = None
            for turn in range(20):
                message_id += 1
                role = "user" if turn % 2 == 0 else "assistant"
                # One reply left 'streaming' by a crash in the old version: it must come back
                # as 'interrupted' after the upgrade.
                status = "streaming" if message_id == 2 else "done"
                text = " ".join(rng.choices(words, k=rng.randint(20, 80)))
                db.execute(
                    "INSERT INTO messages (id, conversation_id, parent_id, role, content, "
                    "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (message_id, conv, parent, role, text, status, conv, conv),
                )
                parent = message_id
            db.execute("UPDATE conversations SET active_leaf_id = ? WHERE id = ?", (parent, conv))
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return digest(db)
    finally:
        db.close()


def digest(db: Connection) -> str:
    """A hash of every conversation and message as a person wrote them (schema 1 columns)."""
    h = hashlib.sha256()
    for row in db.execute("SELECT id, title, system_prompt FROM conversations ORDER BY id"):
        h.update(repr(row).encode())
    for row in db.execute(
        "SELECT id, conversation_id, parent_id, role, content, thinking FROM messages ORDER BY id"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def _fresh_copy(template: Path, work: Path) -> None:
    remove_database_files(work)
    remove_database_files(snapshot_path(work))
    for stray in work.parent.glob(f".{work.name}.*.tmp*"):
        stray.unlink()
    shutil.copyfile(template, work)
    work.chmod(0o600)


def _child(work: Path, entry: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks._crash_migrate", str(work), entry],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_snapshot(child: subprocess.Popen[bytes], work: Path) -> float:
    snapshot = snapshot_path(work)
    deadline = time.monotonic() + 120
    while not snapshot.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            err = child.stderr.read().decode(errors="replace") if child.stderr else ""
            raise MigrationCheckFailed(f"the upgrade never started its transaction:\n{err}")
        time.sleep(0.001)
    return time.monotonic()


def measure_upgrade(template: Path, work: Path, entry: str) -> float:
    """Seconds from the copy appearing to the child's exit, in an upgrade left to finish."""
    _fresh_copy(template, work)
    child = _child(work, entry)
    started = _wait_for_snapshot(child, work)
    if child.wait(timeout=120) != 0:
        raise MigrationCheckFailed("an upgrade left to finish failed")
    return time.monotonic() - started


def kill_during_upgrade(
    template: Path, work: Path, keychain: Keychain, expected: str, delay_s: float
) -> MigrationKill:
    """One kill ``delay_s`` into the upgrade's transaction, then the checks.

    Raises: MigrationCheckFailed.
    """
    _fresh_copy(template, work)
    child = _child(work, keychain.entry)
    started = _wait_for_snapshot(child, work)
    while time.monotonic() < started + delay_s and child.poll() is None:
        time.sleep(0.0005)
    killed = child.poll() is None
    if killed:
        child.kill()
    child.wait(timeout=60)
    if child.stderr:
        child.stderr.close()
    key = keychain.load()
    assert isinstance(key, RawKey)
    reader = connect(work, key, uri_params="mode=ro")
    try:
        found = schema_version(reader)
        _check_rows(reader, expected, f"after the kill (schema {found})")
    finally:
        reader.close()
    if found not in (OLD_VERSION, LATEST_VERSION):
        raise MigrationCheckFailed(f"half-upgraded: schema {found} after the kill")
    leftovers = len(list(work.parent.glob(f".{work.name}.*.tmp*")))
    with open_store(work, keychain=keychain) as store:
        if store.damage is not None:
            raise MigrationCheckFailed(f"reopened as damaged: {store.damage}")
        if store.get_message(2).status != "interrupted":
            raise MigrationCheckFailed("the old 'streaming' reply did not become 'interrupted'")
    upgraded = connect(work, key)
    try:
        if schema_version(upgraded) != LATEST_VERSION:
            raise MigrationCheckFailed("open_store did not finish the upgrade after the kill")
        _check_rows(upgraded, expected, "after reopening")
    finally:
        upgraded.close()
    return MigrationKill(found, killed, delay_s, leftovers)


def _check_rows(db: Connection, expected: str, when: str) -> None:
    pages = db.execute("PRAGMA integrity_check").fetchall()
    cipher = db.execute("PRAGMA cipher_integrity_check").fetchall()
    if pages != [("ok",)] or cipher != []:
        raise MigrationCheckFailed(f"{when}: integrity_check {pages[:3]}, cipher {cipher[:3]}")
    if digest(db) != expected:
        raise MigrationCheckFailed(f"{when}: the conversations are not what they were")


def main() -> None:
    """The child: open (and so upgrade) the store at argv[1], keyed from keychain entry argv[2]."""
    with open_store(Path(sys.argv[1]), keychain=Keychain(entry=sys.argv[2])) as store:
        store.list_conversations()


if __name__ == "__main__":
    main()
