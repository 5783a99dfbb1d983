"""Full-text search (FTS5, inside the encrypted file) over titles and finished messages.

External-content tables kept in step by triggers. Rows still streaming are not indexed: the
index would churn on every saved chunk. FTS5 'secure-delete' removes a deleted row's terms
from the index at once instead of leaving them behind a tombstone.
"""

from __future__ import annotations

from engine.storage.db import Connection

_TOKENIZER = "unicode61 remove_diacritics 2"

STATEMENTS = (
    f"""CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='{_TOKENIZER}')""",
    "INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1)",
    f"""CREATE VIRTUAL TABLE conversations_fts USING fts5(
        title, content='conversations', content_rowid='id', tokenize='{_TOKENIZER}')""",
    "INSERT INTO conversations_fts(conversations_fts, rank) VALUES ('secure-delete', 1)",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
       WHEN new.status != 'streaming' BEGIN
         INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
       END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
       WHEN old.status != 'streaming' BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, content)
           VALUES ('delete', old.id, old.content);
       END""",
    # One trigger, so the old entry is always removed before the new one is added.
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, content)
           SELECT 'delete', old.id, old.content WHERE old.status != 'streaming';
         INSERT INTO messages_fts(rowid, content)
           SELECT new.id, new.content WHERE new.status != 'streaming';
       END""",
    """CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
         INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
       END""",
    """CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
         INSERT INTO conversations_fts(conversations_fts, rowid, title)
           VALUES ('delete', old.id, old.title);
       END""",
    """CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
         INSERT INTO conversations_fts(conversations_fts, rowid, title)
           VALUES ('delete', old.id, old.title);
         INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title);
       END""",
    # Rows written by schema 1 get indexed too.
    """INSERT INTO messages_fts(rowid, content)
         SELECT id, content FROM messages WHERE status != 'streaming'""",
    "INSERT INTO conversations_fts(rowid, title) SELECT id, title FROM conversations",
)


def upgrade(db: Connection) -> None:
    for statement in STATEMENTS:
        db.execute(statement)
