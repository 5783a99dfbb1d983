"""``hearth export``, ``hearth backup`` and ``hearth restore``: the ways out of (and back
into) the encrypted store that the person asks for by name. Export writes readable
(unencrypted) files, and says so; a backup is an encrypted copy under a passphrase the person
chooses; restore adds a backup's conversations that are not here, replacing nothing.

Imported by engine/cli.py after the egress policy is installed.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from pathlib import Path

from engine._cli_base import store_context

MIN_PASSPHRASE = 8


def add_records_args(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export", help="write conversations as Markdown or JSON files (not encrypted)"
    )
    export.add_argument("folder", type=Path, help="where the files go (made if missing)")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument(
        "--conversation", type=int, metavar="ID", help="only this one (default: all)"
    )
    backup = sub.add_parser(
        "backup", help="write an encrypted copy of your whole history, under a passphrase"
    )
    backup.add_argument("file", type=Path)
    backup.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from the first line of standard input (for scripts)",
    )
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore = sub.add_parser(
        "restore",
        help="add the conversations of a backup that are not here yet (nothing is replaced)",
    )
    restore.add_argument("file", type=Path)
    restore.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from the first line of standard input (for scripts)",
    )
    restore.add_argument("--yes", "-y", action="store_true", help="add them without asking")


def _slug(title: str) -> str:
    words = re.sub(r"[^\w\s-]", "", title, flags=re.UNICODE).split()
    return "-".join(words)[:60] or "conversation"


def cmd_export(args: argparse.Namespace) -> int:
    from engine.paths import ensure_private_dir, write_private_atomic  # noqa: PLC0415
    from engine.storage import DatabaseCorrupt  # noqa: PLC0415

    with store_context(no_save=False, read_only_ok=True) as store:
        if not store.saved:
            print("hearth export: there is no saved history to export.", file=sys.stderr)
            return 1
        ids = (
            [args.conversation]
            if args.conversation is not None
            else [c.id for c in store.list_conversations()]
        )
        folder = ensure_private_dir(args.folder.expanduser())
        written = 0
        for conversation_id in ids:
            try:
                conversation = store.get_conversation(conversation_id)
                text = (
                    store.export_markdown(conversation_id)
                    if args.format == "md"
                    else store.export_json(conversation_id)
                )
            except DatabaseCorrupt:
                print(
                    f"hearth export: conversation {conversation_id} is on a damaged part of the "
                    "file and was skipped (`hearth recover` saves what can be read of it).",
                    file=sys.stderr,
                )
                continue
            target = folder / f"{conversation_id}-{_slug(conversation.title)}.{args.format}"
            if target.exists():
                print(f"hearth export: {target} exists; left as it is.", file=sys.stderr)
                continue
            write_private_atomic(target, text.encode("utf-8"))
            written += 1
    print(
        f"Wrote {written} conversation{'s' if written != 1 else ''} to {folder}. These files "
        "are NOT encrypted: anyone who can read that folder can read them.",
        file=sys.stderr,
    )
    return 0


def ask_passphrase(
    from_stdin: bool,
    *,
    confirm: bool = True,
    command: str = "backup",
    prompt: str = "Passphrase of the backup: ",
) -> str | None:
    """A passphrase from the first line of standard input, or typed twice at the terminal;
    None (after saying why) when there is neither."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if not sys.stdin.isatty():
        print(
            f"hearth {command}: no terminal to ask for a passphrase; use --passphrase-stdin.",
            file=sys.stderr,
        )
        return None
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Once more: ") != first:
        print(f"hearth {command}: the two passphrases differ; nothing was done.", file=sys.stderr)
        return None
    return first


def cmd_backup(args: argparse.Namespace) -> int:
    target: Path = args.file.expanduser()
    if target.exists() and not args.force:
        print(
            f"hearth backup: {target} exists; nothing was written (--force replaces it).",
            file=sys.stderr,
        )
        return 1
    passphrase = ask_passphrase(args.passphrase_stdin)
    if passphrase is None:
        return 2
    if len(passphrase) < MIN_PASSPHRASE:
        print(
            f"hearth backup: the passphrase needs at least {MIN_PASSPHRASE} characters.",
            file=sys.stderr,
        )
        return 2
    with store_context(no_save=False, read_only_ok=True) as store:
        store.backup(target, passphrase)
        count = len(store.list_conversations())
    print(
        f"Backed up {count} conversation{'s' if count != 1 else ''} to {target}, encrypted "
        "with your passphrase. Keep the passphrase: without it the backup cannot be opened.",
        file=sys.stderr,
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    import secrets  # noqa: PLC0415

    from engine.paths import data_dir, ensure_private_dir  # noqa: PLC0415
    from engine.storage import open_store  # noqa: PLC0415
    from engine.storage.db import create_private_file, remove_database_files  # noqa: PLC0415
    from engine.storage.store import snapshot_path  # noqa: PLC0415

    source: Path = args.file.expanduser()
    if not source.is_file():
        print(f"hearth restore: {source} is not a file.", file=sys.stderr)
        return 2
    passphrase = ask_passphrase(args.passphrase_stdin, confirm=False, command="restore")
    if passphrase is None:
        return 2
    # The backup is read from a private copy: opening a store may upgrade it, and the
    # person's backup file must stay exactly as it is.
    copy = ensure_private_dir(data_dir()) / f".restore-{secrets.token_hex(6)}.db"
    try:
        create_private_file(copy)
        copy.write_bytes(source.read_bytes())
        with open_store(copy, passphrase=passphrase) as backup, store_context(False) as store:
            if not store.saved:
                print("hearth restore: your history could not be opened; nothing was added.")
                return 1
            plan = store.merge_plan(backup)
            print(
                f"The backup holds {len(plan.new) + plan.already_here} conversation(s): "
                f"{plan.already_here} already here (left as they are), {len(plan.new)} to add."
            )
            for _, title in plan.new[:20]:
                print(f"  + {title}")
            if len(plan.new) > 20:
                print(f"  … and {len(plan.new) - 20} more")
            if not plan.new:
                return 0
            if not args.yes and not _agreed("Add them to your history? [y/N] "):
                print("Nothing was added.", file=sys.stderr)
                return 1
            added = store.merge_from(backup)
        print(f"Added {len(added.new)} conversation(s).", file=sys.stderr)
        return 0
    finally:
        remove_database_files(copy)
        remove_database_files(snapshot_path(copy))  # made if the backup was from an older Hearth


def _agreed(question: str) -> bool:
    if not sys.stdin.isatty():
        print("hearth restore: no terminal to ask; add --yes to add them.", file=sys.stderr)
        return False
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False
