"""Private documents: libraries of the person's files, read in place and indexed only inside
the encrypted store; hybrid retrieval (BM25 + vectors) and cited answers.

    library = store.create_library("Taxes")
    add_sources(store, library, [Path("~/Documents/taxes")])
    report = update_library(store, library, embedder=embedder)
    hits = search(store, [library], "When is the return due?", embedder=embedder)
    chat = Chat(store, session, finder=DocumentFinder(store, embedder))
"""

from __future__ import annotations

from engine.docs.citations import cited, label, question_with_sources
from engine.docs.embedding import Embedder, installed_embedder, open_catalog_embedder, open_embedder
from engine.docs.extract import DocumentProblem
from engine.docs.finder import DocumentFinder
from engine.docs.indexer import (
    FileResult,
    IndexProgress,
    IndexReport,
    add_sources,
    files_of,
    update_library,
)
from engine.docs.retrieval import Hit, search

__all__ = [
    "DocumentFinder",
    "DocumentProblem",
    "Embedder",
    "FileResult",
    "Hit",
    "IndexProgress",
    "IndexReport",
    "add_sources",
    "cited",
    "files_of",
    "installed_embedder",
    "label",
    "open_catalog_embedder",
    "open_embedder",
    "question_with_sources",
    "search",
    "update_library",
]
