"""``hearth export`` and ``hearth backup``: the ways out of the encrypted store that the
person asks for by name. Export writes readable (unencrypted) files, and says so; a backup
is an encrypted copy under a passphrase the person chooses.

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


def _slug(title: str) -> str:
    words = re.sub(r"[^\w\s-]", "", title, flags=re.UNICODE).split()
    return "-".join(words)[:60] or "conversation"


def cmd_export(args: argparse.Namespace) -> int:
    from engine.paths import ensure_private_dir, write_private_atomic  # noqa: PLC0415

    with store_context(no_save=False) as store:
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
            conversation = store.get_conversation(conversation_id)
            text = (
                store.export_markdown(conversation_id)
                if args.format == "md"
                else store.export_json(conversation_id)
            )
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


def _passphrase(from_stdin: bool) -> str | None:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if not sys.stdin.isatty():
        print(
            "hearth backup: no terminal to ask for a passphrase; use --passphrase-stdin.",
            file=sys.stderr,
        )
        return None
    first = getpass.getpass("Passphrase for the backup: ")
    if getpass.getpass("Once more: ") != first:
        print("hearth backup: the two passphrases differ; nothing was written.", file=sys.stderr)
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
    passphrase = _passphrase(args.passphrase_stdin)
    if passphrase is None:
        return 2
    if len(passphrase) < MIN_PASSPHRASE:
        print(
            f"hearth backup: the passphrase needs at least {MIN_PASSPHRASE} characters.",
            file=sys.stderr,
        )
        return 2
    with store_context(no_save=False) as store:
        store.backup(target, passphrase)
        count = len(store.list_conversations())
    print(
        f"Backed up {count} conversation{'s' if count != 1 else ''} to {target}, encrypted "
        "with your passphrase. Keep the passphrase: without it the backup cannot be opened.",
        file=sys.stderr,
    )
    return 0
