"""Hearth's encrypted conversation store (SQLCipher; key in the OS keychain or a passphrase).

with open_store() as store:
    conversation = store.create_conversation("Trip plans")
    question = store.add_message(conversation.id, None, "user", "Where to?")
    reply = store.begin_reply(conversation.id, question.id, model_id="smollm2")
    store.update_reply(reply.id, "Somewhere", "")
    store.finish_reply(reply.id, "Somewhere warm.", "", "done", None)
"""

from __future__ import annotations

from engine.storage.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseDamaged,
    DatabaseTooNew,
    DiskFull,
    InvalidPassphrase,
    KeychainError,
    KeychainLocked,
    KeychainUnavailable,
    KeyNotFound,
    MigrationFailed,
    NotADatabase,
    PassphraseRequired,
    ReadOnlyStorage,
    RecordNotFound,
    ReplyNotStreaming,
    StorageError,
    StorageIOError,
    StoreClosed,
    StoreThreadError,
    WrongKey,
)
from engine.storage.health import Damage
from engine.storage.keys import Keychain, Protection, set_uses_passphrase, uses_passphrase
from engine.storage.owner import StoreOwner
from engine.storage.recovery import RecoveryReport
from engine.storage.store import ConversationStore, default_path, open_memory_store, open_store
from engine.storage.types import (
    Conversation,
    ConversationSummary,
    Message,
    MessageStats,
    Role,
    SearchHit,
    Status,
)

__all__ = [
    "Conversation",
    "ConversationStore",
    "ConversationSummary",
    "Damage",
    "DatabaseBusy",
    "DatabaseCorrupt",
    "DatabaseDamaged",
    "DatabaseTooNew",
    "DiskFull",
    "InvalidPassphrase",
    "KeyNotFound",
    "Keychain",
    "KeychainError",
    "KeychainLocked",
    "KeychainUnavailable",
    "Message",
    "MessageStats",
    "MigrationFailed",
    "NotADatabase",
    "PassphraseRequired",
    "Protection",
    "ReadOnlyStorage",
    "RecordNotFound",
    "RecoveryReport",
    "ReplyNotStreaming",
    "Role",
    "SearchHit",
    "Status",
    "StorageError",
    "StorageIOError",
    "StoreClosed",
    "StoreOwner",
    "StoreThreadError",
    "WrongKey",
    "default_path",
    "open_memory_store",
    "open_store",
    "set_uses_passphrase",
    "uses_passphrase",
]
