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


def not_utf8(text: str) -> str | None:
    """Why ``text`` is not UTF-8 text, or None. Bytes that are not UTF-8 reach Python as lone
    surrogates (argv and streams decode with ``surrogateescape``) and would fail later, deep
    in tokenizing or saving."""
    for position, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            return (
                f"byte 0x{ord(ch) - 0xDC00:02X} at character {position + 1} is not UTF-8 "
                "(is the terminal set to another encoding?)"
            )
    return None


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
    ends; so do SIGTERM and SIGHUP (a shutdown, a closed terminal), after which the block's
    work ends as for Ctrl+C and the process exits with 128 + the signal's number. The
    previous handlers are put back at the end."""
    ending: list[int] = []

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        if sig != signal.SIGINT:
            ending.append(sig)
        handler()

    names = ("SIGINT", "SIGTERM", "SIGHUP")  # SIGHUP is POSIX only
    wanted = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, on_signal) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    if ending:
        raise SystemExit(128 + ending[0])


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
