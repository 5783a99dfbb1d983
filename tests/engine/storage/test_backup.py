"""Rekey, encrypted backup and restore, forget everything."""

from __future__ import annotations

import keyring
import pytest

from engine.storage import (
    DatabaseCorrupt,
    DiskFull,
    NotADatabase,
    PassphraseRequired,
    WrongKey,
    open_store,
)
from engine.storage.keys import ENTRY, SERVICE
from tests.engine import test_disk_full
from tests.engine.test_disk_full import fill

small_disk = test_disk_full.small_disk  # a real small tmpfs, as the disk-full tests use


def test_rekey_to_new_random_key(store, db_path, keychain):
    conv = store.create_conversation("kept across rekey")
    old = keychain.load()
    store.rekey()
    new = keychain.load()
    assert new is not None and new != old
    assert keychain.load_pending() is None
    store.add_message(conv.id, None, "user", "after rekey")
    store.close()
    with open_store(db_path) as reopened:
        assert [m.content for m in reopened.active_path(conv.id)] == ["after rekey"]
        reopened.verify()
    keychain.save(old)
    with pytest.raises(WrongKey):
        open_store(db_path)


def test_rekey_between_keychain_and_passphrase(store, db_path, keychain):
    store.create_conversation("c")
    store.rekey(passphrase="hunter2 but longer")
    assert store.protection == "passphrase"
    assert keychain.load() is None  # the dead key was removed
    store.close()
    with pytest.raises(PassphraseRequired):  # it says so, rather than "no key"
        open_store(db_path)
    with open_store(db_path, passphrase="hunter2 but longer") as s2:
        assert len(s2.list_conversations()) == 1
        s2.rekey()  # back to a random key in the keychain
        assert s2.protection == "keychain"
    with open_store(db_path) as s3:
        assert len(s3.list_conversations()) == 1


def test_backup_and_restore(store, db_path, tmp_path):
    conv = store.create_conversation("Before backup")
    store.add_message(conv.id, None, "user", "backed up text")
    store.set_setting("k", "v")
    dest = tmp_path / "backups" / "hearth-backup.db"
    dest.parent.mkdir()
    store.backup(dest, "backup passphrase")
    assert dest.stat().st_mode & 0o777 == 0o600
    assert b"backed up text" not in dest.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["hearth-backup.db"]
    # Change things after the backup, then restore.
    store.create_conversation("After backup")
    store.rename(conv.id, "renamed later")
    store.restore(dest, "backup passphrase")
    assert [c.title for c in store.list_conversations()] == ["Before backup"]
    assert [m.content for m in store.active_path(conv.id)] == ["backed up text"]
    assert store.get_setting("k") == "v"
    assert [h.conversation_id for h in store.search("backed")] == [conv.id]
    store.verify()
    store.add_message(conv.id, None, "user", "writes still work")
    store.close()
    with open_store(db_path) as reopened:  # still under the keychain key
        assert len(reopened.all_messages(conv.id)) == 2
    assert not list(db_path.parent.glob(".*tmp*"))


def test_failed_restore_leaves_current_database(store, db_path, tmp_path):
    conv = store.create_conversation("current")
    dest = tmp_path / "b.db"
    store.backup(dest, "right")
    with pytest.raises(WrongKey, match="backup"):
        store.restore(dest, "wrong")
    junk = tmp_path / "junk.db"
    junk.write_text("not a backup")
    with pytest.raises(NotADatabase):
        store.restore(junk, "right")
    with pytest.raises(NotADatabase):
        store.restore(tmp_path / "missing.db", "right")
    data = bytearray(dest.read_bytes())
    data[-100] ^= 1
    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(bytes(data))
    with pytest.raises(DatabaseCorrupt):
        store.restore(tampered, "right")
    assert store.get_conversation(conv.id).title == "current"
    assert not list(db_path.parent.glob(".*tmp*"))


def test_forget_everything(store, db_path, keychain):
    store.create_conversation("to forget")
    assert keyring.get_password(SERVICE, ENTRY) is not None
    store.forget_everything()
    assert store.closed
    assert keyring.get_password(SERVICE, ENTRY) is None
    assert list(db_path.parent.iterdir()) == []
    with open_store(db_path) as fresh:  # a fresh start, with a new key
        assert fresh.list_conversations() == []


def test_forget_everything_takes_the_copy_made_before_an_upgrade(store, db_path, keychain):
    from engine.storage.store import snapshot_path

    store.create_conversation("to forget")
    # As an upgrade leaves it: an encrypted copy beside the database.
    snapshot_path(db_path).write_bytes(db_path.read_bytes())
    store.forget_everything()
    assert list(db_path.parent.iterdir()) == []


def test_a_backup_onto_a_full_disk_is_named_disk_full_and_leaves_no_file(store, small_disk):
    # sqlcipher_export says SQLITE_ERROR ("database or disk is full") for the attached file.
    store.create_conversation("c")
    fill(small_disk)
    there = sorted(small_disk.iterdir())
    with pytest.raises(DiskFull):
        store.backup(small_disk / "backup.db", "correct horse battery")
    assert sorted(small_disk.iterdir()) == there
