"""The store's owner thread: every call runs there, in order; nothing else may touch the
connection while it runs (the real encrypted store and keychain)."""

from __future__ import annotations

import logging
import threading

import pytest

from engine.storage import ConversationStore, StoreClosed, StoreOwner, StoreThreadError


def test_calls_run_on_the_owner_thread_and_no_other_thread_may_use_the_store(
    store: ConversationStore,
):
    owner = StoreOwner(store)
    try:
        threads = owner.call(lambda: threading.current_thread().name)
        assert threads.startswith("hearth-storage")
        with pytest.raises(StoreThreadError):
            store.list_conversations()  # this thread is not the owner
        conv = owner.call(lambda: store.create_conversation("Trip"))
        assert owner.submit(store.list_conversations).result()[0].id == conv.id
    finally:
        owner.close()
    # Closed: the store is free for one thread again, and the owner accepts nothing more.
    assert [c.id for c in store.list_conversations()] == [conv.id]
    with pytest.raises(StoreClosed):
        owner.submit(store.list_conversations)


def test_calls_from_several_threads_run_one_at_a_time_in_order(store: ConversationStore):
    owner = StoreOwner(store)
    conv = owner.call(lambda: store.create_conversation("Order"))
    routed = owner.routed()
    try:
        question = routed.add_message(conv.id, None, "user", "q")
        reply = routed.begin_reply(conv.id, question.id, "m")
        # The model thread's streaming saves and the GUI's reads interleave; each is whole.
        seen: list[str] = []

        def stream() -> None:
            for n in range(1, 41):
                routed.update_reply(reply.id, "x" * n)

        def read() -> None:
            for _ in range(40):
                seen.append(routed.get_message(reply.id).content)

        threads = [threading.Thread(target=stream), threading.Thread(target=read)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(s == "x" * len(s) for s in seen)
        lengths = [len(s) for s in seen]
        assert lengths == sorted(lengths)  # saves are never seen out of order
        assert routed.get_message(reply.id).content == "x" * 40
        assert routed.path == store.path  # properties are read on the owner too
    finally:
        owner.close()


def test_post_logs_a_failure_by_type_only_and_drops_calls_after_close(
    store: ConversationStore, caplog: pytest.LogCaptureFixture
):
    owner = StoreOwner(store)
    secret = "my bank PIN is 4321"
    with caplog.at_level(logging.INFO, logger="engine.storage.owner"):
        owner.post(lambda: store.rename(999_999, secret))  # no such conversation
        owner.call(lambda: None)  # the posted call has run by now
        owner.close()
        owner.post(lambda: store.create_conversation(secret))
    assert "RecordNotFound" in caplog.text
    assert "dropped" in caplog.text
    assert secret not in caplog.text
    assert store.list_conversations() == []
