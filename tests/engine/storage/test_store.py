"""Conversations and the message tree on a real SQLCipher file."""

from __future__ import annotations

import json

import pytest

from engine.storage import (
    MessageStats,
    RecordNotFound,
    ReplyNotStreaming,
    StoreClosed,
    open_store,
)


def test_round_trip_survives_reopen(keychain, db_path):
    with open_store(db_path) as store:
        conv = store.create_conversation("Trip", system_prompt="Be brief.")
        q = store.add_message(conv.id, None, "user", "Where to?")
        r = store.begin_reply(conv.id, q.id, model_id="smollm2")
        assert r.status == "streaming"
        store.update_reply(r.id, "Some", "hmm")
        stats = MessageStats(12, 34, 0.25, 140.5)
        done = store.finish_reply(r.id, "Somewhere warm.", "hmm, warm", "done", stats)
        assert done.status == "done"
        store.set_setting("theme", "dark")
    with open_store(db_path) as store:
        conv2 = store.get_conversation(conv.id)
        assert (conv2.title, conv2.system_prompt, conv2.pinned) == ("Trip", "Be brief.", False)
        path = store.active_path(conv.id)
        assert [(m.role, m.content) for m in path] == [
            ("user", "Where to?"),
            ("assistant", "Somewhere warm."),
        ]
        reply = path[1]
        assert (reply.thinking, reply.model_id, reply.status) == ("hmm, warm", "smollm2", "done")
        assert reply.stats == stats
        assert path[0].stats is None
        assert reply.parent_id == q.id
        assert reply.created_at <= reply.updated_at
        assert store.get_setting("theme") == "dark"
        assert store.get_setting("missing", "x") == "x"


def test_conversation_list_rename_pin_prompt_delete(store):
    a = store.create_conversation("A")
    b = store.create_conversation("B")
    store.add_message(a.id, None, "user", "newer activity")
    assert [c.title for c in store.list_conversations()] == ["A", "B"]
    store.set_pinned(b.id, True)
    store.rename(b.id, "B2")
    store.set_system_prompt(b.id, "You are terse.")
    listed = store.list_conversations()
    assert [(c.title, c.pinned) for c in listed] == [("B2", True), ("A", False)]
    assert store.get_conversation(b.id).system_prompt == "You are terse."
    store.delete_conversation(a.id)
    assert [c.id for c in store.list_conversations()] == [b.id]
    with pytest.raises(RecordNotFound):
        store.get_conversation(a.id)
    with pytest.raises(RecordNotFound):
        store.delete_conversation(a.id)
    with pytest.raises(RecordNotFound):
        store.rename(a.id, "x")


def test_settings_set_overwrite_delete(store):
    store.set_setting("k", "1")
    store.set_setting("k", "2")
    assert store.get_setting("k") == "2"
    store.delete_setting("k")
    assert store.get_setting("k") is None


def test_regenerate_and_edit_make_branches(store):
    conv = store.create_conversation("Branches")
    q1 = store.add_message(conv.id, None, "user", "q1")
    a1 = store.add_message(conv.id, q1.id, "assistant", "a1")
    q2 = store.add_message(conv.id, a1.id, "user", "q2")
    a2 = store.add_message(conv.id, q2.id, "assistant", "a2")
    # Regenerate the first answer: a sibling of a1, now active.
    a1b = store.begin_reply(conv.id, q1.id, "m")
    store.finish_reply(a1b.id, "a1 again", "", "done")
    assert [m.content for m in store.active_path(conv.id)] == ["q1", "a1 again"]
    assert [m.id for m in store.siblings(a1.id)] == [a1.id, a1b.id]
    # Switching back follows the most recently active child down to a2.
    path = store.switch_branch(a1.id)
    assert [m.id for m in path] == [q1.id, a1.id, q2.id, a2.id]
    assert store.get_conversation(conv.id).active_leaf_id == a2.id
    # Edit the first question: a sibling root; the old branch stays intact.
    q1b = store.edit_user_message(q1.id, "q1 edited")
    assert q1b.parent_id is None
    assert [m.content for m in store.active_path(conv.id)] == ["q1 edited"]
    assert [m.id for m in store.siblings(q1.id)] == [q1.id, q1b.id]
    a_new = store.add_message(conv.id, q1b.id, "assistant", "answer to edit")
    path = store.switch_branch(q1.id)
    assert [m.id for m in path] == [q1.id, a1.id, q2.id, a2.id]  # remembered deep choice
    path = store.switch_branch(q1b.id)
    assert [m.id for m in path] == [q1b.id, a_new.id]
    # Within the old branch, choose the regenerated answer.
    store.switch_branch(q1.id)
    path = store.switch_branch(a1b.id)
    assert [m.id for m in path] == [q1.id, a1b.id]
    with pytest.raises(ValueError, match="user messages"):
        store.edit_user_message(a1.id, "no")
    assert len(store.all_messages(conv.id)) == 7


def test_branch_state_survives_reopen(keychain, db_path):
    with open_store(db_path) as store:
        conv = store.create_conversation("c")
        q = store.add_message(conv.id, None, "user", "q")
        a = store.add_message(conv.id, q.id, "assistant", "a")
        store.add_message(conv.id, q.id, "assistant", "b")
        store.switch_branch(a.id)
    with open_store(db_path) as store:
        assert [m.content for m in store.active_path(conv.id)] == ["q", "a"]


def test_streaming_rules(store):
    conv = store.create_conversation("c")
    q = store.add_message(conv.id, None, "user", "q")
    r = store.begin_reply(conv.id, q.id, "m")
    store.finish_reply(r.id, "done", "", "interrupted")
    with pytest.raises(ReplyNotStreaming):
        store.update_reply(r.id, "more", "")
    with pytest.raises(ReplyNotStreaming):
        store.finish_reply(r.id, "more", "", "done")
    with pytest.raises(RecordNotFound):
        store.update_reply(9999, "x", "")
    with pytest.raises(ValueError, match="status"):
        store.finish_reply(r.id, "x", "", "streaming")
    with pytest.raises(RecordNotFound):
        store.add_message(conv.id, 9999, "user", "orphan")
    other = store.create_conversation("other")
    with pytest.raises(RecordNotFound):
        store.add_message(other.id, q.id, "user", "wrong conversation")
    with pytest.raises(RecordNotFound):
        store.add_message(9999, None, "user", "no conversation")


def test_streaming_reply_left_open_is_interrupted_on_next_open(keychain, db_path):
    with open_store(db_path) as store:
        conv = store.create_conversation("c")
        q = store.add_message(conv.id, None, "user", "q")
        r = store.begin_reply(conv.id, q.id, "m")
        store.update_reply(r.id, "partial answ", "")
    with open_store(db_path) as store:
        reply = store.get_message(r.id)
        assert (reply.status, reply.content) == ("interrupted", "partial answ")
        assert [h.message_id for h in store.search("partial")] == [r.id]


def test_export_markdown_and_json(store):
    conv = store.create_conversation("Export me", system_prompt="sys")
    q = store.add_message(conv.id, None, "user", "hello *there*")
    r = store.begin_reply(conv.id, q.id, "smollm2")
    store.finish_reply(r.id, "general kenobi", "thinking...", "done", MessageStats(1, 2))
    store.add_message(conv.id, q.id, "assistant", "other branch")
    store.switch_branch(r.id)
    md = store.export_markdown(conv.id)
    assert md.startswith("# Export me\n")
    assert "## System prompt\n\nsys" in md
    assert "## You\n\nhello *there*" in md
    assert "## Assistant (smollm2)" in md
    assert "general kenobi" in md
    assert "thinking..." in md
    assert "other branch" not in md  # Markdown is the active branch
    doc = json.loads(store.export_json(conv.id))
    assert doc["format"] == "hearth-conversation"
    assert doc["conversation"]["title"] == "Export me"
    assert doc["active_path"] == [q.id, r.id]
    assert [m["content"] for m in doc["messages"]] == [
        "hello *there*",
        "general kenobi",
        "other branch",
    ]
    assert doc["messages"][1]["stats"]["generated_tokens"] == 2
    with pytest.raises(RecordNotFound):
        store.export_json(9999)


def test_closed_store_refuses_use(keychain, db_path):
    store = open_store(db_path)
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(StoreClosed):
        store.list_conversations()
