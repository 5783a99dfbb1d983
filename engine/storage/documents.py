"""The store's private-documents room: libraries, their files and folders, documents with
their passages and vectors (int8, unit vector × 127), a conversation's library, and the
passages a reply was given. Part of ``ConversationStore`` (a mixin), so it shares the one
connection, its lock and its owner thread. Ranking passages is ``passage_search``'s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.storage.errors import LibraryExists, RecordNotFound
from engine.storage.passage_search import PASSAGE_SELECT
from engine.storage.types import (
    ChunkText,
    DocumentRecord,
    FileFacts,
    Library,
    LibrarySummary,
    Passage,
    Source,
)

if TYPE_CHECKING:
    from engine.storage.db import Connection

_DOCUMENT_COLUMNS = (
    "d.id, d.library_id, d.path, d.kind, d.size, d.mtime_ns, d.sha256, d.pages, d.status, "
    "d.problem, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)"
)
_LIBRARY_COLUMNS = "id, name, conversation_id, embedder"


# Words that match nearly every passage add nothing to a keyword ranking but cost time.
class DocumentRoom:
    """Methods of ``ConversationStore`` for private documents (see the module docstring)."""

    if TYPE_CHECKING:
        _lock: Any

        def _transaction(self, *, durable: bool = True) -> contextlib.AbstractContextManager[Any]:
            raise NotImplementedError

        def _reading(self) -> contextlib.AbstractContextManager[Any]:
            raise NotImplementedError

        def _checkpoint(self) -> None:
            raise NotImplementedError

        def _documents_changed(self) -> None:
            raise NotImplementedError

    # -- libraries -------------------------------------------------------------------------

    def create_library(self, name: str) -> Library:
        """Raises: LibraryExists, ValueError (an empty name)."""
        name = " ".join(name.split())
        if not name:
            raise ValueError("a library needs a name")
        with self._transaction() as db:
            _require_free_name(db, name)
            cur = db.execute(
                "INSERT INTO libraries (name, created_at) VALUES (?, ?)", (name, time.time())
            )
            return _library_row(db, int(cur.lastrowid))

    def attachments_library(self, conversation_id: int) -> Library:
        """The library holding the files attached in a conversation (made on first use).

        Raises: RecordNotFound (no such conversation).
        """
        with self._transaction() as db:
            row = db.execute(
                f"SELECT {_LIBRARY_COLUMNS} FROM libraries WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            if row is not None:
                return _library(row)
            if (
                db.execute(
                    "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
                ).fetchone()
                is None
            ):
                raise RecordNotFound("That conversation no longer exists.")
            cur = db.execute(
                "INSERT INTO libraries (name, conversation_id, created_at) VALUES (?, ?, ?)",
                (f"attached to conversation {conversation_id}", conversation_id, time.time()),
            )
            return _library_row(db, int(cur.lastrowid))

    def find_attachments(self, conversation_id: int) -> Library | None:
        with self._reading() as db:
            row = db.execute(
                f"SELECT {_LIBRARY_COLUMNS} FROM libraries WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
        return None if row is None else _library(row)

    def get_library(self, name: str) -> Library:
        """One of the person's libraries by name (case does not matter). Raises: RecordNotFound."""
        with self._reading() as db:
            row = db.execute(
                f"SELECT {_LIBRARY_COLUMNS} FROM libraries "
                "WHERE conversation_id IS NULL AND name = ? COLLATE NOCASE",
                (" ".join(name.split()),),
            ).fetchone()
        if row is None:
            raise RecordNotFound(f"There is no library called “{name}”.", "")
        return _library(row)

    def library_by_id(self, library_id: int) -> Library:
        """Raises: RecordNotFound."""
        with self._reading() as db:
            return _library_row(db, library_id)

    def list_libraries(self) -> list[LibrarySummary]:
        """The person's libraries by name, with how many documents and passages they hold."""
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {_LIBRARY_COLUMNS}, "
                "(SELECT count(*) FROM documents d WHERE d.library_id = l.id), "
                "(SELECT count(*) FROM documents d WHERE d.library_id = l.id "
                " AND d.status = 'failed'), "
                "(SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
                " WHERE d.library_id = l.id) "
                "FROM libraries l WHERE conversation_id IS NULL ORDER BY name COLLATE NOCASE"
            ).fetchall()
        return [LibrarySummary(_library(r[:4]), r[4], r[5], r[6]) for r in rows]

    def rename_library(self, library_id: int, name: str) -> None:
        """Raises: LibraryExists, RecordNotFound, ValueError."""
        name = " ".join(name.split())
        if not name:
            raise ValueError("a library needs a name")
        with self._transaction() as db:
            _require_free_name(db, name, library_id)
            cur = db.execute(
                "UPDATE libraries SET name = ? WHERE id = ? AND conversation_id IS NULL",
                (name, library_id),
            )
            if cur.rowcount == 0:
                raise RecordNotFound("That library no longer exists.")

    def delete_library(self, library_id: int) -> None:
        """Delete a library with every passage and vector of its documents, leaving no trace
        (secure_delete, the keyword index's own secure-delete, a truncated WAL). The files
        themselves are not touched. Raises: RecordNotFound."""
        with self._transaction() as db:
            cur = db.execute("DELETE FROM libraries WHERE id = ?", (library_id,))
            if cur.rowcount == 0:
                raise RecordNotFound("That library no longer exists.")
        self._documents_changed()
        self._checkpoint()

    def set_library_embedder(self, library_id: int, embedder: str) -> None:
        """Which embedding model the library's vectors come from; changing it drops the
        vectors of the other one (they live in another space)."""
        with self._transaction() as db:
            db.execute("UPDATE libraries SET embedder = ? WHERE id = ?", (embedder, library_id))
            db.execute(
                "DELETE FROM chunk_vectors WHERE embedder != ? AND chunk_id IN ("
                " SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id"
                " WHERE d.library_id = ?)",
                (embedder, library_id),
            )
        self._documents_changed()

    # -- sources (what the person added: files and folders) --------------------------------

    def add_library_source(self, library_id: int, path: Path, *, is_folder: bool) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO library_sources (library_id, path, is_folder) VALUES (?, ?, ?) "
                "ON CONFLICT (library_id, path) DO UPDATE SET is_folder = excluded.is_folder, "
                "excluded = 0",
                (library_id, str(path), int(is_folder)),
            )

    def library_sources(self, library_id: int) -> list[tuple[Path, bool]]:
        """The files and folders added to a library, as (path, is_folder)."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT path, is_folder FROM library_sources WHERE library_id = ? "
                "AND excluded = 0 ORDER BY path",
                (library_id,),
            ).fetchall()
        return [(Path(p), bool(f)) for p, f in rows]

    def library_exclusions(self, library_id: int) -> list[Path]:
        """Files and folders taken out of added folders (not read again)."""
        with self._reading() as db:
            rows = db.execute(
                "SELECT path FROM library_sources WHERE library_id = ? AND excluded = 1",
                (library_id,),
            ).fetchall()
        return [Path(r[0]) for r in rows]

    def remove_library_source(self, library_id: int, path: Path) -> int:
        """Take a file or folder out of a library with every document under it; returns how
        many documents were erased. Inside an added folder it is remembered as taken out, so
        updating the library does not read it again.

        Raises: RecordNotFound (neither added nor indexed).
        """
        text = str(path)
        under = "(path = ? OR substr(path, 1, ?) = ?)"
        prefix = text.rstrip("/") + "/"
        with self._transaction() as db:
            args = (library_id, text, len(prefix), prefix)
            sources = db.execute(
                f"DELETE FROM library_sources WHERE library_id = ? AND {under}", args
            ).rowcount
            docs = db.execute(
                f"DELETE FROM documents WHERE library_id = ? AND {under}", args
            ).rowcount
            folders = db.execute(
                "SELECT path FROM library_sources WHERE library_id = ? AND is_folder = 1 "
                "AND excluded = 0",
                (library_id,),
            ).fetchall()
            inside = any(text.startswith(f[0].rstrip("/") + "/") for f in folders)
            if sources == 0 and docs == 0 and not inside:
                raise RecordNotFound(f"“{path}” is not in that library.", "")
            if inside:
                db.execute(
                    "INSERT INTO library_sources (library_id, path, is_folder, excluded) "
                    "VALUES (?, ?, ?, 1)",
                    (library_id, text, int(path.is_dir())),
                )
        self._documents_changed()
        self._checkpoint()
        return int(docs)

    # -- documents -------------------------------------------------------------------------

    def list_documents(self, library_id: int) -> list[DocumentRecord]:
        with self._reading() as db:
            rows = db.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents d WHERE d.library_id = ? "
                "ORDER BY d.path",
                (library_id,),
            ).fetchall()
        return [_document(r) for r in rows]

    def save_document(
        self,
        library_id: int,
        file: FileFacts,
        *,
        pages: int,
        chunks: Sequence[ChunkText],
        vectors: Sequence[bytes] | None = None,
        embedder: str = "",
    ) -> DocumentRecord:
        """Store a document's passages (and vectors), replacing what that path had, in one
        transaction: an interrupted indexing run keeps every document it finished."""
        if vectors is not None and len(vectors) != len(chunks):
            raise ValueError("one vector per chunk")
        with self._transaction() as db:
            doc_id = _replace_document(db, library_id, file, pages=pages)
            for ordinal, chunk in enumerate(chunks):
                cur = db.execute(
                    "INSERT INTO chunks (document_id, ordinal, page, text) VALUES (?, ?, ?, ?)",
                    (doc_id, ordinal, chunk.page, chunk.text),
                )
                if vectors is not None:
                    db.execute(
                        "INSERT INTO chunk_vectors (chunk_id, embedder, vector) VALUES (?, ?, ?)",
                        (int(cur.lastrowid), embedder, vectors[ordinal]),
                    )
            record = _document_row(db, doc_id)
        self._documents_changed()
        return record

    def save_failed_document(
        self, library_id: int, file: FileFacts, problem: str
    ) -> DocumentRecord:
        """Record that a file could not be read (``problem`` says why, without its text)."""
        with self._transaction() as db:
            doc_id = _replace_document(db, library_id, file, problem=problem)
            record = _document_row(db, doc_id)
        self._documents_changed()
        return record

    def move_document(self, document_id: int, path: Path, mtime_ns: int) -> None:
        """The same file (same content) found at a new path or with a new time."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM documents WHERE path = ? AND id != ? AND library_id = ("
                " SELECT library_id FROM documents WHERE id = ?)",
                (str(path), document_id, document_id),
            )
            db.execute(
                "UPDATE documents SET path = ?, mtime_ns = ?, status = CASE status "
                "WHEN 'missing' THEN 'indexed' ELSE status END WHERE id = ?",
                (str(path), mtime_ns, document_id),
            )
        self._documents_changed()

    def mark_missing(self, document_id: int) -> None:
        """The file is gone: its passages stay (and are still found) until it is removed."""
        with self._transaction() as db:
            db.execute(
                "UPDATE documents SET status = 'missing' WHERE id = ? AND status = 'indexed'",
                (document_id,),
            )

    def remove_document(self, document_id: int) -> None:
        """Erase one document's passages and vectors, leaving no trace. Raises: RecordNotFound."""
        with self._transaction() as db:
            if db.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount == 0:
                raise RecordNotFound("That document is no longer in the library.")
        self._documents_changed()
        self._checkpoint()

    def document_chunks(self, document_id: int) -> list[Passage]:
        """A document's passages in reading order."""
        with self._reading() as db:
            rows = db.execute(
                f"{PASSAGE_SELECT} WHERE c.document_id = ? ORDER BY c.ordinal",
                (document_id,),
            ).fetchall()
        return [Passage(*r) for r in rows]

    def chunks_missing_vectors(
        self, library_id: int, embedder: str, limit: int = 256
    ) -> list[Passage]:
        """Passages of a library that have no vector from ``embedder`` yet."""
        with self._reading() as db:
            rows = db.execute(
                f"{PASSAGE_SELECT} "
                "LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.embedder = ? "
                "WHERE d.library_id = ? AND v.chunk_id IS NULL ORDER BY c.id LIMIT ?",
                (embedder, library_id, limit),
            ).fetchall()
        return [Passage(*r) for r in rows]

    def count_missing_vectors(self, library_id: int, embedder: str) -> int:
        with self._reading() as db:
            return int(
                db.execute(
                    "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
                    "LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.embedder = ? "
                    "WHERE d.library_id = ? AND v.chunk_id IS NULL",
                    (embedder, library_id),
                ).fetchone()[0]
            )

    def save_vectors(self, embedder: str, vectors: Iterable[tuple[int, bytes]]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO chunk_vectors (chunk_id, embedder, vector) "
                "VALUES (?, ?, ?)",
                [(chunk_id, embedder, blob) for chunk_id, blob in vectors],
            )
        self._documents_changed()

    # -- retrieval -------------------------------------------------------------------------

    # -- conversations and replies ---------------------------------------------------------

    def set_conversation_library(self, conversation_id: int, library_id: int | None) -> None:
        """Raises: RecordNotFound."""
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE conversations SET library_id = ? WHERE id = ?",
                (library_id, conversation_id),
            )
            if cur.rowcount == 0:
                raise RecordNotFound("That conversation no longer exists.")

    def conversation_library(self, conversation_id: int) -> Library | None:
        """The library a conversation answers from, if one was chosen."""
        with self._reading() as db:
            row = db.execute(
                f"SELECT {', '.join('l.' + c for c in _LIBRARY_COLUMNS.split(', '))} "
                "FROM conversations v JOIN libraries l ON l.id = v.library_id WHERE v.id = ?",
                (conversation_id,),
            ).fetchone()
        return None if row is None else _library(row)

    def save_sources(self, message_id: int, sources: Sequence[Source]) -> None:
        """Keep the passages a reply was given, numbered as the model saw them."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO message_sources "
                "(message_id, number, document_id, path, page, text) VALUES (?, ?, ?, ?, ?, ?)",
                [(message_id, s.number, s.document_id, s.path, s.page, s.text) for s in sources],
            )

    def has_sources(self) -> bool:
        """Whether any reply was ever given passages (spares a lookup per turn when not)."""
        with self._reading() as db:
            return db.execute("SELECT 1 FROM message_sources LIMIT 1").fetchone() is not None

    def sources_for(self, message_ids: Sequence[int]) -> dict[int, list[Source]]:
        """The passages each of these replies was given (replies without any are absent)."""
        result: dict[int, list[Source]] = {}
        for batch in _batches(list(message_ids), 500):
            marks = ",".join("?" * len(batch))
            with self._reading() as db:
                rows = db.execute(
                    "SELECT message_id, number, document_id, path, page, text FROM "
                    f"message_sources WHERE message_id IN ({marks}) "
                    "ORDER BY message_id, number",
                    tuple(batch),
                ).fetchall()
            for r in rows:
                result.setdefault(r[0], []).append(Source(r[1], r[2], r[3], r[4], r[5]))
        return result


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _replace_document(
    db: Connection, library_id: int, file: FileFacts, *, pages: int = 0, problem: str = ""
) -> int:
    """The document row for ``file``, made anew (its old passages go by cascade); a
    ``problem`` makes it a failed one."""
    db.execute("DELETE FROM documents WHERE library_id = ? AND path = ?", (library_id, file.path))
    cur = db.execute(
        "INSERT INTO documents (library_id, path, kind, size, mtime_ns, sha256, pages, status, "
        "problem, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            library_id,
            file.path,
            file.kind,
            file.size,
            file.mtime_ns,
            file.sha256,
            pages,
            "failed" if problem else "indexed",
            problem,
            time.time(),
        ),
    )
    return int(cur.lastrowid)


def _require_free_name(db: Connection, name: str, library_id: int = 0) -> None:
    taken = db.execute(
        "SELECT 1 FROM libraries WHERE conversation_id IS NULL AND name = ? COLLATE NOCASE "
        "AND id != ?",
        (name, library_id),
    ).fetchone()
    if taken is not None:
        raise LibraryExists(f"There is already a library called “{name}”.")


def _library(row: Sequence[Any]) -> Library:
    return Library(int(row[0]), str(row[1]), row[2], str(row[3]))


def _library_row(db: Connection, library_id: int) -> Library:
    row = db.execute(
        f"SELECT {_LIBRARY_COLUMNS} FROM libraries WHERE id = ?", (library_id,)
    ).fetchone()
    if row is None:
        raise RecordNotFound("That library no longer exists.")
    return _library(row)


def _document(row: Sequence[Any]) -> DocumentRecord:
    return DocumentRecord(*row)


def _document_row(db: Connection, document_id: int) -> DocumentRecord:
    row = db.execute(
        f"SELECT {_DOCUMENT_COLUMNS} FROM documents d WHERE d.id = ?", (document_id,)
    ).fetchone()
    if row is None:
        raise RecordNotFound("That document is no longer in the library.")
    return _document(row)
