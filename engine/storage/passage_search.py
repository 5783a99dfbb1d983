"""Finding passages in the store: BM25 from the FTS5 index, and the vectors a library's
passages carry, held in memory as one float32 matrix per library and embedder (rebuilt when
its passages change, dropped when the store locks or closes). Part of ``ConversationStore``
(a mixin), like ``DocumentRoom``.
"""

from __future__ import annotations

import contextlib
import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.storage.types import Passage

if TYPE_CHECKING:
    from engine.storage.db import Connection

_TOKEN = re.compile(r"[^\W_]+")
# In a large index a term found in more than this share of the passages says little about
# which one answers (BM25 gives it a small weight) but makes ranking read most of the index:
# it is left out, unless every term of the question is that common. It costs some recall
# (man-page benchmark, 6,480 passages: recall@5 0.711 -> 0.649 when forced on), so it starts
# only where ranking everything would be slow (100k passages: p95 313 ms -> 26 ms).
COMMON_TERM_SHARE = 0.1
PRUNE_FROM_PASSAGES = 20_000

PASSAGE_SELECT = (
    "SELECT c.id, c.document_id, d.path, c.page, c.text FROM chunks c "
    "JOIN documents d ON d.id = c.document_id"
)

# Words that match nearly every passage add nothing to a keyword ranking but cost time.
_STOPWORD_TEXT = (
    "a an and are as at be but by can could did do does for "
    "from had has have how i if in into is it its me my of "
    "on or our so than that the their them then there these they this to "
    "was we were what when where which who whom why will with would you your "
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def query_terms(text: str) -> list[str]:
    """The words of ``text`` as the keyword index holds them (lower case, no accents, split
    where FTS5's unicode61 tokenizer splits), once each, stopwords left out unless nothing
    else is left."""
    words = []
    for raw in _TOKEN.findall(text.casefold()):
        folded = "".join(
            ch for ch in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(ch)
        )
        if folded:
            words.append(folded)
    unique = list(dict.fromkeys(words))
    return [w for w in unique if w not in _STOPWORDS] or unique


def keyword_query(terms: Sequence[str]) -> str | None:
    """An FTS5 query matching passages with any of ``terms`` (BM25 ranks those with more,
    and rarer, terms first). Each term is quoted, so nothing in it is FTS5 syntax."""
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def quantize(vector: np.ndarray) -> bytes:
    """A vector as stored: unit length, each component × 127 as int8."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    if norm > 0:
        v = v / norm
    return np.clip(np.rint(v * 127.0), -127, 127).astype(np.int8).tobytes()


class PassageSearch:
    """Methods of ``ConversationStore`` that rank passages (see the module docstring)."""

    if TYPE_CHECKING:

        def _reading(self) -> contextlib.AbstractContextManager[Any]:
            raise NotImplementedError

    _vector_cache: dict[tuple[tuple[int, ...], str], tuple[int, np.ndarray, np.ndarray]]
    _documents_generation: int
    _cache_lock: threading.Lock

    def _init_documents(self) -> None:
        self._vector_cache = {}
        self._documents_generation = 0
        self._cache_lock = threading.Lock()

    def _forget_documents_cache(self) -> None:
        """Drop every vector held in memory (on lock and close)."""
        with self._cache_lock:
            self._vector_cache.clear()
            self._documents_generation += 1

    def _documents_changed(self) -> None:
        with self._cache_lock:
            self._documents_generation += 1
            self._vector_cache.clear()

    def keyword_search(
        self, library_ids: Sequence[int], text: str, limit: int
    ) -> list[tuple[int, float]]:
        """Passages of these libraries ranked by BM25 for the words of ``text``, best first,
        as (chunk id, score: higher is better)."""
        terms = query_terms(text)
        if not terms or not library_ids or limit <= 0:
            return []
        wanted = set(library_ids)
        with self._reading() as db:
            terms = _informative(db, terms)
            query = keyword_query(terms)
            # FTS5 ranks fastest on its own (ORDER BY rank with a LIMIT and no join), so the
            # best few of the whole index are taken and then kept if in these libraries; only
            # when too few are, the slower ranking restricted to the libraries runs.
            page = limit * 4
            rows = db.execute(
                "SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                (query, page),
            ).fetchall()
            owners = _libraries_of(db, [r[0] for r in rows])
            kept = [(int(r[0]), -float(r[1])) for r in rows if owners.get(r[0]) in wanted]
            if len(kept) >= limit or len(rows) < page:
                return kept[:limit]
            marks = ",".join("?" * len(library_ids))
            rows = db.execute(
                "SELECT c.id, bm25(chunks_fts) AS score FROM chunks_fts "
                "JOIN chunks c ON c.id = chunks_fts.rowid "
                "JOIN documents d ON d.id = c.document_id "
                f"WHERE chunks_fts MATCH ? AND d.library_id IN ({marks}) "
                "ORDER BY score LIMIT ?",
                (query, *library_ids, limit),
            ).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def vector_matrix(
        self, library_ids: Sequence[int], embedder: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, float32 matrix of unit rows) for these libraries' ``embedder`` vectors;
        from memory when nothing changed since the last call."""
        key = (tuple(sorted(library_ids)), embedder)
        with self._cache_lock:
            generation = self._documents_generation
            cached = self._vector_cache.get(key)
            if cached is not None and cached[0] == generation:
                return cached[1], cached[2]
        marks = ",".join("?" * len(library_ids))
        with self._reading() as db:
            rows = db.execute(
                "SELECT v.chunk_id, v.vector FROM chunk_vectors v "
                "JOIN chunks c ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id "
                f"WHERE v.embedder = ? AND d.library_id IN ({marks}) ORDER BY v.chunk_id",
                (embedder, *library_ids),
            ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if rows:
            raw = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8)
            matrix = raw.reshape(len(rows), -1).astype(np.float32) / 127.0
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        with self._cache_lock:
            if self._documents_generation == generation:
                self._vector_cache[key] = (generation, ids, matrix)
        return ids, matrix

    def passages(self, chunk_ids: Sequence[int]) -> list[Passage]:
        """These passages, in the order asked (ids no longer stored are left out)."""
        if not chunk_ids:
            return []
        marks = ",".join("?" * len(chunk_ids))
        with self._reading() as db:
            rows = db.execute(
                f"{PASSAGE_SELECT} WHERE c.id IN ({marks})",
                tuple(chunk_ids),
            ).fetchall()
        found = {r[0]: Passage(*r) for r in rows}
        return [found[i] for i in chunk_ids if i in found]


def _informative(db: Connection, terms: list[str]) -> list[str]:
    """``terms`` without those too common to rank by (see COMMON_TERM_SHARE)."""
    total = int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])
    if total < PRUNE_FROM_PASSAGES or len(terms) < 2:
        return terms
    # fts5vocab reads the index's own term statistics; a temp table lives in memory.
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab "
        "USING fts5vocab(main, 'chunks_fts', 'row')"
    )
    kept = []
    for term in terms:
        row = db.execute("SELECT doc FROM temp.chunks_vocab WHERE term = ?", (term,)).fetchone()
        if row is not None and row[0] <= total * COMMON_TERM_SHARE:
            kept.append(term)
    return kept or terms


def _libraries_of(db: Connection, chunk_ids: list[int]) -> dict[int, int]:
    if not chunk_ids:
        return {}
    marks = ",".join("?" * len(chunk_ids))
    rows = db.execute(
        f"SELECT c.id, d.library_id FROM chunks c JOIN documents d ON d.id = c.document_id "
        f"WHERE c.id IN ({marks})",
        chunk_ids,
    ).fetchall()
    return {int(r[0]): int(r[1]) for r in rows}
