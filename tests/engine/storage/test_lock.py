"""Locking the store: the connection closes and the key leaves memory; unlocking reopens it
from the keychain (or the passphrase) with everything in place."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.policy.types import Action, EgressAttempt, Mode
from engine.storage import (
    InvalidPassphrase,
    Keychain,
    StoreClosed,
    WrongKey,
    open_memory_store,
    open_store,
)
from engine.storage.keys import Passphrase, RawKey


def _entry(host: str) -> EgressAttempt:
    return EgressAttempt(
        time=datetime.now(UTC),
        action=Action.CONNECT,
        host=host,
        port=443,
        module="tests",
        mode=Mode.LOCAL_ONLY,
        allowed=False,
    )


def _live_keys() -> list[object]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, RawKey | Passphrase)]


def test_lock_closes_the_connection_and_drops_the_key(keychain: Keychain, db_path: Path):
    with open_store(db_path) as store:
        conv = store.create_conversation("Secret plans")
        store.add_message(conv.id, None, "user", "the launch code is 1234")
        key = store._key
        assert isinstance(key, RawKey)
        key_id = id(key)
        del key
        store.lock()
        assert store.locked and store._conn is None and store._key is None
        assert key_id not in {id(o) for o in _live_keys()}  # no object holds it any more
        with pytest.raises(StoreClosed):
            store.list_conversations()
        with pytest.raises(StoreClosed):
            store.get_setting("x")
        store.lock()  # idempotent
        store.unlock()
        assert not store.locked
        assert [c.title for c in store.list_conversations()] == ["Secret plans"]
        assert store.active_path(conv.id)[0].content == "the launch code is 1234"
        store.set_setting("after", "unlock")  # writes work again
        assert store.get_setting("after") == "unlock"


def test_unlock_needs_the_keychain_key(keychain: Keychain, db_path: Path):
    with open_store(db_path) as store:
        store.create_conversation("x")
        store.lock()
        real = keychain.load()
        keychain.save(RawKey("ab" * 32))  # another key: the file does not open with it
        with pytest.raises(WrongKey):
            store.unlock()
        assert store.locked
        assert real is not None
        keychain.save(real)
        store.unlock()
        assert len(store.list_conversations()) == 1


def test_egress_entries_wait_while_locked(keychain: Keychain, db_path: Path):
    with open_store(db_path) as store:
        store.record_egress(_entry("before.example"))
        store.lock()
        store.record_egress(_entry("during.example"))  # no error: kept in memory
        store.unlock()
        assert [e.host for e in store.egress_history()] == ["before.example", "during.example"]
        assert store.egress_count() == 2


def test_passphrase_store_unlocks_with_its_passphrase(tmp_path: Path):
    path = tmp_path / "p.db"
    with open_store(path, passphrase="correct horse") as store:
        store.create_conversation("kept")
        store.lock()
        with pytest.raises(InvalidPassphrase):
            store.unlock()
        with pytest.raises(WrongKey):
            store.unlock(passphrase="wrong horse")
        assert store.locked
        store.unlock(passphrase="correct horse")
        assert [c.title for c in store.list_conversations()] == ["kept"]


def test_memory_store_refuses_calls_while_locked_and_keeps_its_data():
    with open_memory_store() as store:
        store.create_conversation("in memory")
        store.lock()
        with pytest.raises(StoreClosed):
            store.list_conversations()
        store.unlock()
        assert [c.title for c in store.list_conversations()] == ["in memory"]


def test_close_while_locked_is_clean(keychain: Keychain, db_path: Path):
    store = open_store(db_path)
    store.lock()
    store.close()
    assert store.closed and not store.locked
    with pytest.raises(StoreClosed):
        store.list_conversations()
