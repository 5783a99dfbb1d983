"""Finding the passages for a question: BM25 inside the store and cosine similarity over the
library's vectors, fused by reciprocal rank (each list contributes 1/(60 + rank)).

With no embedding model, or a library without vectors from it, keyword ranking alone is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from engine.storage.types import Library, Passage

if TYPE_CHECKING:
    from engine.docs.embedding import Embedder
    from engine.storage import ConversationStore

RRF_K = 60
CANDIDATES = 50  # taken from each ranking before fusing
Mode = Literal["hybrid", "keyword", "vector"]


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    keyword_rank: int | None  # 1-based place in the BM25 ranking, None if not in it
    vector_rank: int | None


def vector_ranking(
    store: ConversationStore,
    libraries: Sequence[Library],
    query_vector: np.ndarray,
    embedder_id: str,
    limit: int,
) -> list[tuple[int, float]]:
    """(chunk id, cosine) of the nearest passages, best first."""
    ids, matrix = store.vector_matrix([lib.id for lib in libraries], embedder_id)
    if not len(ids) or matrix.shape[1] != query_vector.shape[0]:
        return []
    scores = matrix @ query_vector
    n = min(limit, len(ids))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top])]
    return [(int(ids[i]), float(scores[i])) for i in top]


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of several rankings of ids, best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def search(
    store: ConversationStore,
    libraries: Sequence[Library],
    query: str,
    *,
    embedder: Embedder | None = None,
    limit: int = 8,
    mode: Mode = "hybrid",
    query_vector: np.ndarray | None = None,
) -> list[Hit]:
    """The best passages of ``libraries`` for ``query``. ``query_vector`` spares embedding
    the query again (benchmarks). Raises: StorageError, InferenceError."""
    if not libraries or not query.strip():
        return []
    keyword: list[tuple[int, float]] = []
    if mode in ("hybrid", "keyword"):
        keyword = store.keyword_search([lib.id for lib in libraries], query, CANDIDATES)
    vector: list[tuple[int, float]] = []
    with_vectors = [
        lib for lib in libraries if embedder is not None and lib.embedder == embedder.model_id
    ]
    if mode in ("hybrid", "vector") and embedder is not None and with_vectors:
        q = query_vector if query_vector is not None else embedder.embed_query(query)
        vector = vector_ranking(store, with_vectors, q, embedder.model_id, CANDIDATES)
    keyword_ids = [c for c, _ in keyword]
    vector_ids = [c for c, _ in vector]
    if mode == "keyword" or not vector_ids:
        fused = [(c, s) for c, s in keyword]
    elif mode == "vector" or not keyword_ids:
        fused = [(c, s) for c, s in vector]
    else:
        fused = fuse([keyword_ids, vector_ids])
    best = fused[:limit]
    passages = {p.chunk_id: p for p in store.passages([c for c, _ in best])}
    k_rank = {c: i for i, c in enumerate(keyword_ids, start=1)}
    v_rank = {c: i for i, c in enumerate(vector_ids, start=1)}
    return [Hit(passages[c], s, k_rank.get(c), v_rank.get(c)) for c, s in best if c in passages]
