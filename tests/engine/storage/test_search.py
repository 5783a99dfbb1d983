"""FTS5 search inside the encrypted file."""

from __future__ import annotations

import pytest

from engine.storage.search import fts_query


def test_finds_titles_and_messages_with_marked_snippets(store):
    conv = store.create_conversation("Sourdough starter schedule")
    q = store.add_message(conv.id, None, "user", "How often should I feed it?")
    store.add_message(conv.id, q.id, "assistant", "Feed the starter twice a day.")
    other = store.create_conversation("Taxes")
    store.add_message(other.id, None, "user", "Deadline for filing?")
    (title_hit,) = store.search("schedule")
    assert title_hit.conversation_id == conv.id
    assert title_hit.message_id is None and title_hit.match_count == 0
    assert title_hit.snippet == "Sourdough starter «schedule»"
    (hit,) = store.search("starter")  # the title and a message: one hit, from the message
    assert (hit.conversation_id, hit.message_id, hit.match_count) == (conv.id, q.id + 1, 1)
    assert hit.conversation_title == "Sourdough starter schedule"
    assert "«starter»" in hit.snippet
    for start, end in hit.highlights:
        assert hit.plain_snippet[start:end].lower() == "starter"
    assert [h.message_id for h in store.search("FEED twice")] == [q.id + 1]
    assert [h.conversation_id for h in store.search("deadline")] == [other.id]
    assert store.search("nothing-like-this") == []


def test_one_hit_per_conversation_with_its_match_count(store):
    bread = store.create_conversation("Bread")
    parent = None
    for text in ("knead the dough", "let the dough rest", "bake", "shape the dough"):
        parent = store.add_message(bread.id, parent, "user", text).id
    pasta = store.create_conversation("Pasta")
    store.add_message(pasta.id, None, "user", "fresh dough with eggs")
    titled = store.create_conversation("Dough hydration")
    store.add_message(titled.id, None, "user", "how wet?")
    hits = store.search("dough")
    # The title match first, then by newest matching message.
    assert [(h.conversation_id, h.match_count) for h in hits] == [
        (titled.id, 0),
        (pasta.id, 1),
        (bread.id, 3),
    ]
    assert hits[2].message_id == parent  # the newest of the three
    assert hits[2].plain_snippet == "shape the dough"


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "AND(",
        "NEAR(a b)",
        "*",
        "a OR",
        ")",
        "col:x",
        "^start",
        "'",
        '"unbalanced',
        "-",
        "\x02",
    ],
)
def test_hostile_queries_never_raise(store, query):
    conv = store.create_conversation("t")
    store.add_message(conv.id, None, "user", "and or near col x start")
    store.search(query)


def test_quoting():
    assert fts_query("  ") is None
    assert fts_query('say "hi"') == '"say" """hi"""'
    assert fts_query("AND(") == '"AND("'


def test_index_follows_edits_streaming_and_deletes(store):
    conv = store.create_conversation("first title")
    q = store.add_message(conv.id, None, "user", "q")
    r = store.begin_reply(conv.id, q.id, "m")
    store.update_reply(r.id, "an ephemeral word", "")
    assert store.search("ephemeral") == []  # streaming rows are not indexed yet
    store.finish_reply(r.id, "a permanent word", "", "done")
    assert [h.message_id for h in store.search("permanent")] == [r.id]
    assert store.search("ephemeral") == []
    store.rename(conv.id, "second title")
    assert [h.conversation_id for h in store.search("second")] == [conv.id]
    assert store.search("first") == []
    store.delete_conversation(conv.id)
    assert store.search("permanent") == []
    assert store.search("second") == []


def test_limit_counts_conversations(store):
    for i in range(7):
        conv = store.create_conversation(f"c{i}")
        parent = None
        for j in range(3):
            parent = store.add_message(conv.id, parent, "user", f"repeated word {j}").id
    hits = store.search("repeated", limit=5)
    assert [h.match_count for h in hits] == [3] * 5
    assert len({h.conversation_id for h in hits}) == 5
    assert store.search("repeated", limit=0) == []


def test_thinking_is_searchable_once_the_reply_is_finished(store):
    conv = store.create_conversation("Birds")
    q = store.add_message(conv.id, None, "user", "Which bird is the fastest?")
    reply = store.begin_reply(conv.id, q.id, model_id="m")
    store.update_reply(reply.id, "The peregrine falcon.", "Perhaps the swift, or a falcon?")
    assert store.search("swift") == []  # still streaming: not indexed yet
    store.finish_reply(reply.id, "The peregrine falcon.", "Perhaps the swift, or a falcon?", "done")
    (hit,) = store.search("swift")
    assert hit.message_id == reply.id
    assert "«swift»" in hit.snippet  # the snippet comes from the thinking that matched
    assert [h.message_id for h in store.search("peregrine")] == [reply.id]
    store.delete_conversation(conv.id)
    assert store.search("swift") == []
