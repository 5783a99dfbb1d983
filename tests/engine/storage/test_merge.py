"""Adding a backup's conversations (``hearth restore``): every branch, the active one, and
the passages replies were given come along; nothing already here is touched."""

from __future__ import annotations

from engine.storage import open_memory_store
from engine.storage.types import Source


def _conversation(store, title: str) -> int:
    conv = store.create_conversation(title, "Be brief.")
    q = store.add_message(conv.id, None, "user", f"{title}?")
    first = store.begin_reply(conv.id, q.id, "m")
    store.finish_reply(first.id, "First answer [1].", "thinking", "done")
    store.save_sources(first.id, [Source(1, 7, "/docs/a.pdf", 2, "A passage.")])
    edited = store.edit_user_message(q.id, f"{title}, edited?")
    second = store.begin_reply(conv.id, edited.id, "m")
    store.finish_reply(second.id, "Second answer.", "", "interrupted")
    return conv.id


def test_every_branch_and_source_comes_along_and_nothing_is_replaced():
    backup, here = open_memory_store(), open_memory_store()
    copied = _conversation(backup, "Trip")
    kept = here.create_conversation("Mine")
    plan = here.merge_from(backup)
    assert [t for _, t in plan.new] == ["Trip"] and plan.already_here == 0
    (new,) = [c for c in here.list_conversations() if c.title == "Trip"]
    old_all, new_all = backup.all_messages(copied), here.all_messages(new.id)
    assert [(m.role, m.content, m.status) for m in new_all] == [
        (m.role, m.content, m.status) for m in old_all
    ]
    assert [m.content for m in here.active_path(new.id)] == [
        m.content for m in backup.active_path(copied)
    ]  # the branch shown is the same one
    assert here.get_conversation(new.id).system_prompt == "Be brief."
    first_reply = next(m for m in new_all if m.content == "First answer [1].")
    (sources,) = here.sources_for([first_reply.id]).values()
    assert [(s.path, s.page, s.text, s.document_id) for s in sources] == [
        ("/docs/a.pdf", 2, "A passage.", None)  # the document itself is not in this store
    ]
    assert here.get_conversation(kept.id).title == "Mine"
    again = here.merge_from(backup)
    assert again.new == [] and again.already_here == 1
