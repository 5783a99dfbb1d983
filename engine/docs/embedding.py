"""Passages and questions as vectors, from a GGUF run by llama.cpp in embedding mode.

The catalog's embedding model when it is installed; any GGUF otherwise (tests use the
starter chat model: same llama.cpp path, weaker vectors). One lock: indexing and a question
may ask from different threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.catalog.catalog import Catalog, CatalogModel
from engine.catalog.installed import find_file
from engine.inference._llama import NativeEmbedder
from engine.storage.passage_search import quantize

EMBED_CONTEXT = 2048


class Embedder:
    """Vectors for passages (``embed_passages``) and questions (``embed_query``)."""

    def __init__(
        self,
        native: NativeEmbedder,
        *,
        model_id: str,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        self._native = native
        self.model_id = model_id
        self._query_prefix = query_prefix
        self._document_prefix = document_prefix
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return self._native.dimensions

    def _tokens(self, text: str) -> list[int]:
        # A passage is far shorter than the context; a question may not be. Its start is
        # what the vector needs most.
        return self._native.tokenize(text)[: self._native.n_ctx - 1]

    def embed_passages(self, texts: Sequence[str]) -> list[bytes]:
        """Stored form (int8 unit vectors) of each passage's vector. Raises: InferenceError."""
        out: list[bytes] = []
        with self._lock:
            batch: list[list[int]] = []
            used = 0
            for text in texts:
                tokens = self._tokens(self._document_prefix + text)
                if batch and (
                    used + len(tokens) > self._native.n_ctx
                    or len(batch) == self._native.max_sequences
                ):
                    out.extend(quantize(np.asarray(v)) for v in self._native.embed(batch))
                    batch, used = [], 0
                batch.append(tokens)
                used += len(tokens)
            if batch:
                out.extend(quantize(np.asarray(v)) for v in self._native.embed(batch))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """A unit float32 vector for a question. Raises: InferenceError."""
        with self._lock:
            (vector,) = self._native.embed([self._tokens(self._query_prefix + text)])
        v = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    def close(self) -> None:
        with self._lock:
            self._native.close()

    def __enter__(self) -> Embedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_embedder(
    path: Path,
    *,
    model_id: str,
    query_prefix: str = "",
    document_prefix: str = "",
    threads: int | None = None,
) -> Embedder:
    """Load ``path`` for embeddings. Raises: ModelError."""
    native = NativeEmbedder(
        path,
        n_ctx=EMBED_CONTEXT,
        threads=threads or max(1, min(4, os.cpu_count() or 1)),
        max_sequences=4,
    )
    return Embedder(
        native, model_id=model_id, query_prefix=query_prefix, document_prefix=document_prefix
    )


def installed_embedder(catalog: Catalog) -> tuple[CatalogModel, Path] | None:
    """The first catalog embedding model whose file is here, if any."""
    for model in catalog.embedders:
        path = find_file(model)
        if path is not None:
            return model, path
    return None


def open_catalog_embedder(catalog: Catalog) -> Embedder | None:
    """The installed catalog embedding model, loaded; None when none is installed.

    Raises: ModelError (installed but unusable).
    """
    found = installed_embedder(catalog)
    if found is None:
        return None
    model, path = found
    spec = model.embedding
    assert spec is not None  # catalog.embedders only holds embedding entries
    return open_embedder(
        path,
        model_id=model.id,
        query_prefix=spec.query_prefix,
        document_prefix=spec.document_prefix,
    )
