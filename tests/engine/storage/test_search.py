"""FTS5 search inside the encrypted file."""

from __future__ import annotations

import pytest

from engine.storage.search import fts_query


def test_finds_titles_and_messages_with_marked_snippets(store):
    conv = store.create_conversation("Sourdough starter schedule")
    q = store.add_message(conv.id, None, "user", "How often should I feed the starter?")
    store.add_message(conv.id, q.id, "assistant", "Feed it twice a day at room temperature.")
    other = store.create_conversation("Taxes")
    store.add_message(other.id, None, "user", "Deadline for filing?")
    hits = store.search("starter")
    assert hits[0].message_id is None  # the title hit first
    assert hits[0].conversation_id == conv.id
    assert hits[0].snippet == "Sourdough «starter» schedule"
    message_hit = hits[1]
    assert message_hit.message_id == q.id
    assert message_hit.conversation_title == "Sourdough starter schedule"
    assert "«starter»" in message_hit.snippet
    for start, end in message_hit.highlights:
        assert message_hit.plain_snippet[start:end].lower() == "starter"
    assert [h.message_id for h in store.search("FEED twice")] == [q.id + 1]
    assert store.search("nothing-like-this") == []


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


def test_limit(store):
    conv = store.create_conversation("c")
    parent = None
    for i in range(20):
        parent = store.add_message(conv.id, parent, "user", f"repeated word {i}").id
    assert len(store.search("repeated", limit=5)) == 5
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
