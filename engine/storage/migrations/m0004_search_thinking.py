"""Search covers a reply's thinking too: the message index gets a second column.

An FTS5 table's columns cannot be altered, so the index and its triggers are made again, and
every finished message is indexed anew (streaming rows wait until they finish, as before).
"""

from __future__ import annotations

from engine.storage.db import Connection

_TOKENIZER = "unicode61 remove_diacritics 2"

STATEMENTS = (
    "DROP TRIGGER messages_fts_insert",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_update",
    "DROP TABLE messages_fts",
    f"""CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, thinking, content='messages', content_rowid='id', tokenize='{_TOKENIZER}')""",
    "INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1)",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
       WHEN new.status != 'streaming' BEGIN
         INSERT INTO messages_fts(rowid, content, thinking)
           VALUES (new.id, new.content, new.thinking);
       END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
       WHEN old.status != 'streaming' BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
           VALUES ('delete', old.id, old.content, old.thinking);
       END""",
    # One trigger, so the old entry is always removed before the new one is added.
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, thinking, status ON messages
       BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
           SELECT 'delete', old.id, old.content, old.thinking WHERE old.status != 'streaming';
         INSERT INTO messages_fts(rowid, content, thinking)
           SELECT new.id, new.content, new.thinking WHERE new.status != 'streaming';
       END""",
    """INSERT INTO messages_fts(rowid, content, thinking)
         SELECT id, content, thinking FROM messages WHERE status != 'streaming'""",
)


def upgrade(db: Connection) -> None:
    for statement in STATEMENTS:
        db.execute(statement)
