"""One thread owns the store's connection; every other thread asks it.

As Signal Desktop's main SQL worker owns its database, a ``StoreOwner`` runs every store call
on its own thread, one at a time, in the order they were asked for: the desktop's background
work, the model thread's streaming saves, the egress ledger's entries. While an owner is
running, the store refuses any call from another thread (``StoreThreadError``), so a path that
bypasses the owner fails loudly in tests instead of racing in the field.

    owner = StoreOwner(store)
    future = owner.submit(store.list_conversations)  # from any thread, answered on the owner's
    turn_store = owner.routed()  # a ConversationStore whose every call runs on the owner
    ...
    owner.close()  # finishes what is queued; the store is free for any one thread again

The CLI uses the store from its one thread and needs no owner.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from engine.storage.errors import StoreClosed
from engine.storage.store import ConversationStore

log = logging.getLogger(__name__)
T = TypeVar("T")

THREAD_NAME = "hearth-storage"


class StoreOwner:
    """Runs store work on one thread, in order. Safe to call from any thread."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=THREAD_NAME
        )
        self._closed = False
        self._ident = self._executor.submit(self._bind).result()

    def _bind(self) -> int:
        ident = threading.get_ident()
        self._store.bind_thread(ident)
        return ident

    @property
    def store(self) -> ConversationStore:
        """The store itself: use it only inside functions given to ``submit`` or ``call``."""
        return self._store

    @property
    def closed(self) -> bool:
        return self._closed

    def on_owner_thread(self) -> bool:
        return threading.get_ident() == self._ident

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn`` on the owner thread; its result (or exception) arrives in the future.

        Raises: StoreClosed (the owner is closed: nothing more is accepted).
        """
        if self._closed:
            raise StoreClosed()
        try:
            return self._executor.submit(fn)
        except RuntimeError as exc:  # shut down between the check and the submit
            raise StoreClosed() from exc

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the owner thread and wait for it (directly when already there).

        Raises: whatever ``fn`` raises; StoreClosed once the owner is closed.
        """
        if self.on_owner_thread():
            return fn()
        return self.submit(fn).result()

    def post(self, fn: Callable[[], object]) -> None:
        """Queue ``fn`` without waiting: a failure is logged by its type only (the call may
        concern chat text, which never goes to a log). Dropped once the owner is closed."""

        def run() -> None:
            try:
                fn()
            except Exception as exc:
                log.warning("store call failed: %s", type(exc).__name__)

        if self.on_owner_thread():
            run()
            return
        try:
            self.submit(run)
        except StoreClosed:
            log.info("store call dropped: the store owner is closed")

    def routed(self) -> ConversationStore:
        """The store as a thread that is not the owner must see it: each method call (and
        property read) runs on the owner thread and returns its result there."""
        return cast(ConversationStore, _RoutedStore(self))

    def close(self) -> None:
        """Finish the queued work, stop the thread and free the store for any one thread
        (the one that closes it, usually). The store itself stays open. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._executor.submit(lambda: self._store.bind_thread(None))
        self._executor.shutdown(wait=True)


class _RoutedStore:
    """Stands in for a ConversationStore on another thread (``StoreOwner.routed``)."""

    def __init__(self, owner: StoreOwner) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        store = self._owner.store
        attribute = getattr(type(store), name, None)
        if isinstance(attribute, property):
            return self._owner.call(lambda: getattr(store, name))
        if not callable(attribute):
            raise AttributeError(name)

        def routed_call(*args: Any, **kwargs: Any) -> Any:
            return self._owner.call(lambda: getattr(store, name)(*args, **kwargs))

        return routed_call
