"""What ``hearth ask`` and ``hearth chat`` share: the store and model they open, one turn
streamed to the terminal, and Ctrl+C turned into a stop request.

Imported by engine/cli.py after the egress policy is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pathlib import Path

    from engine.catalog.catalog import CatalogModel
    from engine.chat import Chat, Turn
    from engine.docs import DocumentFinder
    from engine.inference import GenerationControl, GenerationOptions, ModelSession, Reply
    from engine.storage import ConversationStore, StorageError

from engine._cli_base import on_ctrl_c, store_context

DIM, RESET = "\033[2m", "\033[0m"


class Printer:
    """Streams chunks to the terminal: answer to stdout, everything else to stderr."""

    def __init__(self, out: TextIO, err: TextIO, show_thinking: bool) -> None:
        self.out, self.err = out, err
        self.show_thinking = show_thinking
        self.color = out.isatty()
        self.status_shown = False
        self.thinking_started = False
        self.thinking_chars = 0

    def thinking(self, text: str) -> None:
        if self.show_thinking:
            if not self.thinking_started:
                self.out.write(f"{DIM}[thinking]{RESET}\n" if self.color else "[thinking]\n")
                self.thinking_started = True
            self.out.write(f"{DIM}{text}{RESET}" if self.color else text)
            self.out.flush()
        elif self.err.isatty():
            self.thinking_chars += len(text)
            self.err.write(f"\r{DIM}thinking… {self.thinking_chars:,} characters{RESET}")
            self.err.flush()
            self.status_shown = True

    def answer(self, text: str) -> None:
        self._clear_status()
        if self.thinking_started:
            self.out.write("\n[answer]\n")
            self.thinking_started = False
        self.out.write(text)
        self.out.flush()

    def notice(self, message: str) -> None:
        self._clear_status()
        self.err.write(f"note: {message}\n")
        self.err.flush()

    def finished(self, reply: Reply, stats: bool) -> None:
        from engine.inference import FinishReason  # noqa: PLC0415

        self._clear_status()
        self.out.write("\n")
        self.out.flush()
        if reply.finish_reason is FinishReason.CANCELLED:
            self.err.write(f"{DIM}stopped{RESET}\n" if self.err.isatty() else "stopped\n")
            self.err.flush()
        if stats:
            s = reply.stats
            self.err.write(
                f"{s.generated_tokens} tokens · {s.tokens_per_second:.1f} tokens/s · first "
                f"token {s.time_to_first_token_s:.2f} s · prompt {s.prompt_tokens} tokens "
                f"({s.evaluated_tokens} evaluated)\n"
            )

    def _clear_status(self) -> None:
        if self.status_shown:
            self.err.write("\r\033[K")
            self.status_shown = False


def generation_options(args: argparse.Namespace) -> GenerationOptions:
    from engine.inference import GenerationOptions  # noqa: PLC0415

    return GenerationOptions(
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        thinking_budget=args.thinking_budget,
        seed=args.seed,
    )


def load_model(args: argparse.Namespace, path: Path, entry: CatalogModel | None) -> ModelSession:
    """Load ``path`` with the command line's placement options (--ctx, --gpu-layers,
    --threads).

    Raises: ModelError, ModelDoesNotFit.
    """
    from engine.inference import open_model  # noqa: PLC0415

    return open_model(
        path, entry=entry, n_ctx=args.ctx, gpu_layers=args.gpu_layers, threads=args.threads
    )


@contextlib.contextmanager
def ctrl_c_stops(control: GenerationControl) -> Iterator[None]:
    """While a reply streams, Ctrl+C stops it (``control.cancel``). In a terminal the driver's
    "^C" echo is off meanwhile: the token generated while the stop was noticed is shown and
    kept, and a "^C" in front of it made it look stray; "stopped" follows on its own line."""
    with on_ctrl_c(control.cancel), _no_control_echo(sys.stdin):
        yield


@contextlib.contextmanager
def _no_control_echo(stream: TextIO) -> Iterator[None]:
    try:
        import termios  # noqa: PLC0415  (POSIX only)
    except ImportError:
        yield
        return
    try:
        fd = stream.fileno()
        before = termios.tcgetattr(fd) if stream.isatty() else None
    except (OSError, ValueError, termios.error):  # no descriptor, or not a terminal
        before = None
    if before is None:
        yield
        return
    quiet = list(before)
    quiet[3] = before[3] & ~termios.ECHOCTL
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, before)


@contextlib.contextmanager
def chat_context(args: argparse.Namespace) -> Iterator[Chat]:
    """Store (with the egress ledger kept in it), then model; closed in reverse order."""
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.installed import resolve  # noqa: PLC0415
    from engine.chat import Chat  # noqa: PLC0415

    with store_context(args.no_save) as store:
        catalog = load_catalog()
        path, entry = resolve(catalog, args.model)
        with load_model(args, path, entry) as session, document_finder(args, store) as finder:
            yield Chat(store, session, system_prompt=args.system, finder=finder)


@contextlib.contextmanager
def document_finder(
    args: argparse.Namespace, store: ConversationStore
) -> Iterator[DocumentFinder | None]:
    """Passages for the reply when ``--library`` or ``--file`` asks for them (with the
    installed embedding model, if any); None otherwise."""
    if not (getattr(args, "library", None) or getattr(args, "file", None)):
        yield None
        return
    from engine._cli_docs import open_embedder_noting  # noqa: PLC0415
    from engine.docs import DocumentFinder  # noqa: PLC0415

    embedder = open_embedder_noting(note=False)
    try:
        yield DocumentFinder(store, embedder)
    finally:
        if embedder is not None:
            embedder.close()


def run_turn(
    chat: Chat,
    question: str,
    args: argparse.Namespace,
    control: GenerationControl,
    *,
    on_unsaved: Callable[[Turn, StorageError], None] | None = None,
) -> None:
    """Ask ``question`` in ``chat`` and stream the reply to the terminal. A reply stopped
    with ``control`` ends with "stopped" on its own line (it is kept as 'interrupted'). A
    reply shown in full but not saved (a full disk) goes to ``on_unsaved`` (by default
    ``save_again``) once its sources are printed.

    Raises: what Chat.send and iterating its Turn raise.
    """
    from engine._cli_docs import prepare_documents, print_sources  # noqa: PLC0415
    from engine.inference import Answer, Finished, Notice, Thinking  # noqa: PLC0415
    from engine.storage import StorageError  # noqa: PLC0415

    printer = Printer(sys.stdout, sys.stderr, args.show_thinking)
    attached = prepare_documents(chat, question, args)
    turn = chat.send(question, generation_options(args), control, attached=attached)
    answer: list[str] = []
    try:
        for chunk in turn:
            if isinstance(chunk, Answer):
                answer.append(chunk.text)
                printer.answer(chunk.text)
            elif isinstance(chunk, Thinking):
                printer.thinking(chunk.text)
            elif isinstance(chunk, Notice):
                printer.notice(chunk.message)
            elif isinstance(chunk, Finished):
                printer.finished(chunk.reply, args.stats)
    except StorageError as exc:
        if turn.unsaved is None:
            raise
        print_sources(turn.sources, "".join(answer), sys.stdout)
        (on_unsaved or save_again)(turn, exc)
        return
    print_sources(turn.sources, "".join(answer), sys.stdout)


def save_again(turn: Turn, problem: StorageError) -> None:
    """The reply was shown but could not be saved (a full disk): in a terminal, offer to save
    it once space is freed; elsewhere say so and raise ``problem``.

    Raises: StorageError when it stays unsaved.
    """
    from engine.storage import StorageError  # noqa: PLC0415

    print(f"\nThis reply was shown but not saved: {problem.user_message}", file=sys.stderr)
    if not sys.stdin.isatty():
        problem.next_step = "Free some disk space; the reply above is the only copy."
        raise problem
    while True:
        try:
            typed = input("Free some space, then press Enter to save it (q: leave it unsaved): ")
        except (EOFError, KeyboardInterrupt):
            typed = "q"
        if typed.strip().lower() == "q":
            print("Not saved; the reply above is the only copy.", file=sys.stderr)
            return
        try:
            turn.retry_save()
        except StorageError as exc:
            print(f"Still not saved: {exc.user_message}", file=sys.stderr)
            continue
        print("Saved.", file=sys.stderr)
        return
