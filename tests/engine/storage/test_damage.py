"""A damaged history is found at open, before anything writes to it; it opens read-only and
Recover copies what is readable into a new file, keeping the damaged one aside unchanged.
Real SQLCipher files, damaged by flipping one bit, as a failing disk does."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from pathlib import Path

import pytest

from engine.storage import DatabaseCorrupt, DatabaseDamaged, StorageError, open_store
from engine.storage import health as health_module
from engine.storage.health import read_wal_damage
from tests.engine.storage.conftest import PAGE_SIZE, WAL_FRAME_HEADER, WAL_HEADER

CONVERSATIONS = 19


def _fill(path: Path) -> None:
    with open_store(path) as store:
        for i in range(CONVERSATIONS):
            c = store.create_conversation(f"conversation {i}")
            q = store.add_message(c.id, None, "user", f"question {i} " + "x" * 3000)
            store.add_message(c.id, q.id, "assistant", f"answer {i} " + "y" * 3000)


def _digests(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in folder.iterdir()}


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _damage_a_message_page(path: Path) -> None:
    """Flip a bit in a page that holds message text only: the history opens damaged, and
    every conversation is still listed."""
    base = path.read_bytes()
    for page in range(len(base) // PAGE_SIZE, 1, -1):
        path.write_bytes(base)
        _flip(path, (page - 1) * PAGE_SIZE + 100)
        try:
            store = open_store(path)
        except DatabaseCorrupt:
            continue  # a page of the schema
        with store:
            try:
                listed = len(store.list_conversations())
            except DatabaseCorrupt:
                continue  # a page of the conversations' table or an index
            if store.damage is None or listed != CONVERSATIONS:
                continue
            try:
                for summary in store.list_conversations():
                    store.active_path(summary.id)
            except StorageError:
                return
    pytest.fail("no page held message text only")


def _every_write_is_refused(store) -> None:
    conversation = store.list_conversations()[0] if store.list_conversations() else None
    writes = [
        lambda: store.create_conversation("new"),
        lambda: store.set_setting("k", "v"),
    ]
    if conversation is not None:
        writes += [
            lambda: store.rename(conversation.id, "renamed"),
            lambda: store.delete_conversation(conversation.id),
        ]
    for write in writes:
        with pytest.raises(DatabaseDamaged) as info:
            write()
        assert "read-only" in info.value.user_message
        assert "Recover" in info.value.next_step


@pytest.mark.parametrize("page", range(2, 21))
def test_a_damaged_page_is_found_at_open_and_nothing_is_written(keychain, db_path, page):
    _fill(db_path)
    _flip(db_path, (page - 1) * PAGE_SIZE + 100)
    before = db_path.read_bytes()
    refused: DatabaseCorrupt | None = None
    try:
        store = open_store(db_path)
    except DatabaseCorrupt as exc:
        refused = exc  # the page held part of the schema: no table can be read at all
    else:
        with store:
            assert store.damage is not None, f"page {page}"
            assert "damaged" in store.damage.describe()
            with contextlib.suppress(DatabaseCorrupt):  # reading the damaged page
                _every_write_is_refused(store)
                for summary in store.list_conversations():
                    store.active_path(summary.id)
    if refused is not None:
        assert "left exactly as it is" in refused.next_step
    assert db_path.read_bytes() == before


def test_writes_are_refused_while_reads_still_work(keychain, db_path):
    _fill(db_path)
    _damage_a_message_page(db_path)
    with open_store(db_path) as store:
        assert store.damage is not None
        assert len(store.list_conversations()) == CONVERSATIONS
        _every_write_is_refused(store)
        store.lock()
        store.unlock()  # still read-only after a lock
        _every_write_is_refused(store)


def test_recover_copies_the_readable_conversations_and_keeps_the_damaged_file(keychain, db_path):
    _fill(db_path)
    _damage_a_message_page(db_path)
    damaged = db_path.read_bytes()
    with open_store(db_path) as store:
        readable = set()
        for message_id in range(1, 2 * CONVERSATIONS + 1):
            try:
                readable.add(store.get_message(message_id).content)
            except StorageError:
                continue
        assert 0 < len(readable) < 2 * CONVERSATIONS
        report = store.recover()
        assert store.damage is None
        summaries = store.list_conversations()
        assert store.create_conversation("after recovery").id  # writable again
    assert report.kept_at.parent == db_path.parent
    assert (report.kept_at / db_path.name).read_bytes() == damaged  # aside, untouched
    assert oct(report.kept_at.stat().st_mode & 0o777) == "0o700"
    # Every message that could be read is back, in every conversation.
    assert report.conversations == len(summaries) == CONVERSATIONS
    assert report.messages == len(readable) == 2 * CONVERSATIONS - report.messages_lost
    assert str(report.kept_at) in report.describe()
    with open_store(db_path) as reopened:  # a whole file now
        assert reopened.damage is None
        reopened.verify()
        texts = {m.content for s in summaries for m in reopened.all_messages(s.id)}
        assert texts == readable
        assert reopened.search("question")  # the keyword index was rebuilt


def test_recover_reads_row_by_row_past_a_damaged_page(keychain, db_path):
    _fill(db_path)
    # Damage every page in turn until one costs messages but not all of them.
    base = db_path.read_bytes()
    pages = len(base) // PAGE_SIZE
    for page in range(2, pages + 1):
        db_path.write_bytes(base)
        _flip(db_path, (page - 1) * PAGE_SIZE + 100)
        try:
            store = open_store(db_path)
        except DatabaseCorrupt:
            continue  # a page of the schema
        with store:
            report = store.recover()
        if report.messages_lost > 0 and report.messages > CONVERSATIONS:
            break
        shutil.rmtree(report.kept_at)
    else:
        pytest.fail("no page held only some of the messages")
    assert report.messages + report.messages_lost == 2 * CONVERSATIONS
    assert f"{report.messages_lost} message(s) could not be read" in report.describe()


def test_a_healthy_store_opens_writable_and_cannot_be_recovered(keychain, db_path):
    _fill(db_path)
    with open_store(db_path) as store:
        assert store.damage is None
        store.create_conversation("fine")
        with pytest.raises(StorageError, match="not damaged"):
            store.recover()


def test_a_check_that_runs_out_of_time_is_finished_in_the_background(
    keychain, db_path, monkeypatch
):
    _fill(db_path)
    _damage_a_message_page(db_path)
    monkeypatch.setattr(health_module.quick_check, "__defaults__", (0.0,))
    monkeypatch.setattr(health_module, "_PROGRESS_STEPS", 1)
    with open_store(db_path) as store:
        assert store.damage is None and store.check_pending
        damage = store.full_check()
        assert damage is not None and damage.problems
        store.mark_damaged(damage)
        with pytest.raises(DatabaseDamaged):
            store.create_conversation("no")


# -- the write-ahead log ----------------------------------------------------------------------


def _crashed_copy(db_path: Path, tmp_path: Path) -> Path:
    """The files as a crash would leave them: committed changes still in the -wal."""
    with open_store(db_path) as store:
        store._checkpoint()
        for i in range(5):
            store.create_conversation(f"in the journal {i}")
        copy = tmp_path / "crashed"
        copy.mkdir()
        shutil.copy(db_path, copy / db_path.name)
        shutil.copy(f"{db_path}-wal", copy / f"{db_path.name}-wal")
    return copy / db_path.name


def test_an_intact_journal_is_replayed_and_not_reported(keychain, db_path, tmp_path):
    _fill(db_path)
    copy = _crashed_copy(db_path, tmp_path)
    assert Path(f"{copy}-wal").stat().st_size > WAL_HEADER
    assert read_wal_damage(copy) is None  # our reading of the checksums agrees with SQLite's
    with open_store(copy) as store:
        assert store.damage is None
        assert len(store.list_conversations()) == CONVERSATIONS + 5


def test_a_torn_last_frame_is_a_normal_crash_not_damage(keychain, db_path, tmp_path):
    _fill(db_path)
    copy = _crashed_copy(db_path, tmp_path)
    wal = Path(f"{copy}-wal")
    wal.write_bytes(wal.read_bytes()[: -PAGE_SIZE // 2])  # the last write cut in half
    assert read_wal_damage(copy) is None
    with open_store(copy) as store:
        assert store.damage is None


def test_a_damaged_journal_frame_is_reported_never_dropped_silently(keychain, db_path, tmp_path):
    _fill(db_path)
    copy = _crashed_copy(db_path, tmp_path)
    wal = Path(f"{copy}-wal")
    _flip(wal, WAL_HEADER + WAL_FRAME_HEADER + 200)  # inside the first frame's page
    files = _digests(copy.parent)
    damage = read_wal_damage(copy)
    assert damage is not None and damage.lost_commits == 5
    with open_store(copy) as store:
        assert store.damage is not None and store.damage.wal is not None
        assert "the last 5 saved changes" in store.damage.describe()
        _every_write_is_refused(store)
        assert len(store.list_conversations()) == CONVERSATIONS  # what SQLite could replay
    after = _digests(copy.parent)
    assert after[copy.name] == files[copy.name]
    assert after[wal.name] == files[wal.name]  # the journal is kept, not checkpointed away
    with open_store(copy) as store:
        report = store.recover()
    assert (report.kept_at / wal.name).read_bytes() == wal.read_bytes() if wal.exists() else True
    assert _digests(report.kept_at)[wal.name] == files[wal.name]
    with open_store(copy) as store:
        assert store.damage is None
        assert len(store.list_conversations()) == CONVERSATIONS
