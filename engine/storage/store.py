"""The encrypted conversation store: conversations, the message tree, search, settings.

One SQLCipher connection, used under a lock (the desktop runs storage calls on a single
worker; the lock makes any other caller safe too). Every public method translates sqlite
errors into the typed errors of ``engine.storage.errors``; none carries chat text.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlcipher3

from engine.paths import data_dir, fsync_dir
from engine.policy.types import Action, EgressAttempt, Mode
from engine.storage import backup as _backup
from engine.storage import export as _export
from engine.storage import health as _health
from engine.storage import recovery as _recovery
from engine.storage import search as _search
from engine.storage.db import (
    Connection,
    check_file,
    connect,
    integrity_problems,
    remove_database_files,
    rollback,
    translate,
)
from engine.storage.documents import DocumentRoom
from engine.storage.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseDamaged,
    InvalidPassphrase,
    KeychainError,
    KeychainUnavailable,
    KeyNotFound,
    MigrationFailed,
    PassphraseRequired,
    RecordNotFound,
    ReplyNotStreaming,
    StorageError,
    StoreClosed,
    StoreThreadError,
    WrongKey,
)
from engine.storage.health import Damage
from engine.storage.keys import (
    DbKey,
    Keychain,
    Passphrase,
    Protection,
    RawKey,
    new_raw_key,
    set_uses_passphrase,
    uses_passphrase,
)
from engine.storage.merge import MergeRoom
from engine.storage.migrations import LATEST_VERSION, migrate, schema_version
from engine.storage.passage_search import PassageSearch
from engine.storage.types import (
    FINAL_STATUSES,
    ROLES,
    Conversation,
    ConversationSummary,
    Message,
    MessageStats,
    Role,
    SearchHit,
    Status,
)

DB_FILENAME = "hearth.db"
MEMORY_PATH = Path(":memory:")

_MESSAGE_COLUMNS = (
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.thinking, m.model_id, "
    "m.status, m.prompt_tokens, m.generated_tokens, m.time_to_first_token_s, "
    "m.tokens_per_second, m.created_at, m.updated_at"
)
_CONVERSATION_COLUMNS = "id, title, system_prompt, pinned, active_leaf_id, created_at, updated_at"


def default_path() -> Path:
    """Where the database lives unless told otherwise."""
    return data_dir() / DB_FILENAME


def open_store(
    path: Path | None = None, *, passphrase: str | None = None, keychain: Keychain | None = None
) -> ConversationStore:
    """Open the encrypted store, creating it (and its keychain key) on first run.

    Without ``passphrase`` the key comes from the OS keychain; with one, SQLCipher derives the
    key from it. Streaming replies left by a crash become 'interrupted'.

    Raises: KeychainUnavailable (set a passphrase instead), KeychainLocked, KeychainError,
    KeyNotFound, WrongKey, InvalidPassphrase, NotADatabase, DatabaseCorrupt, DatabaseTooNew,
    MigrationFailed, ReadOnlyStorage, DiskFull, StorageIOError.
    """
    path = path if path is not None else default_path()
    keychain = keychain if keychain is not None else Keychain()
    check_file(path)  # a file that cannot be ours is named as such before any key question
    key: DbKey
    protection: Protection
    if passphrase is not None:
        key = Passphrase(passphrase)
        protection = "passphrase"
    elif uses_passphrase(path):
        found = _keychain_key_if_it_opens(path, keychain)
        if found is None:
            raise PassphraseRequired()
        # A switch to or from a passphrase stopped half-way: the file is under the keychain's key.
        set_uses_passphrase(path, False)
        key, protection = found, "keychain"
    else:
        if not keychain.available():
            raise KeychainUnavailable(f"keyring backend: {keychain.backend_name}")
        key = _key_from_keychain(path, keychain)
        protection = "keychain"
    conn, damage, check_later = _open_checked(path, key)
    if damage is None:
        try:
            _migrate_with_snapshot(conn, path, key)
            _recover_interrupted(conn)
        except BaseException:
            conn.close()
            raise
    store = ConversationStore(conn, path, key, protection, keychain)
    store._damage, store._check_later = damage, check_later
    return store


def _open_checked(path: Path, key: DbKey) -> tuple[Connection, Damage | None, bool]:
    """A connection to ``path``, and what is wrong with it. An existing file is examined
    first through a read-only connection, before anything could write to it; a damaged one
    is returned on that read-only connection. The third value says the quick check ran out
    of time (``ConversationStore.full_check`` finishes it)."""
    if not path.exists() or path.stat().st_size == 0:
        return connect(path, key), None, False
    wal = _health.read_wal_damage(path)  # before any connection: SQLite would drop the frames
    reader = connect(path, key, uri_params="mode=ro")
    try:
        problems = _health.quick_check(reader)
    except BaseException:
        reader.close()
        raise
    if problems or wal is not None:
        return reader, _health.Damage(tuple(problems or ()), wal), False
    reader.close()
    return connect(path, key), None, problems is None


def snapshot_path(path: Path) -> Path:
    """Where the copy made before a schema upgrade is kept (beside the database)."""
    return path.with_name(f"{path.name}.before-upgrade")


def _migrate_with_snapshot(conn: Connection, path: Path, key: DbKey) -> None:
    """Upgrade the schema; before an upgrade of a database that has one, an encrypted copy
    under the same key is written beside it, kept until the next start that needs none
    (by then the upgraded database has opened once more)."""
    version = schema_version(conn)
    snapshot = snapshot_path(path)
    upgrading = 0 < version < LATEST_VERSION
    if upgrading:
        _backup.export_to(conn, snapshot, key)
    try:
        migrate(conn)
    except MigrationFailed as exc:
        if upgrading:
            exc.next_step = (
                f"Nothing was changed, and a copy from before the upgrade is at {snapshot}. "
                "Report this problem, and keep both files."
            )
        raise
    if not upgrading and snapshot.exists():
        remove_database_files(snapshot)


def open_memory_store() -> ConversationStore:
    """A store that writes nothing anywhere: for when there is no keychain and the person has
    not chosen a passphrase. Same behaviour as the file store; gone when closed."""
    try:
        conn = sqlcipher3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except sqlcipher3.Error as exc:
        raise translate(exc) from exc
    return ConversationStore(conn, MEMORY_PATH, new_raw_key(), "memory", Keychain())


def _keychain_key_if_it_opens(path: Path, keychain: Keychain) -> RawKey | None:
    if not keychain.available() or not path.exists() or path.stat().st_size == 0:
        return None
    try:
        return _key_from_keychain(path, keychain)
    except (KeyNotFound, WrongKey, KeychainError):
        return None


def _key_from_keychain(path: Path, keychain: Keychain) -> RawKey:
    """The keychain's key for ``path`` (made and saved first for a new database), tried on a
    read-only connection; the key of an interrupted rekey is tried too, and kept if it is
    the one that opens the file."""
    key = keychain.load()
    pending = keychain.load_pending()
    exists = path.exists() and path.stat().st_size > 0
    if key is None and pending is None:
        if exists:
            raise KeyNotFound()  # never a new key over an existing file
        key = new_raw_key()
        keychain.save(key)  # before the file exists: no database without its key
        return key
    candidates = [k for k in (key, pending) if k is not None]
    if not exists:
        return candidates[0]
    for n, candidate in enumerate(candidates, start=1):
        try:
            connect(path, candidate, uri_params="mode=ro").close()
        except WrongKey:
            if n == len(candidates):
                raise
            continue
        # A rekey was interrupted after re-encrypting: the pending key is the real one now.
        if candidate is pending and candidate != key:
            keychain.save(candidate)
        if pending is not None:
            keychain.delete_pending()
        return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def _recover_interrupted(conn: Connection) -> None:
    try:
        conn.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'")
    except sqlcipher3.Error as exc:
        raise translate(exc) from exc


class ConversationStore(DocumentRoom, PassageSearch, MergeRoom):
    """Conversations and their message trees in one encrypted database. Use ``open_store``."""

    #: update_reply makes a commit durable against power loss at least this often.
    DURABLE_INTERVAL_S = 0.5

    def __init__(
        self, conn: Connection, path: Path, key: DbKey, protection: Protection, keychain: Keychain
    ) -> None:
        self._conn: Connection | None = conn
        self._path = path
        self._key: DbKey | None = key
        self._protection: Protection = protection
        self._keychain = keychain
        self._lock = _ThreadGuard()
        self._synchronous = "NORMAL"
        self._last_durable = time.monotonic()
        self._locked = False
        # Ledger entries that arrive while locked (hosts and programs, never chat text);
        # written when the store is unlocked.
        self._egress_backlog: list[EgressAttempt] = []
        # Set by open_store: what is wrong with the file (then the connection is read-only),
        # and whether the quick check at open ran out of time.
        self._damage: Damage | None = None
        self._check_later = False
        self._init_documents()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def protection(self) -> Protection:
        """ "keychain" (random key in the OS keychain) or "passphrase"."""
        return self._protection

    @property
    def protection_description(self) -> str:
        """A sentence for the person: how their history is protected."""
        if self._protection == "keychain":
            return (
                "Encrypted with a random key kept in the system keychain "
                f"({self._keychain.backend_name})."
            )
        if self._protection == "memory":
            return (
                "Not saved: kept in memory only, and gone when Hearth closes (no system "
                "keychain, and no passphrase set)."
            )
        return "Encrypted with your passphrase."

    @property
    def damage(self) -> Damage | None:
        """What is wrong with the file, when it opened damaged (and read-only); else None."""
        return self._damage

    @property
    def check_pending(self) -> bool:
        """True when the check at open ran out of time: call ``full_check`` off this thread."""
        return self._check_later

    def full_check(self) -> Damage | None:
        """Check every page and the whole structure on a read-only connection of its own, so
        any thread may call it while the store is in use; returns what is wrong, or None.
        Found damage is only reported: ``mark_damaged`` (on the owner thread) acts on it.

        Raises: StoreClosed (locked or closed), and the errors of opening the file.
        """
        key = self._key
        if key is None or self._protection == "memory":
            raise StoreClosed()
        reader = connect(self._path, key, uri_params="mode=ro")
        try:
            problems = _health.full_check(reader)
        finally:
            reader.close()
        self._check_later = False
        return _health.Damage(tuple(problems)) if problems else None

    def mark_damaged(self, damage: Damage) -> None:
        """From now on refuse every write (found by ``full_check`` after the store opened)."""
        with self._lock:
            self._damage = damage
            if self._conn is not None:
                # A read-only connection: closing the read-write one could checkpoint.
                self._conn.execute("PRAGMA query_only = ON")

    def recover(self) -> _recovery.RecoveryReport:
        """Copy every readable conversation of this damaged history into a new file under
        the same key, keep the damaged files aside unchanged, and go on with the new one.

        Raises: StorageError (nothing moved), StoreClosed.
        """
        with self._lock:
            db = self._db()
            if self._damage is None:
                raise StorageError("Your history is not damaged: there is nothing to recover.")
            assert self._key is not None  # _db() refuses a locked store
            self._conn = None
            try:
                conn, report = _recovery.recover(db, self._path, self._key)
            except BaseException:
                try:  # still open when the copy failed: go on reading the damaged file
                    db.execute("SELECT 1")
                    self._conn = db
                except sqlcipher3.ProgrammingError:
                    with contextlib.suppress(StorageError):
                        self._conn = connect(self._path, self._key, uri_params="mode=ro")
                raise
            self._conn, self._damage, self._synchronous = conn, None, "NORMAL"
            backlog, self._egress_backlog = self._egress_backlog, []
        for entry in backlog:
            self.record_egress(entry)
        return report

    @property
    def saved(self) -> bool:
        """False for the in-memory store: nothing reaches the disk."""
        return self._protection != "memory"

    @property
    def closed(self) -> bool:
        return self._conn is None

    def bind_thread(self, ident: int | None) -> None:
        """Refuse calls from any thread but ``ident`` (None: any thread may call again).
        ``StoreOwner`` binds its thread; nothing else needs this."""
        self._lock.owner = ident

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._locked = False
            self._egress_backlog.clear()
            self._forget_documents_cache()
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

    @property
    def locked(self) -> bool:
        return self._locked

    def lock(self) -> None:
        """Close the connection and drop the key from memory until :meth:`unlock`. Every
        other call raises ``StoreClosed`` meanwhile; egress-ledger entries wait in memory.
        The in-memory store keeps its connection (closing it would erase it) but refuses
        every call the same way. Idempotent.
        """
        with self._lock:
            if self._locked or self._conn is None:
                return
            self._locked = True
            self._forget_documents_cache()
            if self._protection == "memory":
                return
            conn, self._conn = self._conn, None
            self._key = None  # the raw key (or passphrase) object is no longer referenced
            conn.close()

    def unlock(self, *, passphrase: str | None = None) -> None:
        """Reopen after :meth:`lock`: the key comes from the keychain again, or from
        ``passphrase`` for a passphrase-protected store. Idempotent when not locked.

        Raises: KeychainLocked, KeychainError, KeyNotFound, WrongKey, InvalidPassphrase
        (also when a passphrase store gets none), and the errors of ``open_store``.
        """
        with self._lock:
            if not self._locked:
                return
            if self._protection != "memory":
                key: DbKey
                if self._protection == "passphrase":
                    if passphrase is None:
                        raise InvalidPassphrase("This history is protected by a passphrase.")
                    key = Passphrase(passphrase)
                else:
                    key = _key_from_keychain(self._path, self._keychain)
                params = "mode=ro" if self._damage is not None else ""
                conn = connect(self._path, key, uri_params=params)
                self._conn, self._key = conn, key
                self._synchronous = "NORMAL"
            self._locked = False
            backlog, self._egress_backlog = self._egress_backlog, []
        for entry in backlog:
            self.record_egress(entry)

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- conversations ---------------------------------------------------------------------

    def create_conversation(self, title: str, system_prompt: str = "") -> Conversation:
        """A new, empty conversation."""
        now = time.time()
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, system_prompt, created_at, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (title, system_prompt, now, now),
            )
            return self._get_conversation(db, int(cur.lastrowid))

    def get_conversation(self, conversation_id: int) -> Conversation:
        """Raises: RecordNotFound."""
        with self._reading() as db:
            return self._get_conversation(db, conversation_id)

    def list_conversations(self) -> list[ConversationSummary]:
        """Pinned first, then most recently active first."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT id, title, updated_at, pinned FROM conversations "
                "ORDER BY pinned DESC, updated_at DESC, id DESC"
            ).fetchall()
        return [ConversationSummary(r[0], r[1], _time(r[2]), bool(r[3])) for r in rows]

    def rename(self, conversation_id: int, title: str) -> None:
        """Raises: RecordNotFound."""
        self._update_conversation(conversation_id, "title", title)

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Raises: RecordNotFound."""
        self._update_conversation(conversation_id, "pinned", int(pinned))

    def set_system_prompt(self, conversation_id: int, system_prompt: str) -> None:
        """Raises: RecordNotFound."""
        self._update_conversation(conversation_id, "system_prompt", system_prompt)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation and every message in it, leaving no trace: secure_delete
        zeroes the freed pages and the WAL is checkpointed and truncated.

        Raises: RecordNotFound.
        """
        with self._transaction() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            cur = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cur.rowcount == 0:
                raise RecordNotFound("That conversation no longer exists.")
        self._documents_changed()  # its attached files went with it
        self._checkpoint()

    # -- messages --------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        parent_id: int | None,
        role: Role,
        content: str,
        *,
        model_id: str = "",
        status: Status = "done",
    ) -> Message:
        """Append a message under ``parent_id`` (None: a root) and make it the active leaf.

        Raises: RecordNotFound (conversation or parent), ValueError (bad role or status).
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if status not in FINAL_STATUSES | {"streaming"}:
            raise ValueError(f"unknown status {status!r}")
        now = time.time()
        with self._transaction() as db:
            self._require_conversation(db, conversation_id)
            if parent_id is not None:
                row = db.execute(
                    "SELECT conversation_id FROM messages WHERE id = ?", (parent_id,)
                ).fetchone()
                if row is None or row[0] != conversation_id:
                    raise RecordNotFound("The message being answered no longer exists.")
            cur = db.execute(
                "INSERT INTO messages (conversation_id, parent_id, role, content, model_id, "
                "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, parent_id, role, content, model_id, status, now, now),
            )
            message_id = int(cur.lastrowid)
            self._activate(db, conversation_id, message_id, touch=now)
            return self._get_message(db, message_id)

    def begin_reply(self, conversation_id: int, parent_id: int | None, model_id: str) -> Message:
        """An empty assistant message with status 'streaming', made the active leaf.

        Raises: RecordNotFound.
        """
        return self.add_message(
            conversation_id, parent_id, "assistant", "", model_id=model_id, status="streaming"
        )

    def resume_reply(self, message_id: int) -> Message:
        """Set an 'interrupted' reply streaming again, to be continued and finished anew.

        Raises: RecordNotFound, ValueError (not an interrupted reply).
        """
        with self._transaction() as db:
            message = self._get_message(db, message_id)
            if message.role != "assistant" or message.status != "interrupted":
                raise ValueError("only a reply that was stopped can be continued")
            db.execute(
                "UPDATE messages SET status = 'streaming', updated_at = ? WHERE id = ?",
                (time.time(), message_id),
            )
            return self._get_message(db, message_id)

    def update_reply(self, message_id: int, content: str, thinking: str = "") -> None:
        """Save the reply so far. Cheap enough to call for every few tokens: each call is
        committed (a killed process loses nothing that was saved), and at least every
        ``DURABLE_INTERVAL_S`` a commit is also flushed to disk (a power cut loses < 1 s).

        Raises: ReplyNotStreaming, RecordNotFound.
        """
        durable = time.monotonic() - self._last_durable >= self.DURABLE_INTERVAL_S
        with self._transaction(durable=durable) as db:
            cur = db.execute(
                "UPDATE messages SET content = ?, thinking = ?, updated_at = ? "
                "WHERE id = ? AND status = 'streaming'",
                (content, thinking, time.time(), message_id),
            )
            if cur.rowcount == 0:
                raise self._not_streaming(db, message_id)

    def finish_reply(
        self,
        message_id: int,
        content: str,
        thinking: str,
        status: Status,
        stats: MessageStats | None = None,
    ) -> Message:
        """Save the final reply with status 'done', 'interrupted' or 'error'.

        Raises: ReplyNotStreaming, RecordNotFound, ValueError (bad status).
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"a finished reply cannot have status {status!r}")
        s = stats or MessageStats()
        now = time.time()
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE messages SET content = ?, thinking = ?, status = ?, prompt_tokens = ?, "
                "generated_tokens = ?, time_to_first_token_s = ?, tokens_per_second = ?, "
                "updated_at = ? WHERE id = ? AND status = 'streaming'",
                (
                    content,
                    thinking,
                    status,
                    s.prompt_tokens,
                    s.generated_tokens,
                    s.time_to_first_token_s,
                    s.tokens_per_second,
                    now,
                    message_id,
                ),
            )
            if cur.rowcount == 0:
                raise self._not_streaming(db, message_id)
            message = self._get_message(db, message_id)
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (now, message.conversation_id),
            )
            return message

    def get_message(self, message_id: int) -> Message:
        """Raises: RecordNotFound."""
        with self._reading() as db:
            return self._get_message(db, message_id)

    def active_path(self, conversation_id: int) -> list[Message]:
        """The active branch, root first. Raises: RecordNotFound."""
        with self._reading() as db:
            self._require_conversation(db, conversation_id)
            rows = db.execute(
                "WITH RECURSIVE path(id, depth) AS ("
                " SELECT active_leaf_id, 0 FROM conversations"
                "  WHERE id = ? AND active_leaf_id IS NOT NULL"
                " UNION ALL SELECT m.parent_id, path.depth + 1 FROM messages m"
                "  JOIN path ON m.id = path.id WHERE m.parent_id IS NOT NULL)"
                f" SELECT {_MESSAGE_COLUMNS} FROM messages m JOIN path ON m.id = path.id"
                " ORDER BY path.depth DESC",
                (conversation_id,),
            ).fetchall()
        return [_message(r) for r in rows]

    def all_messages(self, conversation_id: int) -> list[Message]:
        """Every message of every branch, oldest first. Raises: RecordNotFound."""
        with self._reading() as db:
            self._require_conversation(db, conversation_id)
            rows = db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m "
                "WHERE m.conversation_id = ? ORDER BY m.id",
                (conversation_id,),
            ).fetchall()
        return [_message(r) for r in rows]

    def siblings(self, message_id: int) -> list[Message]:
        """The message and its alternatives (same parent), oldest first.

        Raises: RecordNotFound.
        """
        with self._reading() as db:
            me = self._get_message(db, message_id)
            rows = db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m "
                "WHERE m.conversation_id = ? AND m.parent_id IS ? ORDER BY m.id",
                (me.conversation_id, me.parent_id),
            ).fetchall()
        return [_message(r) for r in rows]

    def switch_branch(self, message_id: int) -> list[Message]:
        """Make ``message_id``'s branch active, descending through each node's most recently
        active child; returns the new active path. Raises: RecordNotFound."""
        with self._transaction() as db:
            me = self._get_message(db, message_id)
            leaf = message_id
            while True:
                child = db.execute(
                    "SELECT id FROM messages WHERE parent_id = ? "
                    "ORDER BY activated DESC, id DESC LIMIT 1",
                    (leaf,),
                ).fetchone()
                if child is None:
                    break
                leaf = int(child[0])
            self._activate(db, me.conversation_id, leaf, touch=None)
        return self.active_path(me.conversation_id)

    def edit_user_message(self, message_id: int, new_content: str) -> Message:
        """A new user message beside ``message_id`` (same parent), made active; the original
        and its replies stay as another branch.

        Raises: RecordNotFound, ValueError (not a user message).
        """
        original = self.get_message(message_id)
        if original.role != "user":
            raise ValueError("only user messages can be edited")
        return self.add_message(original.conversation_id, original.parent_id, "user", new_content)

    # -- search, settings ------------------------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """The conversations matching every word of ``query``, taken literally, one hit each:
        title matches first (best first), then by newest matching message, with how many of
        their messages match; snippets mark matches as «match»."""
        with self._reading() as db:
            return _search.search(db, query, limit)

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """An encrypted setting, or ``default``."""
        with self._reading() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def delete_setting(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM settings WHERE key = ?", (key,))

    # -- export ----------------------------------------------------------------------------

    def export_markdown(self, conversation_id: int) -> str:
        """The active branch as Markdown (explicit user action only). Raises: RecordNotFound."""
        return _export.to_markdown(
            self.get_conversation(conversation_id), self.active_path(conversation_id)
        )

    def export_json(self, conversation_id: int) -> str:
        """The whole tree as JSON (explicit user action only). Raises: RecordNotFound."""
        with self._lock:
            return _export.to_json(
                self.get_conversation(conversation_id),
                self.all_messages(conversation_id),
                self.active_path(conversation_id),
            )

    # -- keys, backup, integrity -----------------------------------------------------------

    def verify(self) -> None:
        """Check every page's HMAC and the b-tree structure. Raises: DatabaseCorrupt."""
        with self._reading() as db:
            problems = integrity_problems(db)
        if problems:
            raise DatabaseCorrupt(f"{len(problems)} problem(s) found")

    def rekey(self, *, passphrase: str | None = None) -> None:
        """Re-encrypt under a new random key in the keychain (no ``passphrase``), or under
        ``passphrase``. Switches protection accordingly.

        Raises: KeychainUnavailable, KeychainLocked, KeychainError, InvalidPassphrase,
        DatabaseDamaged, DiskFull, StorageError.
        """
        self._require_file()
        if self._damage is not None:
            raise DatabaseDamaged(self._damage.describe())
        if passphrase is not None:
            Passphrase(passphrase)  # refused before anything changes
        with self._lock:
            db = self._db()
            if passphrase is None:
                if not self._keychain.available():
                    raise KeychainUnavailable(f"keyring backend: {self._keychain.backend_name}")
                new_key: DbKey = new_raw_key()
                assert isinstance(new_key, RawKey)
                # Pending first: a crash after re-encrypting still leaves the key findable.
                self._keychain.save_pending(new_key)
                self._rekey(db, new_key)
                self._keychain.save(new_key)
                self._keychain.delete_pending()
                self._set_marker(False)
                self._protection = "keychain"
            else:
                new_key = Passphrase(passphrase)
                # Marked first: a crash before the re-encryption leaves the keychain key,
                # which open_store tries before asking for a passphrase.
                self._set_marker(True)
                self._rekey(db, new_key)
                if self._protection == "keychain":
                    # The old key opens nothing now; removing it is tidying up.
                    with contextlib.suppress(KeychainError):
                        self._keychain.delete()
                self._protection = "passphrase"
            self._key = new_key

    def _set_marker(self, on: bool) -> None:
        try:
            set_uses_passphrase(self._path, on)
        except OSError as exc:
            raise _backup.translate_os(exc) from exc

    def backup(self, dest: Path, passphrase: str) -> None:
        """Write an encrypted copy to ``dest`` under ``passphrase`` (atomic replace).

        Raises: InvalidPassphrase, DiskFull, ReadOnlyStorage, StorageIOError.
        """
        self._require_file()
        key = Passphrase(passphrase)
        with self._lock:
            _backup.export_to(self._db(), dest, key)

    def restore(self, src: Path, passphrase: str) -> None:
        """Replace the whole history with the backup at ``src``. The backup is checked and
        copied into a new file first; the current database is replaced only once that worked.

        Raises: InvalidPassphrase, NotADatabase, WrongKey, DatabaseCorrupt, DatabaseTooNew,
        DatabaseBusy, DiskFull, StorageError.
        """
        self._require_file()
        key = Passphrase(passphrase)
        with self._lock:
            self._db()
            current = self._key
            assert current is not None  # _db() refuses a locked store
            tmp = self._path.with_name(f".{self._path.name}.restore.tmp")
            remove_database_files(tmp)
            try:
                _backup.build_restored(src, key, tmp, current)
                self.close()
                wal = Path(f"{self._path}-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    raise DatabaseBusy()  # another connection still has the old WAL
                os.replace(tmp, self._path)
                fsync_dir(self._path.parent)
            except OSError as exc:
                raise _backup.translate_os(exc) from exc
            finally:
                remove_database_files(tmp)
                if self._conn is None:
                    self._conn = connect(self._path, current)
                    migrate(self._conn)
                    _recover_interrupted(self._conn)

    def forget_everything(self) -> None:
        """Delete the keychain entry, then the database and its side files. The store is
        closed afterwards.

        Raises: KeychainLocked, KeychainError (nothing deleted), StorageIOError.
        """
        with self._lock:
            if self._protection == "memory":
                self.close()  # nothing was ever written: closing forgets it all
                return
            if self._keychain.available():
                self._keychain.delete()
                self._keychain.delete_pending()
            self.close()
            try:
                remove_database_files(self._path)
                remove_database_files(snapshot_path(self._path))  # the copy before an upgrade
                set_uses_passphrase(self._path, False)
            except OSError as exc:
                raise _backup.translate_os(exc) from exc

    # -- egress ledger ---------------------------------------------------------------------

    def record_egress(self, entry: EgressAttempt) -> None:
        """Keep one egress-ledger entry. Not fsynced on its own (the next durable commit
        covers it): the policy calls this from the thread that made the attempt. While the
        store is locked the entry waits in memory and is written on unlock; while it is
        damaged (read-only), until Recover has made a new file."""
        with self._lock:
            if self._locked or self._damage is not None:
                self._egress_backlog.append(entry)
                return
        with self._transaction(durable=False) as db:
            db.execute(
                "INSERT INTO egress_log (time, action, host, port, module, mode, allowed, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.time.timestamp(),
                    entry.action.value,
                    entry.host,
                    entry.port,
                    entry.module,
                    entry.mode.value,
                    int(entry.allowed),
                    entry.detail,
                ),
            )

    def egress_history(self, limit: int = 1000) -> list[EgressAttempt]:
        """The newest ``limit`` ledger entries kept in this store, oldest first."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT time, action, host, port, module, mode, allowed, detail FROM ("
                " SELECT * FROM egress_log ORDER BY id DESC LIMIT ?) ORDER BY id",
                (limit,),
            ).fetchall()
        return [
            EgressAttempt(
                time=datetime.fromtimestamp(r[0], tz=UTC),
                action=Action(r[1]),
                host=r[2],
                port=r[3],
                module=r[4],
                mode=Mode(r[5]),
                allowed=bool(r[6]),
                detail=r[7],
            )
            for r in rows
        ]

    def egress_count(self) -> int:
        """How many ledger entries this store holds."""
        with self._reading() as db:
            return int(db.execute("SELECT count(*) FROM egress_log").fetchone()[0])

    # -- internals -------------------------------------------------------------------------

    def _require_file(self) -> None:
        if self._protection == "memory":
            raise StorageError(
                "This history is not saved to disk, so there is nothing to "
                "back up, restore or re-encrypt.",
                "Set a passphrase (or unlock the system keychain) and restart "
                "Hearth to keep your conversations.",
            )

    def _db(self) -> Connection:
        if self._conn is None or self._locked:
            raise StoreClosed()
        return self._conn

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        with self._lock:
            db = self._db()
            if self._damage is not None:
                raise DatabaseDamaged(self._damage.describe())
            wanted = "FULL" if durable else "NORMAL"
            try:
                if wanted != self._synchronous:
                    # In WAL mode a FULL commit fsyncs the WAL, covering earlier NORMAL ones.
                    db.execute(f"PRAGMA synchronous = {wanted}")
                    self._synchronous = wanted
                db.execute("BEGIN IMMEDIATE")
            except sqlcipher3.Error as exc:
                raise translate(exc) from exc
            try:
                yield db
                db.execute("COMMIT")
            except sqlcipher3.Error as exc:
                rollback(db)
                raise translate(exc) from exc
            except BaseException:
                rollback(db)
                raise
            if durable:
                self._last_durable = time.monotonic()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._lock:
            db = self._db()
            try:
                yield db
            except sqlcipher3.Error as exc:
                raise translate(exc) from exc

    def _checkpoint(self) -> None:
        with self._reading() as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _rekey(self, db: Connection, key: DbKey) -> None:
        try:
            # Old frames in the WAL are under the old key: fold them in first, drop after.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            db.execute(f"PRAGMA rekey = {key.pragma_literal}")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.Error as exc:
            raise translate(exc) from exc

    def _update_conversation(self, conversation_id: int, column: str, value: Any) -> None:
        assert column in {"title", "pinned", "system_prompt"}  # never user input
        with self._transaction() as db:
            cur = db.execute(
                f"UPDATE conversations SET {column} = ? WHERE id = ?", (value, conversation_id)
            )
            if cur.rowcount == 0:
                raise RecordNotFound("That conversation no longer exists.")

    def _activate(
        self, db: Connection, conversation_id: int, leaf_id: int, touch: float | None
    ) -> None:
        seq = db.execute(
            "SELECT coalesce(max(activated), 0) + 1 FROM messages WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()[0]
        db.execute(
            "WITH RECURSIVE path(id) AS (SELECT ? UNION ALL SELECT m.parent_id FROM messages m"
            " JOIN path ON m.id = path.id WHERE m.parent_id IS NOT NULL)"
            " UPDATE messages SET activated = ? WHERE id IN (SELECT id FROM path)",
            (leaf_id, seq),
        )
        if touch is None:
            db.execute(
                "UPDATE conversations SET active_leaf_id = ? WHERE id = ?",
                (leaf_id, conversation_id),
            )
        else:
            db.execute(
                "UPDATE conversations SET active_leaf_id = ?, updated_at = ? WHERE id = ?",
                (leaf_id, touch, conversation_id),
            )

    @staticmethod
    def _require_conversation(db: Connection, conversation_id: int) -> None:
        if (
            db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            is None
        ):
            raise RecordNotFound("That conversation no longer exists.")

    @staticmethod
    def _get_conversation(db: Connection, conversation_id: int) -> Conversation:
        row = db.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound("That conversation no longer exists.")
        return Conversation(
            row[0], row[1], row[2], bool(row[3]), row[4], _time(row[5]), _time(row[6])
        )

    @staticmethod
    def _get_message(db: Connection, message_id: int) -> Message:
        row = db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound("That message no longer exists.")
        return _message(row)

    @staticmethod
    def _not_streaming(db: Connection, message_id: int) -> Exception:
        if db.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is None:
            return RecordNotFound("That message no longer exists.")
        return ReplyNotStreaming("That reply has already been finished.")


class _ThreadGuard:
    """The store's lock; once a thread is bound, also the check that no other thread uses
    the connection (``StoreThreadError``: a bug in the caller, never a race in the field)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.owner: int | None = None

    def __enter__(self) -> None:
        owner = self.owner
        if owner is not None and threading.get_ident() != owner:
            raise StoreThreadError()
        self._lock.acquire()

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def _message(row: tuple[Any, ...]) -> Message:
    stats_values = row[8:12]
    stats = None if all(v is None for v in stats_values) else MessageStats(*stats_values)
    return Message(
        id=row[0],
        conversation_id=row[1],
        parent_id=row[2],
        role=row[3],
        content=row[4],
        thinking=row[5],
        model_id=row[6],
        status=row[7],
        stats=stats,
        created_at=_time(row[12]),
        updated_at=_time(row[13]),
    )
