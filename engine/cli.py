"""The command line: ``hearth ask``, ``hearth chat``, ``hearth models``.

Project imports happen inside functions, after the egress policy is installed: the policy
must be in place before any other Hearth code runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.catalog.catalog import Catalog


def bounded(kind: type, low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` from ``low`` to ``high``, or a clear error (a
    negative context, say, would otherwise reach the planner)."""
    word = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {word}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:,} and {high:,}")
        return value

    return parse


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", "-m", help="catalog id or path to a .gguf (default: starter)")
    p.add_argument("--show-thinking", action="store_true", help="print the model's thinking")
    p.add_argument(
        "--max-tokens",
        type=bounded(int, 1, 1_000_000),
        help="stop the reply after this many tokens",
    )
    p.add_argument(
        "--thinking-budget", type=bounded(int, 1, 1_000_000), help="tokens the model may think"
    )
    p.add_argument(
        "--ctx", type=bounded(int, 16, 1 << 24), help="context size in tokens (default: planned)"
    )
    p.add_argument(
        "--threads", type=bounded(int, 1, 1024), help="CPU threads (default: physical cores)"
    )
    p.add_argument(
        "--gpu-layers", type=bounded(int, 0, 100_000), help="layers on the GPU (default: planned)"
    )
    p.add_argument("--temperature", type=bounded(float, 0.0, 5.0))
    p.add_argument("--seed", type=bounded(int, 0, 2**32 - 2))
    p.add_argument("--system", default="", help="system prompt")
    p.add_argument("--stats", action="store_true", help="print speed figures after the reply")
    p.add_argument(
        "--no-save",
        action="store_true",
        help="keep this conversation in memory only; nothing is written to disk",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Hearth: a private AI assistant that runs entirely on this computer. "
        "With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question and exit")
    ask.add_argument(
        "question",
        nargs="*",
        help="the question; '-' reads it from standard input (so does no question when input "
        "comes from a pipe), which keeps it out of the process list",
    )
    _model_args(ask)
    ask.add_argument(
        "--library", "-l", help="answer from this library of your documents (hearth docs)"
    )
    ask.add_argument(
        "--file",
        "-f",
        action="append",
        type=Path,
        metavar="PATH",
        help="attach a file to the question (repeatable); read in place, kept only encrypted",
    )
    chat = sub.add_parser(
        "chat", help="chat in the terminal (/help lists its commands; Ctrl+C stops a reply)"
    )
    _model_args(chat)
    chat.add_argument("--library", "-l", help="answer from this library of your documents")
    from engine._cli_history import add_history_args  # noqa: PLC0415
    from engine._cli_records import add_records_args  # noqa: PLC0415

    add_records_args(sub)
    add_history_args(sub)
    _docs_args(
        sub.add_parser(
            "docs",
            help="libraries of your files for questions: add, list, remove, search, update",
        )
    )
    _models_args(
        sub.add_parser(
            "models",
            help="list the catalog, what is installed, what fits here; pull, import, "
            "remove and verify models",
        )
    )
    privacy = sub.add_parser(
        "privacy", help="show the egress ledger: every network or program attempt"
    )
    privacy.add_argument(
        "--limit", type=bounded(int, 1, 1_000_000), default=200, help="newest entries to show"
    )
    sub.add_parser("privacy-check", help="self-audit: trace a short offline chat at the OS level")
    return parser


# A question read from standard input is bounded: tokenizing an endless pipe would hang.
MAX_QUESTION_CHARS = 1_000_000


def _question(args: argparse.Namespace) -> str | None:
    """The question for ``hearth ask``: the words after it, or standard input for ``-`` (or
    for no words when input comes from a pipe). None after a usage error was printed."""
    from engine._cli_base import not_utf8  # noqa: PLC0415

    words = args.question
    if words and words != ["-"]:
        text = " ".join(words)
        problem = not_utf8(text)
        if problem:
            print(
                f"hearth ask: the question is not text Hearth can read: {problem}.", file=sys.stderr
            )
            return None
        return text
    if not words and sys.stdin.isatty():
        print(
            "hearth ask: no question. Give it after 'ask', or run 'hearth ask -' to type it "
            "(or pipe it) on standard input, which keeps it out of the process list.",
            file=sys.stderr,
        )
        return None
    if sys.stdin.isatty():
        print("Type the question, then Ctrl+D on an empty line.", file=sys.stderr)
    try:
        text = sys.stdin.read(MAX_QUESTION_CHARS + 1)
    except UnicodeDecodeError:
        print("hearth ask: standard input is not text.", file=sys.stderr)
        return None
    if len(text) > MAX_QUESTION_CHARS:
        print(
            f"hearth ask: the question is longer than {MAX_QUESTION_CHARS:,} characters.",
            file=sys.stderr,
        )
        return None
    if not text.strip():
        print("hearth ask: the question read from standard input is empty.", file=sys.stderr)
        return None
    problem = not_utf8(text)
    if problem:
        print(
            f"hearth ask: standard input is not text Hearth can read: {problem}.", file=sys.stderr
        )
        return None
    return text.strip()


def cmd_ask(args: argparse.Namespace) -> int:
    from engine._cli_turn import chat_context, ctrl_c_stops, run_turn  # noqa: PLC0415
    from engine.inference import GenerationControl  # noqa: PLC0415

    question = _question(args)
    if question is None:
        return 2
    with chat_context(args) as chat:
        control = GenerationControl()
        with ctrl_c_stops(control):
            run_turn(chat, question, args, control)
        return 130 if control.cancelled else 0


def cmd_chat(args: argparse.Namespace) -> int:
    from engine._cli_chat import run_chat  # noqa: PLC0415

    return run_chat(args)


def _models_args(p: argparse.ArgumentParser) -> None:
    msub = p.add_subparsers(dest="models_command", metavar="{pull,import,remove,verify}")
    pull = msub.add_parser("pull", help="download a catalog model (resumes an earlier try)")
    pull.add_argument("id", help="catalog id (see 'hearth models')")
    pull.add_argument(
        "--allow-download",
        action="store_true",
        help="allow this one download in Local-only mode; Local-only is back when it ends",
    )
    imp = msub.add_parser("import", help="check a .gguf file you have and add it")
    imp.add_argument("path")
    imp.add_argument(
        "--copy", action="store_true", help="always copy (default: hard-link when on the same disk)"
    )
    rm = msub.add_parser("remove", help="delete a downloaded or imported model")
    rm.add_argument("id", help="catalog id, or the file name of an imported model")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    ver = msub.add_parser("verify", help="re-hash installed models against their checksums")
    ver.add_argument("id", nargs="?", help="one model (default: every installed model)")


def _docs_args(p: argparse.ArgumentParser) -> None:
    dsub = p.add_subparsers(dest="docs_command", metavar="{add,list,remove,search,update}")
    add = dsub.add_parser("add", help="add files and folders to a library (made if new)")
    add.add_argument("library")
    add.add_argument("paths", nargs="+", type=Path)
    ls = dsub.add_parser("list", help="the libraries, or one library's documents")
    ls.add_argument("library", nargs="?")
    rm = dsub.add_parser(
        "remove", help="erase a library, or one file or folder from it (the files stay)"
    )
    rm.add_argument("library")
    rm.add_argument("path", nargs="?", type=Path)
    search = dsub.add_parser("search", help="the passages that best match a query")
    search.add_argument("library")
    search.add_argument("query", nargs="+")
    search.add_argument("--limit", type=bounded(int, 1, 1000), default=8)
    search.add_argument("--mode", choices=("hybrid", "keyword", "vector"), default="hybrid")
    update = dsub.add_parser(
        "update", help="re-read changed files, notice moved and deleted ones, add vectors"
    )
    update.add_argument("library")


def cmd_models(args: argparse.Namespace) -> int:
    command = getattr(args, "models_command", None)
    if command == "pull":
        return _models_pull(args)
    if command == "import":
        return _models_import(args)
    if command == "remove":
        return _models_remove(args)
    if command == "verify":
        return _models_verify(args)
    return _models_list()


def _models_list() -> int:
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.fit import fit_shape  # noqa: PLC0415
    from engine.catalog.hardware import detect  # noqa: PLC0415
    from engine.catalog.manage import disk_bytes, model_states, other_models  # noqa: PLC0415
    from engine.catalog.plan import ModelShape, format_size, recommend  # noqa: PLC0415

    catalog: Catalog = load_catalog()
    hw = detect()
    ram_bw, gpu_bw = hw.bandwidths()
    gpu = (
        f", GPU {hw.gpu_name} {format_size(hw.gpu_free)} free (~{gpu_bw / 1e9:.0f} GB/s)"
        if hw.has_gpu
        else ""
    )
    print(
        f"This machine: {hw.backend.value} backend, {hw.physical_cores} cores, "
        f"{format_size(hw.ram_available)} of {format_size(hw.ram_total)} RAM free "
        f"(~{ram_bw / 1e9:.0f} GB/s){gpu}.\n"
    )
    print(f"{'':2}{'id':38} {'size':>9}  {'on disk':>8}  {'needs':>8}  fit on this machine")
    for state in model_states(catalog):
        m = state.model
        shape = ModelShape.from_catalog(m)
        mark = "*" if state.installed else " "
        size = format_size(shape.weights_bytes) + ("~" if shape.size_is_estimate else "")
        on_disk = (
            "bundled"
            if state.bundled
            else (format_size(state.disk_bytes) if state.installed else "-")
        )
        fit = fit_shape(shape, hw)
        tags = " (default)" if m.id == catalog.default_id else ""
        tags += " (flagship)" if m.id == catalog.flagship_id else ""
        if state.partial_bytes and not state.installed:
            tags += f" (partly downloaded: {format_size(state.partial_bytes)})"
        print(
            f"{mark:2}{m.id:38} {size:>9}  {on_disk:>8}  {format_size(fit.need_bytes):>8}  "
            f"{fit.describe()}{tags}"
        )
    if catalog.embedders:
        from engine.catalog.installed import find_file  # noqa: PLC0415

        print("\nEmbedding models (search by meaning in your documents; without one, by words):")
        for m in catalog.embedders:
            found = find_file(m)
            mark = "*" if found else " "
            size = format_size(m.size) if m.size else "size not confirmed"
            print(f"{mark:2}{m.id:38} {size:>9}  {'installed' if found else 'not installed'}")
    others = other_models(catalog)
    if others:
        print("\nImported models the catalog does not know:")
        for path in others:
            print(f"* {path.name:38} {format_size(disk_bytes(path)):>9}")
    rec = recommend(catalog, hw)
    print(
        "\n* installed   ~ size from the hosting page, not yet confirmed   tokens/s: "
        "generation speed estimated from memory bandwidth"
    )
    print(
        f"Best reasoning model for this machine: {rec.model.name} {rec.model.quantization} "
        f"({rec.plan.placement}, {rec.plan.n_ctx:,}-token context)."
    )
    return 0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _models_pull(args: argparse.Namespace) -> int:
    import threading  # noqa: PLC0415

    import engine.policy  # noqa: PLC0415
    from engine._cli_base import ledger_kept, on_ctrl_c  # noqa: PLC0415
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.download import Progress, download, partial_path  # noqa: PLC0415
    from engine.catalog.installed import catalog_entry  # noqa: PLC0415
    from engine.catalog.plan import format_size  # noqa: PLC0415
    from engine.errors import Cancelled  # noqa: PLC0415
    from engine.policy import Mode  # noqa: PLC0415

    catalog = load_catalog()
    model = catalog_entry(catalog, args.id)
    cancel = threading.Event()
    tty = sys.stderr.isatty()

    def allow_this_download() -> None:
        # The person's explicit consent (--allow-download), given on this command line.
        engine.policy.set_mode(Mode.DOWNLOADS_ALLOWED)

    started: list[bool] = []

    def show(p: Progress) -> None:
        if not started:  # the first report: the server answered and the download begins
            started.append(True)
            kept = f" (resuming at {format_size(p.done)})" if p.done else ""
            print(f"Downloading {model.name} {model.quantization}{kept} …", file=sys.stderr)
        if not tty and p.done not in (p.resumed_from, p.total):
            return
        share = f" ({p.done / p.total:.0%})" if p.total else ""
        eta = f", about {_duration(p.eta_s)} left" if p.eta_s else ""
        line = (
            f"{format_size(p.done)} of {format_size(p.total)}{share}, {p.speed / 1e6:.1f} MB/s{eta}"
        )
        sys.stderr.write(f"\r\033[K{line}" if tty else f"{line}\n")
        sys.stderr.flush()

    consent = allow_this_download if args.allow_download else None
    with ledger_kept(), on_ctrl_c(cancel.set):
        try:
            result = download(model, consent=consent, progress=show, cancel=cancel)
        except Cancelled:
            part = partial_path(model)
            kept = part.stat().st_size if part.exists() else 0
            print(
                f"\nStopped; {format_size(kept)} kept. Run the same command to resume.",
                file=sys.stderr,
            )
            return 130
        finally:
            if tty and started:
                sys.stderr.write("\n")
    resumed = f", resumed from {format_size(result.resumed_from)}" if result.resumed_from else ""
    print(
        f"Installed {model.name} {model.quantization}: {result.path} "
        f"({format_size(result.size)}{resumed}; sha256 verified against "
        f"{result.verified_against})."
    )
    return 0


def _models_import(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415

    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.importer import import_model  # noqa: PLC0415

    result = import_model(Path(args.path), load_catalog(), link=not args.copy)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    info = result.info
    what = (
        f"{result.model.name} {result.model.quantization} ({result.model.id})"
        if result.model
        else f"unknown model “{info.name}”"
    )
    facts = (
        f"{info.architecture}, {info.parameters / 1e9:.2f}B parameters, "
        f"{info.quantization}, {info.context_length:,}-token context"
    )
    if result.already_installed:
        print(f"{what} is already installed: {result.path} ({facts}).")
        return 0
    how = "hard link, no extra space" if result.linked else "copy"
    print(f"Imported {what}: {facts}.\n  {result.path} ({how}; sha256 {result.sha256})")
    return 0


def _models_remove(args: argparse.Namespace) -> int:
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.manage import disk_bytes, plan_removal, remove  # noqa: PLC0415
    from engine.catalog.plan import format_size  # noqa: PLC0415

    removal = plan_removal(load_catalog(), args.id)
    print(f"Remove {removal.label} ({format_size(removal.disk_bytes)} on disk):")
    for path in removal.files:
        print(f"  {path}  {format_size(disk_bytes(path))}")
    if not args.yes:
        try:
            answer = input("Remove these files? [y/N] ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if answer not in {"y", "yes"}:
            print("Nothing removed.")
            return 1
    freed = remove(removal)
    print(f"Removed {removal.label}; {format_size(freed)} freed.")
    return 0


def _models_verify(args: argparse.Namespace) -> int:
    from engine.catalog import load_catalog  # noqa: PLC0415
    from engine.catalog.manage import Verdict, to_verify, verify_file  # noqa: PLC0415
    from engine.errors import ModelError  # noqa: PLC0415

    items = to_verify(load_catalog(), args.id)
    if not items:
        if args.id:
            raise ModelError(
                f"“{args.id}” is not installed.", "Run 'hearth models' to see what is installed."
            )
        print("No models installed.")
        return 0
    damaged = 0
    for path, label, model in items:
        result = verify_file(path, label, model)
        print(result.describe())
        damaged += result.verdict is Verdict.MISMATCH
    if damaged:
        print(
            "hearth: a model file is damaged or was changed. Remove it (hearth models remove "
            "ID) and download or import it again.",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_privacy(args: argparse.Namespace) -> int:
    import engine.policy  # noqa: PLC0415
    from engine._cli_base import open_history  # noqa: PLC0415
    from engine.policy.report import format_ledger  # noqa: PLC0415
    from engine.storage import StorageError  # noqa: PLC0415

    ledger = engine.policy.ledger()
    print(f"Mode: {engine.policy.current_mode().label}")
    try:
        store = open_history()
    except StorageError as exc:
        print(
            f"The ledger kept in the encrypted store cannot be read: {exc.full_message}\n"
            "This session only:"
        )
        print(format_ledger(ledger))
        return 0
    with store:
        ledger.attach(store.record_egress)  # this session's entries join the kept ones
        try:
            total = store.egress_count()
            entries = store.egress_history(limit=args.limit)
        finally:
            ledger.detach()
    shown = f", the newest {len(entries)} shown" if len(entries) < total else ""
    print(f"Egress ledger kept in the encrypted store: {total} entries{shown}.")
    print(format_ledger(entries))
    return 0


def cmd_privacy_check(_args: argparse.Namespace) -> int:
    from datetime import UTC, datetime  # noqa: PLC0415

    from engine.chat import title_for  # noqa: PLC0415
    from engine.policy.privacy_check import (  # noqa: PLC0415
        QUESTION,
        format_privacy_check,
        run_privacy_check,
    )
    from engine.storage import StorageError, open_store  # noqa: PLC0415
    from engine.storage.store import default_path  # noqa: PLC0415

    started = datetime.now(UTC)
    result = run_privacy_check(database_path=default_path())
    print(format_privacy_check(result))
    # The traced chat was a real one, saved like any other: take it out of the history again.
    try:
        with open_store() as store:
            for conv in store.list_conversations():
                if conv.title == title_for(QUESTION) and conv.updated_at >= started:
                    store.delete_conversation(conv.id)
                    print("The check's own conversation was deleted from your history.")
    except StorageError:
        pass  # the report above already says what is wrong with the database
    return 0 if result.passed else 1


def cmd_docs(args: argparse.Namespace) -> int:
    from engine._cli_docs import cmd_docs as run  # noqa: PLC0415

    return run(args)


def cmd_export(args: argparse.Namespace) -> int:
    from engine._cli_records import cmd_export as run  # noqa: PLC0415

    return run(args)


def cmd_backup(args: argparse.Namespace) -> int:
    from engine._cli_records import cmd_backup as run  # noqa: PLC0415

    return run(args)


def cmd_restore(args: argparse.Namespace) -> int:
    from engine._cli_records import cmd_restore as run  # noqa: PLC0415

    return run(args)


def cmd_recover(args: argparse.Namespace) -> int:
    from engine._cli_history import cmd_recover as run  # noqa: PLC0415

    return run(args)


def cmd_passphrase(args: argparse.Namespace) -> int:
    from engine._cli_history import cmd_passphrase as run  # noqa: PLC0415

    return run(args)


COMMANDS = {
    "restore": cmd_restore,
    "recover": cmd_recover,
    "passphrase": cmd_passphrase,
    "ask": cmd_ask,
    "export": cmd_export,
    "backup": cmd_backup,
    "docs": cmd_docs,
    "chat": cmd_chat,
    "models": cmd_models,
    "privacy": cmd_privacy,
    "privacy-check": cmd_privacy_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the command line. Returns the exit status."""
    # The egress policy goes in before any other Hearth code runs (idempotent).
    import engine.policy  # noqa: PLC0415

    engine.policy.install()
    args = build_parser().parse_args(argv)
    from engine.errors import HearthError  # noqa: PLC0415

    try:
        return COMMANDS[args.command](args)
    except HearthError as exc:
        print(f"hearth: {exc.full_message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
