"""``hearth recover`` and ``hearth passphrase set|remove``: what the messages about a damaged
history or a missing keychain tell the person to do, as commands.

Imported by engine/cli.py after the egress policy is installed.
"""

from __future__ import annotations

import argparse
import sys

from engine._cli_base import open_history
from engine._cli_records import MIN_PASSPHRASE, ask_passphrase


def add_history_args(sub: argparse._SubParsersAction) -> None:
    recover = sub.add_parser(
        "recover",
        help="check your history and, if it is damaged, copy every readable conversation "
        "into a new file (the damaged one is kept aside, unchanged)",
    )
    recover.add_argument("--yes", action="store_true", help="do not ask before recovering")
    passphrase = sub.add_parser(
        "passphrase",
        help="protect your history with a passphrase instead of the system keychain, or go back",
    )
    psub = passphrase.add_subparsers(dest="passphrase_command", required=True)
    set_ = psub.add_parser("set", help="encrypt the history under a passphrase (or change it)")
    set_.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from the first line of standard input (for scripts)",
    )
    psub.add_parser("remove", help="keep a random key in the system keychain again")


def cmd_recover(args: argparse.Namespace) -> int:
    from engine.storage import DatabaseDamaged, StorageError  # noqa: PLC0415

    try:
        store = open_history()
    except StorageError as exc:
        print(f"hearth recover: {exc.full_message}", file=sys.stderr)
        return 1
    with store:
        if not store.saved:
            print("hearth recover: this history is not saved to disk.", file=sys.stderr)
            return 1
        damage = store.damage
        if damage is None:
            print("Checking every page of your history…", file=sys.stderr)
            damage = store.full_check()
            if damage is None:
                print("Your history is not damaged: every page passed its check.")
                return 0
            store.mark_damaged(damage)
        print(DatabaseDamaged(damage.describe()).user_message)
        print(
            "Recover copies every conversation that can still be read into a new file and "
            "moves the damaged file aside, unchanged."
        )
        if not args.yes and not _agreed("Recover now? [y/N] "):
            print("Nothing was changed.", file=sys.stderr)
            return 1
        report = store.recover()
    print(report.describe())
    return 0


def cmd_passphrase(args: argparse.Namespace) -> int:
    from engine.storage import KeychainUnavailable, StorageError  # noqa: PLC0415
    from engine.storage.store import default_path  # noqa: PLC0415

    try:
        store = open_history()
    except KeychainUnavailable as exc:
        path = default_path()
        if args.passphrase_command == "set" and not (path.exists() and path.stat().st_size):
            return _new_history_under_passphrase(args)  # no keychain, no history yet
        print(f"hearth passphrase: {exc.full_message}", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"hearth passphrase: {exc.full_message}", file=sys.stderr)
        return 1
    with store:
        if not store.saved or store.damage is not None:
            print(
                "hearth passphrase: "
                + (
                    "your history is damaged; run `hearth recover` first."
                    if store.saved
                    else "this history is not saved to disk."
                ),
                file=sys.stderr,
            )
            return 1
        if args.passphrase_command == "remove":
            if store.protection != "passphrase":
                print("Your history is not protected by a passphrase; nothing was changed.")
                return 0
            store.rekey()
            print(
                "Your history is now encrypted with a new random key kept in the system "
                "keychain; Hearth no longer asks for a passphrase."
            )
            return 0
        passphrase = _new_passphrase(args)
        if passphrase is None:
            return 2
        store.rekey(passphrase=passphrase)
    print(DONE)
    return 0


DONE = (
    "Your history is now encrypted with your passphrase, and its key is not in the system "
    "keychain. Hearth asks for the passphrase each time it opens the history. Keep it safe: "
    "without it nobody can open your history, Hearth included."
)


def _new_passphrase(args: argparse.Namespace) -> str | None:
    passphrase = ask_passphrase(
        args.passphrase_stdin, command="passphrase set", prompt="New passphrase: "
    )
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        print(
            f"hearth passphrase set: the passphrase needs at least {MIN_PASSPHRASE} "
            "characters; nothing was changed.",
            file=sys.stderr,
        )
        return None
    return passphrase


def _new_history_under_passphrase(args: argparse.Namespace) -> int:
    from engine.storage import open_store  # noqa: PLC0415
    from engine.storage.keys import set_uses_passphrase  # noqa: PLC0415

    passphrase = _new_passphrase(args)
    if passphrase is None:
        return 2
    with open_store(passphrase=passphrase) as store:
        set_uses_passphrase(store.path, True)
    print(DONE)
    return 0


def _agreed(question: str) -> bool:
    if not sys.stdin.isatty():
        print("hearth recover: no terminal to ask; add --yes to recover.", file=sys.stderr)
        return False
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False
