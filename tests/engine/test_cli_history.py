"""``hearth passphrase set|remove`` and ``hearth recover`` through the real CLI, on real
SQLCipher files, with the real Secret Service keyring; passphrases typed on a real
pseudo-terminal where a person would type them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.storage import Keychain, PassphraseRequired, WrongKey, open_store
from engine.storage.keys import passphrase_marker, set_uses_passphrase, uses_passphrase
from engine.storage.store import default_path
from tests.engine._cli_run import Terminal, hearth
from tests.engine.storage.conftest import PAGE_SIZE

PASSPHRASE = "correct horse battery"


def _ask(question: str) -> None:
    done = hearth("ask", "--max-tokens", "6", "--temperature", "0", question)
    assert done.returncode == 0, done.stderr


def test_passphrase_set_moves_the_key_out_of_the_keychain_and_remove_brings_it_back(
    starter_model_path: Path, keychain: Keychain
):
    _ask("Name a planet.")
    short = hearth("passphrase", "set", "--passphrase-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert keychain.load() is not None  # nothing changed
    done = hearth("passphrase", "set", "--passphrase-stdin", stdin=f"{PASSPHRASE}\n")
    assert done.returncode == 0, done.stderr
    assert "asks for the passphrase" in done.stdout
    assert keychain.load() is None and uses_passphrase(default_path())
    with pytest.raises(PassphraseRequired):
        open_store()
    with pytest.raises(WrongKey):
        open_store(passphrase="not it at all")
    with open_store(passphrase=PASSPHRASE) as store:
        (conversation,) = store.list_conversations()
        assert store.active_path(conversation.id)[0].content == "Name a planet."
    # Without a terminal to ask on, the question is still answered, and not saved.
    piped = hearth("ask", "--max-tokens", "4", "Name a river.")
    assert piped.returncode == 0, piped.stderr
    assert "protected by a passphrase" in piped.stderr and "will not be saved" in piped.stderr
    assert "Traceback" not in piped.stderr
    # On a terminal it is asked for: a wrong one first, then the right one.
    term = Terminal("passphrase", "remove")
    try:
        term.wait_for(lambda out: b"Passphrase of your history:" in out)
        term.type(b"wrong passphrase\r")
        term.wait_for(lambda out: out.count(b"Passphrase of your history:") == 2)
        term.type(PASSPHRASE.encode() + b"\r")
        assert term.wait_for_exit() == 0, term.text()
        assert "random key kept in the system keychain" in term.text()
        assert "does not open it" in term.text()
        assert "wrong passphrase" not in term.text()  # never echoed
        assert PASSPHRASE not in term.text()
    finally:
        term.close()
    assert keychain.load() is not None and not uses_passphrase(default_path())
    with open_store() as store:
        assert store.protection == "keychain" and len(store.list_conversations()) == 1


def test_a_question_on_a_terminal_opens_the_passphrase_history_and_is_saved(
    starter_model_path: Path, keychain: Keychain
):
    _ask("Name a planet.")
    done = hearth("passphrase", "set", "--passphrase-stdin", stdin=f"{PASSPHRASE}\n")
    assert done.returncode == 0, done.stderr
    term = Terminal("ask", "--max-tokens", "4", "--temperature", "0", "Name a river.")
    try:
        term.wait_for(lambda out: b"Passphrase of your history:" in out)
        term.type(PASSPHRASE.encode() + b"\r")
        assert term.wait_for_exit() == 0, term.text()
    finally:
        term.close()
    with open_store(passphrase=PASSPHRASE) as store:
        assert len(store.list_conversations()) == 2


def test_a_switch_stopped_half_way_opens_with_the_keychain_key(keychain: Keychain, db_path):
    with open_store(db_path) as store:
        store.create_conversation("kept")
    set_uses_passphrase(db_path, True)  # marked, then the process died before re-encrypting
    with open_store(db_path) as store:
        assert store.protection == "keychain"
        assert [c.title for c in store.list_conversations()] == ["kept"]
    assert not passphrase_marker(db_path).exists()


def test_without_a_keychain_passphrase_set_starts_a_protected_history(tmp_path: Path):
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    refused = hearth("ask", "--max-tokens", "2", "hi", env=env)
    assert "hearth passphrase set" in refused.stderr  # the advice names the command
    done = hearth("passphrase", "set", "--passphrase-stdin", stdin=f"{PASSPHRASE}\n", env=env)
    assert done.returncode == 0, done.stderr
    assert uses_passphrase(default_path())
    with open_store(passphrase=PASSPHRASE) as store:
        assert store.protection == "passphrase"


def _damage_the_last_message_page() -> None:
    path = default_path()
    data = bytearray(path.read_bytes())
    data[len(data) - PAGE_SIZE + 100] ^= 0x01
    path.write_bytes(bytes(data))


def test_recover_on_a_damaged_history(starter_model_path: Path, keychain: Keychain, tmp_path):
    for i in range(3):
        _ask(f"Question {i}: " + "words " * 400)  # long enough for pages of their own
    healthy = hearth("recover")
    assert healthy.returncode == 0 and "not damaged" in healthy.stdout
    _damage_the_last_message_page()
    damaged = default_path().read_bytes()
    answered = hearth("ask", "--max-tokens", "4", "Name a river.")
    assert answered.returncode == 0, answered.stderr
    assert "opened it read-only" in answered.stderr and "hearth recover" in answered.stderr
    assert default_path().read_bytes() == damaged  # the question went to memory only
    exported = hearth("export", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr  # reading still works
    asked = hearth("recover")
    assert asked.returncode == 1 and "Nothing was changed" in asked.stderr
    assert default_path().read_bytes() == damaged
    done = hearth("recover", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Recovered" in done.stdout and "kept, unchanged" in done.stdout
    (kept,) = default_path().parent.glob("damaged-*")
    assert (kept / default_path().name).read_bytes() == damaged
    with open_store() as store:
        assert store.damage is None
        assert store.list_conversations()
    assert "not damaged" in hearth("recover").stdout
