"""Where the key lives: the real Secret Service, no keychain at all, a locked keychain."""

from __future__ import annotations

import keyring.backends.fail
import pytest

from engine.storage import (
    InvalidPassphrase,
    Keychain,
    KeychainLocked,
    KeychainUnavailable,
    KeyNotFound,
    WrongKey,
    open_store,
)
from engine.storage.keys import ENTRY, SERVICE
from tests.engine.storage.conftest import LockedBackend


def test_first_run_creates_random_key_in_the_real_keychain(keychain, db_path):
    with open_store(db_path) as store:
        assert store.protection == "keychain"
        assert "keychain" in store.protection_description
    stored = keyring.get_password(SERVICE, ENTRY)
    assert stored is not None
    assert len(stored) == 64
    int(stored, 16)
    assert keychain.backend_name == "SecretService Keyring"
    # Second open uses the same key; nothing new is created.
    with open_store(db_path) as store:
        store.create_conversation("again")
    assert keyring.get_password(SERVICE, ENTRY) == stored


def test_database_file_is_private(keychain, db_path):
    with open_store(db_path) as store:
        store.create_conversation("x")
        for suffix in ("", "-wal", "-shm"):
            mode = (db_path.parent / (db_path.name + suffix)).stat().st_mode & 0o777
            assert mode == 0o600, suffix
    assert db_path.parent.stat().st_mode & 0o777 == 0o700


def test_no_keychain_and_no_passphrase_is_an_explicit_error(db_path):
    none = Keychain(backend=keyring.backends.fail.Keyring())
    assert not none.available()
    with pytest.raises(KeychainUnavailable) as info:
        open_store(db_path, keychain=none)
    assert "passphrase" in str(info.value)
    assert not db_path.exists()  # no silent plaintext (or any) fallback


def test_passphrase_protection_without_a_keychain(db_path):
    none = Keychain(backend=keyring.backends.fail.Keyring())
    with open_store(db_path, passphrase="correct horse", keychain=none) as store:
        assert store.protection == "passphrase"
        assert store.protection_description == "Encrypted with your passphrase."
        store.create_conversation("secret plans")
    with open_store(db_path, passphrase="correct horse", keychain=none) as store:
        assert [c.title for c in store.list_conversations()] == ["secret plans"]
    with pytest.raises(WrongKey) as info:
        open_store(db_path, passphrase="wrong horse", keychain=none)
    assert "passphrase" in info.value.user_message


def test_passphrase_with_quotes_round_trips(db_path):
    none = Keychain(backend=keyring.backends.fail.Keyring())
    phrase = 'it\'s "quoted"; DROP TABLE x; --'
    with open_store(db_path, passphrase=phrase, keychain=none) as store:
        store.create_conversation("q")
    with open_store(db_path, passphrase=phrase, keychain=none) as store:
        assert len(store.list_conversations()) == 1


@pytest.mark.parametrize("phrase", ["", "a\x00b", "x'00ff'"])
def test_unusable_passphrases_are_refused(db_path, phrase):
    with pytest.raises(InvalidPassphrase):
        open_store(db_path, passphrase=phrase)
    assert not db_path.exists()


def test_locked_keychain_is_a_typed_error(db_path):
    locked = Keychain(backend=LockedBackend())
    with pytest.raises(KeychainLocked) as info:
        open_store(db_path, keychain=locked)
    assert "Unlock" in info.value.next_step
    assert not db_path.exists()


def test_missing_key_for_existing_database_never_replaces_it(keychain, db_path):
    with open_store(db_path) as store:
        store.create_conversation("keep me")
    before = db_path.read_bytes()
    keychain.delete()
    with pytest.raises(KeyNotFound) as info:
        open_store(db_path)
    assert "passphrase" in info.value.next_step
    assert db_path.read_bytes() == before
    assert keychain.load() is None  # no new key was invented over the file


def test_wrong_key_in_keychain_leaves_file_untouched(keychain, db_path):
    with open_store(db_path) as store:
        store.create_conversation("keep me")
    before = db_path.read_bytes()
    keyring.set_password(SERVICE, ENTRY, "ab" * 32)
    with pytest.raises(WrongKey):
        open_store(db_path)
    assert db_path.read_bytes() == before


def test_interrupted_rekey_recovers_with_pending_key(keychain, db_path):
    # Simulate a crash after the file was re-encrypted but before the keychain was updated.
    with open_store(db_path) as store:
        store.create_conversation("survives")
        old = keychain.load()
        store.rekey()
        new = keychain.load()
    assert old is not None and new is not None and old != new
    keychain.save(old)
    keychain.save_pending(new)
    with open_store(db_path) as store:
        assert [c.title for c in store.list_conversations()] == ["survives"]
    assert keychain.load() == new
    assert keychain.load_pending() is None
