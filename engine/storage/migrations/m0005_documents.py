"""Private documents: libraries of files, their extracted text in chunks, a keyword index
and embedding vectors, the passages a reply was given, and a conversation's library.

Everything a document yields lives only here, encrypted: originals are read in place and never
copied. A library with a ``conversation_id`` holds that conversation's attached files and goes
when the conversation goes (cascades; the keyword index follows through its triggers).
"""

from __future__ import annotations

from engine.storage.db import Connection

_TOKENIZER = "unicode61 remove_diacritics 2"

STATEMENTS = (
    """CREATE TABLE libraries (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
        embedder TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL)""",
    # Names are unique among the person's libraries; attachment libraries have none to clash.
    """CREATE UNIQUE INDEX libraries_name ON libraries(name COLLATE NOCASE)
       WHERE conversation_id IS NULL""",
    "CREATE UNIQUE INDEX libraries_conversation ON libraries(conversation_id)",
    """CREATE TABLE library_sources (
        id INTEGER PRIMARY KEY,
        library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        is_folder INTEGER NOT NULL,
        excluded INTEGER NOT NULL DEFAULT 0,  -- taken out of a folder that was added
        UNIQUE (library_id, path))""",
    """CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ns INTEGER NOT NULL DEFAULT 0,
        sha256 TEXT NOT NULL DEFAULT '',
        pages INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'missing')),
        problem TEXT NOT NULL DEFAULT '',
        indexed_at REAL NOT NULL,
        UNIQUE (library_id, path))""",
    """CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        page INTEGER NOT NULL,
        text TEXT NOT NULL)""",
    "CREATE INDEX chunks_document ON chunks(document_id, ordinal)",
    f"""CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, content='chunks', content_rowid='id', tokenize='{_TOKENIZER}')""",
    "INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('secure-delete', 1)",
    """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
         INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
         INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
       END""",
    # int8 components of the unit-length vector times 127; ``embedder`` says whose space.
    """CREATE TABLE chunk_vectors (
        chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
        embedder TEXT NOT NULL,
        vector BLOB NOT NULL)""",
    # Copies, not references: a reopened conversation shows the passages its reply was given
    # even after the document changed or was removed.
    """CREATE TABLE message_sources (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        document_id INTEGER,
        path TEXT NOT NULL,
        page INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (message_id, number))""",
    """ALTER TABLE conversations ADD COLUMN library_id INTEGER
       REFERENCES libraries(id) ON DELETE SET NULL""",
)


def upgrade(db: Connection) -> None:
    for statement in STATEMENTS:
        db.execute(statement)
