"""What a thief, a backup or another app sees on disk: nothing, even after decryption for
deleted conversations; and bad files are refused without being touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.storage import DatabaseCorrupt, NotADatabase, WrongKey, open_store
from engine.storage.types import Source
from tests.engine._cli_run import files_containing
from tests.engine.storage.conftest import (
    PAGE_SIZE,
    decrypted_db_pages,
    decrypted_wal_frames,
    raw_connect,
)

CANARY = "Zq7canaryXylophone"


def _variants(text: str) -> list[bytes]:
    # FTS5 stores lower-cased terms, with a prefix shared with the previous term cut off:
    # look for the tail too.
    return [text.encode(), text.lower().encode(), text.lower()[-10:].encode()]


def _found(blobs: list[bytes], text: str) -> bool:
    return any(v in blob for blob in blobs for v in _variants(text))


def _fill(store, marker: str) -> int:
    conv = store.create_conversation(f"title {marker}", system_prompt=f"prompt {marker}")
    q = store.add_message(conv.id, None, "user", f"question {marker} " * 50)
    r = store.begin_reply(conv.id, q.id, "m")
    text = ""
    for i in range(30):
        text += f"{marker} token{i} "
        store.update_reply(r.id, text, f"thinking {marker}")
    store.finish_reply(r.id, text, f"thinking {marker}", "done")
    store.set_setting(f"setting-{marker}", marker)
    return conv.id


def test_raw_bytes_and_wal_hold_no_plaintext(store, db_path):
    _fill(store, CANARY)
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.stat().st_size > 0  # the WAL is live while the store is open
    for path in (db_path, wal, db_path.with_name(db_path.name + "-shm")):
        data = path.read_bytes()
        assert CANARY.encode() not in data, path.name
        assert CANARY.lower().encode() not in data, path.name
        assert CANARY.encode("utf-16-le") not in data
    assert not db_path.read_bytes().startswith(b"SQLite format 3")
    # Nothing else in the folder (no temp or log files with text).
    assert sorted(p.name for p in db_path.parent.iterdir()) == [
        "hearth.db",
        "hearth.db-shm",
        "hearth.db-wal",
    ]


def _index_document(store, folder: Path, marker: str) -> int:
    from engine.docs import add_sources, update_library

    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{marker}.md").write_text(f"My medical letter mentions {marker} twice: {marker}.")
    library = store.create_library(f"lib {marker}")
    add_sources(store, library, [folder])
    report = update_library(store, library)
    assert report.count("indexed") == 1
    conv = store.create_conversation("asked")
    q = store.add_message(conv.id, None, "user", "what does it say?")
    reply = store.begin_reply(conv.id, q.id, "m")
    (passage,) = store.keyword_search([library.id], marker, 5)
    (p,) = store.passages([passage[0]])
    store.save_sources(reply.id, [Source(1, p.document_id, p.path, p.page, p.text)])
    store.finish_reply(reply.id, "It says so [1].", "", "done")
    return library.id, conv.id


def test_document_text_is_nowhere_on_disk_in_plaintext(store, db_path, fresh_profile, tmp_path):
    originals = tmp_path / "originals"
    _index_document(store, originals, CANARY)
    # The original is the only plaintext copy: not in the database or its WAL, nor in the
    # profile's folders (data, cache, config, state).
    assert files_containing(CANARY, tmp_path) == [originals / f"{CANARY}.md"]
    assert files_containing(CANARY, db_path.parent, fresh_profile) == []
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        assert not _found([path.read_bytes()], CANARY), path.name


def test_removed_library_leaves_no_document_text(store, db_path, keychain, tmp_path):
    keep, _ = _index_document(store, tmp_path / "keep", "KeepMeAlphaOmega42")
    doomed, asked = _index_document(store, tmp_path / "doomed", CANARY)
    key = keychain.load().hex
    wal = db_path.with_name(db_path.name + "-wal")
    assert _found(decrypted_wal_frames(wal, key) + decrypted_db_pages(db_path, key), CANARY)
    store.delete_library(doomed)
    store.delete_conversation(asked)  # the reply's copy of the passage goes with it
    pages = decrypted_db_pages(db_path, key) + decrypted_wal_frames(wal, key)
    assert not _found(pages, CANARY)
    assert _found(pages, "KeepMeAlphaOmega42")
    assert store.library_by_id(keep)


def test_stdlib_sqlite_cannot_read_it(store, db_path):
    _fill(store, CANARY)
    store.close()
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_decryption_helper_sees_live_text(store, db_path, keychain):
    # The positive control for the deletion test below.
    _fill(store, CANARY)
    key = keychain.load().hex
    wal = db_path.with_name(db_path.name + "-wal")
    assert _found(decrypted_wal_frames(wal, key), CANARY)
    store.close()  # checkpoints into the main file
    assert _found(decrypted_db_pages(db_path, key), CANARY)


def test_deleted_conversation_is_absent_from_decrypted_pages_and_wal(store, db_path, keychain):
    keep = "KeepMeAlphaOmega42"
    _fill(store, keep)
    doomed = _fill(store, CANARY)
    store.delete_setting(f"setting-{CANARY}")
    key = keychain.load().hex
    wal = db_path.with_name(db_path.name + "-wal")
    assert _found(decrypted_wal_frames(wal, key) + decrypted_db_pages(db_path, key), CANARY)
    store.delete_conversation(doomed)
    pages = decrypted_db_pages(db_path, key) + decrypted_wal_frames(wal, key)
    assert not _found(pages, CANARY)
    assert _found(pages, keep)  # the reader works: live text is there
    # Still true once the store writes more and closes.
    store.add_message(store.create_conversation("after").id, None, "user", "more text")
    store.close()
    pages = decrypted_db_pages(db_path, key) + decrypted_wal_frames(wal, key)
    assert not _found(pages, CANARY)
    assert _found(pages, keep)


def test_wrong_key_is_refused_and_file_untouched(store, db_path):
    _fill(store, CANARY)
    store.close()
    before = db_path.read_bytes()
    with pytest.raises(WrongKey):
        open_store(db_path, passphrase="not the key")
    assert db_path.read_bytes() == before


def _read_everything(store) -> None:
    for c in store.list_conversations():
        store.all_messages(c.id)


def test_tampered_page_is_detected(store, db_path, keychain):
    conv = _fill(store, CANARY)
    for _ in range(3):
        _fill(store, "filler")
    store.close()
    data = bytearray(db_path.read_bytes())
    assert len(data) // PAGE_SIZE > 4
    last = len(data) - PAGE_SIZE
    data[last + 100] ^= 0x01  # one bit, in the last page
    db_path.write_bytes(bytes(data))
    with open_store(db_path) as reopened:
        with pytest.raises(DatabaseCorrupt) as info:
            reopened.verify()
        assert CANARY not in str(info.value)
        with pytest.raises(DatabaseCorrupt):
            _read_everything(reopened)
    assert db_path.read_bytes() == bytes(data)  # never "repaired"
    conn = raw_connect(db_path, keychain.load().hex)
    rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    conn.close()
    assert any("HMAC" in r[0] for r in rows)
    del conv


def test_tampered_first_page_is_refused(store, db_path):
    _fill(store, CANARY)
    store.close()
    data = bytearray(db_path.read_bytes())
    data[200] ^= 0x01
    db_path.write_bytes(bytes(data))
    with pytest.raises(WrongKey) as info:
        open_store(db_path)
    assert "altered" in info.value.user_message
    assert db_path.read_bytes() == bytes(data)


def test_plain_sqlite_file_is_not_a_hearth_database(keychain, db_path):
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(NotADatabase, match="unencrypted"):
        open_store(db_path)
    assert db_path.read_bytes() == before


def test_text_file_is_not_a_database(keychain, db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_text("just some notes\n")
    with pytest.raises(NotADatabase):
        open_store(db_path)
    assert db_path.read_text() == "just some notes\n"


def test_random_bytes_are_refused(keychain, db_path):
    import os

    db_path.parent.mkdir(parents=True)
    junk = os.urandom(PAGE_SIZE * 2)
    db_path.write_bytes(junk)
    with pytest.raises(WrongKey):
        open_store(db_path, passphrase="any")
    assert db_path.read_bytes() == junk
