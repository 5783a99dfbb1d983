"""Terminal plumbing every command shares: the store (or one in memory when it cannot be
opened) with the egress ledger kept in it, and Ctrl+C turned into a callback.

Imported by engine/cli.py's commands after the egress policy is installed.
"""

from __future__ import annotations

import contextlib
import getpass
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


PASSPHRASE_TRIES = 3


def read_secret(prompt: str) -> str | None:
    """A passphrase typed at the terminal (not echoed), or None where there is no terminal
    to ask on (getpass would fall back to reading standard input, and echo it)."""
    try:
        with open("/dev/tty", "rb"):
            pass
    except OSError:
        if not sys.stdin.isatty():
            return None
    try:
        return getpass.getpass(prompt)
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return None


def open_history() -> ConversationStore:
    """The encrypted store. A history protected by a passphrase asks for it at the terminal
    (three tries).

    Raises: StorageError, PassphraseRequired (no terminal to ask on, or no right answer).
    """
    from engine.storage import (  # noqa: PLC0415
        KeyNotFound,
        PassphraseRequired,
        StorageError,
        WrongKey,
        open_store,
    )
    from engine.storage.keys import set_uses_passphrase  # noqa: PLC0415

    required: StorageError
    try:
        return open_store()
    except PassphraseRequired as exc:
        required = exc
    except KeyNotFound as exc:  # no key in the keychain: it may be a passphrase's history
        required = exc
        print(f"{exc.user_message} If you protected it with a passphrase:", file=sys.stderr)
    for _ in range(PASSPHRASE_TRIES):
        passphrase = read_secret("Passphrase of your history: ")
        if passphrase is None:
            break
        try:
            store = open_store(passphrase=passphrase)
        except WrongKey:
            print("That passphrase does not open it.", file=sys.stderr)
            continue
        if isinstance(required, KeyNotFound):
            set_uses_passphrase(store.path, True)  # asked for at once from now on
        return store
    if isinstance(required, PassphraseRequired):
        required.next_step = "Run the command again in a terminal and enter your passphrase."
    raise required


def open_store_or_memory(no_save: bool, *, read_only_ok: bool = False) -> ConversationStore:
    """The encrypted store, or one in memory when it cannot be opened or saved into: the
    question is still answered, and the person is told it is not being saved and why. With
    ``read_only_ok`` a damaged history is returned as it is (read-only), for commands that
    only read."""
    from engine.storage import DatabaseDamaged, StorageError, open_memory_store  # noqa: PLC0415

    if no_save:
        return open_memory_store()
    try:
        store = open_history()
    except StorageError as exc:
        print(f"note: this conversation will not be saved. {exc.full_message}", file=sys.stderr)
        return open_memory_store()
    if store.damage is not None:
        problem = DatabaseDamaged(store.damage.describe())
        if read_only_ok:
            print(f"note: {problem.full_message}", file=sys.stderr)
            return store
        print(f"note: this conversation will not be saved. {problem.full_message}", file=sys.stderr)
        store.close()
        return open_memory_store()
    return store


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
def store_context(no_save: bool, *, read_only_ok: bool = False) -> Iterator[ConversationStore]:
    """The store (as ``open_store_or_memory`` gives it), with the egress ledger kept in it
    while the block runs."""
    import engine.policy  # noqa: PLC0415

    with open_store_or_memory(no_save, read_only_ok=read_only_ok) as store:
        engine.policy.ledger().attach(store.record_egress)
        try:
            yield store
        finally:
            engine.policy.ledger().detach()


@contextlib.contextmanager
def ledger_kept() -> Iterator[None]:
    """The egress ledger written into the encrypted store while the block runs: a download's
    connections belong in the record ``hearth privacy`` shows later, not only in memory."""
    import engine.policy  # noqa: PLC0415
    from engine.storage import StorageError  # noqa: PLC0415

    try:
        store = open_history()
    except StorageError as exc:
        print(
            f"note: this download is recorded in this session's ledger only. {exc.user_message}",
            file=sys.stderr,
        )
        yield
        return
    with store:
        engine.policy.ledger().attach(store.record_egress)
        try:
            yield
        finally:
            engine.policy.ledger().detach()
