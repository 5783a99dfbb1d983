"""Each migration from every earlier version, on real encrypted files."""

from __future__ import annotations

import secrets
import stat

import pytest

from engine.storage import DatabaseTooNew, MigrationFailed, open_store
from engine.storage.db import connect
from engine.storage.keys import RawKey
from engine.storage.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    check_order,
    migrate,
    schema_version,
)
from engine.storage.store import snapshot_path

# Data a person might have written at each version, in that version's schema.
_SEED = {
    1: [
        "INSERT INTO conversations (id, title, system_prompt, created_at, updated_at) "
        "VALUES (1, 'Old trip', 'be nice', 1, 2)",
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, "
        "created_at, updated_at) VALUES (1, 1, NULL, 'user', 'pack hiking boots', 'done', 1, 1)",
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, "
        "created_at, updated_at) VALUES (2, 1, 1, 'assistant', 'half written', 'streaming', 1, 1)",
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, thinking, status, "
        "created_at, updated_at) VALUES (3, 1, 1, 'assistant', 'boots first', "
        "'ponder the zebras', 'done', 1, 1)",
        "UPDATE conversations SET active_leaf_id = 2 WHERE id = 1",
        "INSERT INTO settings (key, value) VALUES ('theme', 'dark')",
    ],
    2: [],
    3: [
        "INSERT INTO egress_log (time, action, host, port, module, mode, allowed) "
        "VALUES (5, 'connect', 'example.org', 443, 'urllib', 'local-only', 0)",
    ],
}


def _db_at(path, version: int):
    key = RawKey(secrets.token_hex(32))
    db = connect(path, key)
    migrate(db, target=version)
    assert schema_version(db) == version
    for v in range(1, version + 1):
        for statement in _SEED.get(v, []):
            db.execute(statement)
    return db, key


def test_numbers_strictly_increase():
    check_order(MIGRATIONS)
    assert [m.number for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    noop = lambda db: None  # noqa: E731
    with pytest.raises(ValueError, match="strictly increase"):
        check_order([Migration(1, "a", noop), Migration(1, "b", noop)])
    with pytest.raises(ValueError, match="strictly increase"):
        check_order([Migration(2, "a", noop), Migration(1, "b", noop)])


@pytest.mark.parametrize("start", range(LATEST_VERSION))
def test_upgrade_from_every_earlier_version(tmp_path, start):
    db, key = _db_at(tmp_path / "old.db", start)
    assert migrate(db) == LATEST_VERSION
    assert schema_version(db) == LATEST_VERSION
    db.close()
    if start >= 1:
        # Data written by the old version is intact and searchable (m0002 indexed it).
        db = connect(tmp_path / "old.db", key)
        assert db.execute("SELECT title FROM conversations").fetchall() == [("Old trip",)]
        assert db.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'hiking'"
        ).fetchall() == [(1,)]
        assert (
            db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'half'").fetchall()
            == []
        )  # streaming rows wait until finished
        assert db.execute(
            "SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH 'trip'"
        ).fetchall() == [(1,)]
        db.close()


@pytest.mark.parametrize("start", range(1, LATEST_VERSION + 1))
def test_store_opens_old_version_and_recovers(keychain, db_path, start):
    db, key = _db_at(db_path, start)
    db.close()
    keychain.save(key)
    with open_store(db_path) as store:
        path = store.active_path(1)
        assert [m.content for m in path] == ["pack hiking boots", "half written"]
        assert path[1].status == "interrupted"
        assert store.get_setting("theme") == "dark"
        assert [h.message_id for h in store.search("half")] == [2]
        # Thinking written by any earlier version is searchable once m0004 has run.
        assert [h.message_id for h in store.search("zebras")] == [3]
        kept = [(e.host, e.port, e.allowed) for e in store.egress_history()]
        assert kept == ([("example.org", 443, False)] if start >= 3 else [])


def test_each_migration_alone(tmp_path):
    for migration in MIGRATIONS:
        db, _ = _db_at(tmp_path / f"m{migration.number}.db", migration.number - 1)
        assert migrate(db, target=migration.number) == migration.number
        db.close()


def test_database_from_the_future_is_refused_untouched(keychain, db_path):
    db, key = _db_at(db_path, LATEST_VERSION)
    db.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    db.close()
    keychain.save(key)
    before = db_path.read_bytes()
    with pytest.raises(DatabaseTooNew) as info:
        open_store(db_path)
    assert info.value.found == LATEST_VERSION + 1
    assert "Do not delete" in info.value.next_step
    assert db_path.read_bytes() == before


def test_failing_migration_rolls_back_everything(tmp_path):
    db, _ = _db_at(tmp_path / "f.db", 0)

    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        conn.execute("SELECT * FROM no_such_table")

    steps = [*MIGRATIONS, Migration(LATEST_VERSION + 1, "m9999_broken", broken)]
    with pytest.raises(MigrationFailed, match="m9999_broken"):
        migrate(db, steps)
    assert schema_version(db) == 0  # not even the good ones: one transaction
    assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    db.close()


def test_m0005_documents_on_a_version_4_history(keychain, db_path):
    db, key = _db_at(db_path, 4)
    db.close()
    keychain.save(key)
    with open_store(db_path) as store:
        assert store.conversation_library(1) is None  # old conversations: no library
        library = store.create_library("Taxes")
        store.set_conversation_library(1, library.id)
        assert store.conversation_library(1) == library
        assert store.list_libraries()[0].documents == 0
        assert store.active_path(1)[0].content == "pack hiking boots"  # old data intact


def test_an_upgrade_keeps_an_encrypted_copy_until_the_next_start(keychain, db_path):
    db, key = _db_at(db_path, 4)
    db.close()
    keychain.save(key)
    snapshot = snapshot_path(db_path)
    with open_store(db_path) as store:
        assert store.active_path(1)[0].content == "pack hiking boots"
    assert snapshot.is_file() and stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    old = connect(snapshot, key)  # the same key opens it: it is the database as it was
    assert schema_version(old) == 4
    assert old.execute("SELECT content FROM messages WHERE id = 1").fetchone() == (
        "pack hiking boots",
    )
    old.close()
    assert b"hiking" not in snapshot.read_bytes()  # encrypted like the database
    with open_store(db_path):  # the next start that needs no upgrade: the copy goes
        pass
    assert not snapshot.exists()


def test_a_new_database_needs_no_copy(keychain, db_path):
    with open_store(db_path):
        pass
    assert not snapshot_path(db_path).exists()
