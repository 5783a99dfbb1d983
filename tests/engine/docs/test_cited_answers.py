"""Answers from documents, end to end: real starter model, real encrypted store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.chat import Chat
from engine.docs import DocumentFinder, add_sources, cited, update_library
from engine.docs.citations import INSTRUCTION, question_with_sources
from engine.docs.planner import fit_passages
from engine.inference import Answer, Finished, GenerationOptions, ModelSession, open_model
from engine.storage import ConversationStore
from engine.storage.types import Passage, Source

SHORT = GenerationOptions(max_tokens=16, temperature=0.0)


@pytest.fixture(scope="module")
def session(starter_model_path: Path, catalog: Catalog) -> Iterator[ModelSession]:
    with open_model(starter_model_path, entry=catalog.default, n_ctx=2048) as s:
        yield s


def run(turn) -> tuple[str, Finished]:
    text, end = [], None
    for chunk in turn:
        if isinstance(chunk, Answer):
            text.append(chunk.text)
        elif isinstance(chunk, Finished):
            end = chunk
    assert end is not None
    return "".join(text), end


@pytest.fixture
def home(store: ConversationStore, folder: Path):
    library = store.create_library("Home")
    add_sources(store, library, [folder])
    update_library(store, library)
    return library


def test_a_reply_gets_numbered_passages_and_keeps_them(store, session, home, embedder):
    chat = Chat(store, session, finder=DocumentFinder(store, embedder))
    conv = chat.ensure_conversation("When is the tax return due?")
    store.set_conversation_library(conv, home.id)
    turn = chat.send("When is the tax return due?", SHORT)
    _, end = run(turn)
    assert [s.number for s in turn.sources] == list(range(1, len(turn.sources) + 1))
    assert 1 <= len(turn.sources) <= 4
    assert Path(turn.sources[0].path).name == "tax.txt"
    assert end.reply.stats.prompt_tokens > session.count_text_tokens(turn.sources[0].text)
    # Stored with the reply: a reopened conversation shows the same passages.
    assert store.sources_for([turn.reply_id]) == {turn.reply_id: turn.sources}


def test_a_follow_up_reuses_the_cached_prompt(store, session, home):
    session.forget()
    chat = Chat(store, session, finder=DocumentFinder(store))
    conv = chat.ensure_conversation("rent")
    store.set_conversation_library(conv, home.id)
    first = chat.send("How much is the rent?", SHORT)
    _, end1 = run(first)
    second = chat.send("And when does the lease end?", SHORT)
    _, end2 = run(second)
    assert second.sources and first.sources
    # Everything up to the first answer, passages included, came from the cache.
    assert end2.reply.stats.evaluated_tokens < end2.reply.stats.prompt_tokens
    assert end2.reply.stats.prompt_tokens - end2.reply.stats.evaluated_tokens >= (
        end1.reply.stats.prompt_tokens
    )
    # A passage the history already carries is not given twice.
    assert not {s.text for s in first.sources} & {s.text for s in second.sources}


def test_attached_short_file_is_given_whole(store, session, folder: Path):
    chat = Chat(store, session, finder=DocumentFinder(store))
    conv = chat.ensure_conversation("Summarise")
    attached = store.attachments_library(conv)
    add_sources(store, attached, [folder / "lease.pdf"])
    update_library(store, attached)
    (doc,) = store.list_documents(attached.id)
    turn = chat.send("Summarise this.", SHORT, attached=[doc.id])
    run(turn)
    assert [s.page for s in turn.sources] == [1, 2, 3]  # every page, in order


def test_the_planner_gives_only_what_fits(session):
    passages = [Passage(i, 1, f"/d/{i}.txt", 0, "word " * 300) for i in range(1, 9)]
    chosen = fit_passages(session, [], passages, reserve=512)
    assert 0 < len(chosen) < len(passages)
    cost = sum(session.count_text_tokens(p.text) for p in chosen)
    assert cost <= (session.n_ctx - 512) // 2


def test_question_layout_and_citations():
    sources = [Source(1, 1, "/a/tax.pdf", 3, "Due in April."), Source(2, 2, "/b/n.md", 0, "x")]
    text = question_with_sources("When?", sources)
    assert text.startswith(INSTRUCTION)
    assert "[1] tax.pdf, page 3:\nDue in April." in text and text.endswith("Question: When?")
    assert cited("As [2] and [1, 2] say (see [2024]).", sources) == [2, 1]
