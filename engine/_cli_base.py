"""Terminal plumbing every command shares: the store (or one in memory when it cannot be
opened) with the egress ledger kept in it, and Ctrl+C turned into a callback.

Imported by engine/cli.py's commands after the egress policy is installed.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.storage import ConversationStore


def open_store_or_memory(no_save: bool) -> ConversationStore:
    """The encrypted store, or one in memory when it cannot be opened: the question is still
    answered, and the person is told it is not being saved and why."""
    from engine.storage import StorageError, open_memory_store, open_store  # noqa: PLC0415

    if no_save:
        return open_memory_store()
    try:
        return open_store()
    except StorageError as exc:
        print(f"note: this conversation will not be saved. {exc.full_message}", file=sys.stderr)
        return open_memory_store()


@contextlib.contextmanager
def on_ctrl_c(handler: Callable[[], object]) -> Iterator[None]:
    """Ctrl+C (SIGINT) calls ``handler`` instead of raising KeyboardInterrupt, until the block
    ends; the previous handler is put back then."""

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        handler()

    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def store_context(no_save: bool) -> Iterator[ConversationStore]:
    """The store, with the egress ledger kept in it while the block runs."""
    import engine.policy  # noqa: PLC0415

    with open_store_or_memory(no_save) as store:
        engine.policy.ledger().attach(store.record_egress)
        try:
            yield store
        finally:
            engine.policy.ledger().detach()
