"""Finding passages: BM25 in the store, vectors from llama.cpp's embedding mode, fusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.docs import add_sources, search, update_library
from engine.docs.retrieval import fuse
from engine.storage import ConversationStore, passage_search
from engine.storage.passage_search import keyword_query, query_terms
from engine.storage.types import ChunkText, FileFacts


@pytest.fixture
def home(store: ConversationStore, folder: Path, embedder):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library, embedder=embedder)
    return store.library_by_id(library.id)


def top(hits) -> str:
    return Path(hits[0].passage.path).name


def test_keyword_ranking_finds_the_passage(store: ConversationStore, home):
    hits = search(store, [home], "When is the tax return due?", mode="keyword")
    assert top(hits) == "tax.txt"
    assert hits[0].keyword_rank == 1 and hits[0].vector_rank is None
    lease = search(store, [home], "how many euros a month", mode="keyword")
    assert (top(lease), lease[0].passage.page) == ("lease.pdf", 2)


def test_vector_ranking_uses_the_embedder(store: ConversationStore, home, embedder):
    hits = search(store, [home], "dishwasher warranty", embedder=embedder, mode="vector")
    assert len(hits) == sum(d.chunks for d in store.list_documents(home.id))
    assert all(h.vector_rank is not None and h.keyword_rank is None for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0


def test_hybrid_fuses_both(store: ConversationStore, home, embedder):
    hits = search(store, [home], "dishwasher warranty", embedder=embedder)
    assert top(hits) == "warranty.docx"
    assert hits[0].keyword_rank == 1 and hits[0].vector_rank is not None
    assert hits[0].score == pytest.approx(1 / 61 + 1 / (60 + hits[0].vector_rank))


def test_without_an_embedder_keywords_alone(store: ConversationStore, home):
    hits = search(store, [home], "dishwasher warranty", embedder=None)
    assert top(hits) == "warranty.docx" and hits[0].vector_rank is None


def test_fusion_rewards_agreement():
    assert [i for i, _ in fuse([[1, 2, 3], [3, 1, 4]])] == [1, 3, 2, 4]


@pytest.mark.parametrize("text", ['"', "NEAR(a b)", "a* OR", "AND", "-x", "«»", "   "])
def test_query_syntax_is_taken_literally(store: ConversationStore, home, text: str):
    search(store, [home], text, mode="keyword")  # no FTS5 syntax error
    query = keyword_query(query_terms(text))
    assert query is None or all(part.startswith('"') for part in query.split(" OR "))


def test_vectors_are_searched_from_memory_until_the_library_changes(
    store: ConversationStore, home, folder: Path, embedder
):
    first = store.vector_matrix([home.id], embedder.model_id)
    assert store.vector_matrix([home.id], embedder.model_id)[1] is first[1]  # cached
    (folder / "new.md").write_text("Swimming lessons are on Tuesdays.")
    update_library(store, home, embedder=embedder)
    ids, matrix = store.vector_matrix([home.id], embedder.model_id)
    assert len(ids) == len(first[0]) + 1 and matrix is not first[1]
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=0.02)  # unit rows (int8)
    store.lock()
    assert store._vector_cache == {}  # nothing held in memory while locked
    store.unlock()


def test_deleting_a_library_erases_its_passages(store: ConversationStore, home):
    assert search(store, [home], "tomatoes", mode="keyword")
    store.delete_library(home.id)
    assert store.keyword_search([home.id], "tomatoes", 10) == []
    assert store.list_libraries() == []


def test_attached_files_go_with_their_conversation(store: ConversationStore, folder: Path):
    conv = store.create_conversation("Garden")
    attached = store.attachments_library(conv.id)
    add_sources(store, attached, [folder / "notes.md"])
    update_library(store, attached)
    assert store.list_libraries() == []  # not one of the person's libraries
    assert store.keyword_search([attached.id], "tomatoes", 5)
    store.delete_conversation(conv.id)
    assert store.keyword_search([attached.id], "tomatoes", 5) == []
    assert store.find_attachments(conv.id) is None


def test_a_library_is_searched_alone_when_another_ranks_higher(store: ConversationStore):
    big, small = store.create_library("Big"), store.create_library("Small")
    for i in range(12):
        store.save_document(
            big.id,
            FileFacts(f"/b/{i}.txt", "text", 1, 1, f"{i}"),
            pages=0,
            chunks=[ChunkText(0, "apple apple apple")],
        )
    store.save_document(
        small.id,
        FileFacts("/s/one.txt", "text", 1, 1, "s"),
        pages=0,
        chunks=[ChunkText(0, "an apple among many other words here")],
    )
    (hit,) = store.keyword_search([small.id], "apple", 1)
    assert store.passages([hit[0]])[0].path == "/s/one.txt"


def test_common_terms_are_left_out_in_a_large_library(store: ConversationStore, monkeypatch):
    monkeypatch.setattr(passage_search, "PRUNE_FROM_PASSAGES", 10)
    library = store.create_library("Many")
    chunks = [ChunkText(0, f"report number {i} about the budget") for i in range(30)]
    chunks.append(ChunkText(0, "report about the heating boiler"))
    store.save_document(
        library.id,
        FileFacts("/r.txt", "text", 1, 1, "r"),
        pages=0,
        chunks=chunks,
    )
    with store._reading() as db:
        assert passage_search._informative(db, ["report", "boiler"]) == ["boiler"]
        assert passage_search._informative(db, ["report", "budget"]) == ["report", "budget"]
    (best, *_) = store.keyword_search([library.id], "boiler report", 5)
    assert "boiler" in store.passages([best[0]])[0].text
