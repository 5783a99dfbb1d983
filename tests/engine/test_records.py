"""The ways out of and back into the store (engine.records), below the window and the CLI:
what is refused before anything is written, and an export that never overwrites."""

from __future__ import annotations

import pytest

from engine import records
from engine.storage import NotADatabase, StorageError, WrongKey, open_memory_store

PASSPHRASE = "correct horse battery"


def test_a_history_in_memory_is_neither_backed_up_nor_restored_into(tmp_path):
    store = open_memory_store()
    with pytest.raises(StorageError, match="kept in memory only"):
        records.backup(store, tmp_path / "b.db", PASSPHRASE)
    with pytest.raises(StorageError, match="kept in memory only"):
        records.restore_plan(store, tmp_path / "b.db", PASSPHRASE)
    assert list(tmp_path.iterdir()) == []


def test_a_short_passphrase_writes_no_backup(store, tmp_path):
    with pytest.raises(StorageError, match="at least 8 characters"):
        records.backup(store, tmp_path / "b.db", "short")
    assert list(tmp_path.glob("b.db*")) == []


def test_files_that_are_no_backup_are_named_and_left_as_they_are(store, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(NotADatabase, match=r"empty\.db is empty"):
        records.restore_plan(store, empty, PASSPHRASE)
    random = tmp_path / "random.db"
    random.write_bytes(bytes(range(256)) * 16)  # the size of a page: not refused by size
    with pytest.raises(WrongKey, match="not a Hearth backup"):
        records.restore_plan(store, random, PASSPHRASE)
    assert random.read_bytes() == bytes(range(256)) * 16 and empty.stat().st_size == 0


def test_a_backup_restores_what_is_missing_and_an_export_never_overwrites(store, tmp_path):
    conv = store.create_conversation("Trip")
    store.add_message(conv.id, None, "user", "Where to?")
    assert records.backup(store, tmp_path / "b.db", PASSPHRASE) == 1
    store.delete_conversation(conv.id)
    assert [t for _, t in records.restore_plan(store, tmp_path / "b.db", PASSPHRASE).new] == [
        "Trip"
    ]
    assert len(records.restore(store, tmp_path / "b.db", PASSPHRASE).new) == 1
    assert records.restore(store, tmp_path / "b.db", PASSPHRASE).already_here == 1
    first = records.export_conversations(store, tmp_path / "out", "md")
    assert first.written == 1 and first.existing == []
    again = records.export_conversations(store, tmp_path / "out", "md")
    assert again.written == 0 and [p.name for p in again.existing] == [
        p.name for p in (tmp_path / "out").iterdir()
    ]
