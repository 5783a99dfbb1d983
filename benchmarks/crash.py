"""Crash campaign: the real ``hearth`` CLI, on the real starter model, SIGKILLed mid-stream;
and ``open_store`` SIGKILLed while it upgrades an older database. After every kill the store
is reopened and checked; the figures come out as a table.

    dbus-run-session -- scripts/_with_keyring.sh \\
        .venv/bin/python -m benchmarks.crash [--ask 100] [--chat 30] [--migrate 20]

(Run as a module, under ``scripts/_with_keyring.sh``: it needs a real Secret Service keyring,
and refuses to run without that throwaway one. Everything is written in a temporary profile,
XDG_* folders of its own, deleted at the end.)

- ``--ask N``: N runs of ``hearth ask`` (each its own conversation, all in one store), each
  SIGKILLed at a random moment after its first answer character: uniformly within 90 % of how
  long one whole answer took in a first, uninterrupted run. A run whose answer ended before its
  kill moment is checked as a finished one and does not count as a kill (another is run).
- ``--chat N``: N sessions of ``hearth chat`` through a pipe (one conversation each, in the same
  store): one or two whole turns, then a kill at a random moment of the next reply (within
  90 % of a whole reply's length, measured from the turns so far).
- ``--migrate N``: N kills during the upgrade of a schema-1 database of ``--migrate-messages``
  messages (``benchmarks/_crash_migrate.py`` says how the moment is chosen).

What is acknowledged, and so must survive every later kill (``benchmarks/_crash_cli.py`` has
the details): a question once the first character of its answer is printed; a whole reply
once the CLI printed what follows it (the next ``you ›`` prompt, or ``hearth ask``'s exit);
the reply being streamed at the kill reopens as 'interrupted' with a prefix of what was
printed. After each kill, with the store reopened by ``open_store``: ``PRAGMA
integrity_check`` is ``ok`` and ``PRAGMA cipher_integrity_check`` reports nothing, no reply is
left 'streaming', and every message found after any earlier kill is found unchanged.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import _crash_cli as cli
from benchmarks import _crash_migrate as mig
from engine.chat import SAVE_INTERVAL_S
from engine.paths import PROJECT_ROOT
from engine.storage import Keychain

STARTER = PROJECT_ROOT / "assets" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
ASKS = (
    "Write a long story about a lighthouse keeper and his dog, in many paragraphs.",
    "Explain in detail, step by step, how bread is made at home.",
    "Describe a walk through a forest in autumn, with every sound and smell.",
    "Write a long letter to a friend about a trip along the coast.",
)
CHATS = (
    "Tell me about the sea.",
    "What lives in a tide pool?",
    "Write a short poem about fog.",
    "Why do gulls follow ferries?",
    "Describe a harbour at dawn.",
)


def _spread(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    return f"{min(values):.{digits}f} / {med:.{digits}f} / {max(values):.{digits}f} {unit}"


class Campaign:
    """Kills of one kind, and what their checks found."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kills = 0
        self.ended_first = 0  # runs whose reply (or upgrade) ended before the kill moment
        self.checked: list[cli.Checked] = []
        self.failure: str | None = None
        self.started = time.monotonic()
        self.wall_s = 0.0
        self.ledger_size = 0  # acknowledged messages checked after the last kill
        self.whole_s = 0.0  # how long a whole reply (or upgrade) took, uninterrupted
        self.upgrades: list[mig.MigrationKill] = []

    def run(self, one: Callable[[], bool], count: int) -> None:
        """Call ``one`` (True: it was a kill) until ``count`` kills, a failure, or 3 × count
        tries."""
        tries = 0
        while self.kills < count and tries < 3 * count and self.failure is None:
            tries += 1
            try:
                if one():
                    self.kills += 1
                else:
                    self.ended_first += 1
            except (cli.CrashCheckFailed, mig.MigrationCheckFailed) as exc:
                self.failure = f"after {self.kills} kills: {exc}"
            if tries % 10 == 0:
                print(f"  {self.name}: {self.kills} kills", file=sys.stderr, flush=True)
        self.wall_s = time.monotonic() - self.started


def _ask_campaign(
    count: int, options: list[str], rng: random.Random, keychain: Keychain
) -> Campaign:
    camp = Campaign("hearth ask")
    ledger = cli.Ledger()
    whole = cli.ask_and_kill(f"(ask 0) {ASKS[0]}", 1e9, options=options)
    if whole.killed_at is not None or whole.returncode != 0:
        raise SystemExit(f"the uninterrupted hearth ask failed:\n{whole.stderr[-2000:]}")
    cli.check_after_kill(whole, ledger, keychain)
    length = whole.output.arrived_at(len(whole.output.text) - 1) - whole.output.arrived_at(0)
    camp.whole_s = length
    print(
        f"  one whole answer: {len(whole.output.text)} characters in {length:.1f} s",
        file=sys.stderr,
    )

    def one() -> bool:
        n = camp.kills + camp.ended_first + 1
        delay = rng.uniform(0, 0.9 * length)
        run = cli.ask_and_kill(
            f"({n}) {rng.choice(ASKS)}",
            delay,
            options=[*options, "--seed", str(rng.randrange(2**31))],
        )
        checked = cli.check_after_kill(run, ledger, keychain)
        if run.killed_at is None:
            return False
        camp.checked.append(checked)
        return True

    camp.run(one, count)
    camp.ledger_size = len(ledger.messages)
    return camp


def _chat_campaign(
    count: int, options: list[str], rng: random.Random, keychain: Keychain, guess_s: float
) -> Campaign:
    camp = Campaign("hearth chat")
    ledger = cli.Ledger()
    turn_lengths: list[float] = []

    def one() -> bool:
        n = camp.kills + 1
        whole = rng.randint(1, 2)
        questions = [f"(chat {n}.{t + 1}) {rng.choice(CHATS)}" for t in range(whole + 4)]
        length = statistics.median(turn_lengths) if turn_lengths else guess_s
        delay = rng.uniform(0, 0.9 * length)
        run = cli.chat_and_kill(
            questions, whole, delay, rng, options=[*options, "--seed", str(rng.randrange(2**31))]
        )
        for turn in range(len(run.questions) - 1):  # the whole turns: how long a reply takes
            start = run.answer_start(turn)
            end = run.answer_start(turn + 1) - len(cli.PROMPT) - 1
            turn_lengths.append(run.output.arrived_at(end) - run.output.arrived_at(start))
        camp.checked.append(cli.check_after_kill(run, ledger, keychain))
        return True

    camp.run(one, count)
    camp.ledger_size = len(ledger.messages)
    return camp


def _migrate_campaign(count: int, messages: int, rng: random.Random, folder: Path) -> Campaign:
    camp = Campaign("upgrade (open_store)")
    keychain = Keychain(entry="crash-campaign-upgrade")
    template, work = folder / "schema1.db", folder / "hearth.db"
    folder.mkdir()
    expected = mig.make_old_store(template, keychain, messages, rng.randrange(2**31))
    length = statistics.median(
        mig.measure_upgrade(template, work, keychain.entry) for _ in range(3)
    )
    print(f"  upgrade of {messages:,} messages: {length:.2f} s", file=sys.stderr)
    camp.whole_s = length

    def one() -> bool:
        result = mig.kill_during_upgrade(template, work, keychain, expected, rng.uniform(0, length))
        camp.upgrades.append(result)
        return result.killed

    camp.run(one, count)
    keychain.delete()
    return camp


def _machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"nproc {os.cpu_count()}, {cpu}, Linux {os.uname().release}"


def _stream_rows(camp: Campaign) -> list[str]:
    c = camp.checked
    interrupted = sum(x.status == "interrupted" for x in c)
    some_saved = sum(x.saved_chars > 0 for x in c)
    fractions = [x.saved_chars / max(x.printed_chars, 1) for x in c]
    lost = "**failed**" if camp.failure else "0"
    return [
        f"| {camp.name} | {camp.kills} | {camp.ended_first} | {camp.ledger_size} "
        f"| {lost} | {interrupted} interrupted, {len(c) - interrupted} done | "
        f"{some_saved} ({statistics.median(fractions) * 100 if c else 0:.0f} % median) | "
        f"{_spread([x.unsaved_s for x in c])} | {_spread([x.kill_after_s for x in c])} | "
        f"{_spread([x.integrity_s * 1000 for x in c], 'ms', 0)} | {camp.wall_s:.0f} s |"
    ]


def _summary(ask: Campaign | None, chat: Campaign | None, up: Campaign | None) -> str:
    lines = []
    streams = [c for c in (ask, chat) if c is not None]
    if streams:
        lines += [
            "| kills of | mid-stream SIGKILLs | ended before the kill | acknowledged messages "
            "checked after the last kill | acknowledged messages lost | the killed reply on "
            "reopening | killed replies with text saved (of printed) | shown but unsaved at "
            "the kill, min / median / max | kill moment after the first character | reopen + "
            "both integrity checks | wall |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for camp in streams:
            lines += _stream_rows(camp)
        lines.append(
            f"\nEvery kill: reopened with `integrity_check` ok and `cipher_integrity_check` "
            f"clean, no reply left 'streaming'. Replies are saved every {SAVE_INTERVAL_S:.0f} s."
        )
    if up is not None:
        results = up.upgrades
        killed = [r for r in results if r.killed]
        rolled = sum(r.found_version == mig.OLD_VERSION for r in killed)
        lines += [
            "",
            "| kills of | SIGKILLs | upgrade ended before the kill | found rolled back (schema "
            f"{mig.OLD_VERSION}) | found committed (schema {mig.LATEST_VERSION}) | "
            "rows lost or changed | temporary files left | kill moment after the upgrade began "
            "| upgrade alone | wall |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {up.name} | {up.kills} | {up.ended_first} | {rolled} | {len(killed) - rolled} | "
            f"{'**failed**' if up.failure else '0'} | {sum(r.leftovers for r in results)} | "
            f"{_spread([r.delay_s for r in killed])} | {up.whole_s:.2f} s | "
            f"{up.wall_s:.0f} s |",
        ]
    lines += [f"\n**{c.name} failed** {c.failure}" for c in (ask, chat, up) if c and c.failure]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ask", type=int, default=100, help="hearth ask kills")
    parser.add_argument("--chat", type=int, default=30, help="hearth chat kills")
    parser.add_argument("--migrate", type=int, default=20, help="kills during an upgrade")
    parser.add_argument("--migrate-messages", type=int, default=50_000)
    parser.add_argument("--ask-tokens", type=int, default=300, help="--max-tokens for ask")
    parser.add_argument("--chat-tokens", type=int, default=96, help="--max-tokens in chat")
    parser.add_argument("--threads", type=int, default=1, help="model threads (a shared machine)")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    if os.environ.get("HEARTH_TEST_KEYRING") != "secret-service":
        print(
            "Run this under a throwaway keyring: dbus-run-session -- scripts/_with_keyring.sh "
            ".venv/bin/python -m benchmarks.crash",
            file=sys.stderr,
        )
        return 2
    if not STARTER.exists():
        print(f"The starter model is missing at {STARTER}: run scripts/setup.sh --no-launch.")
        return 2
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="hearth-crash-"))
    for var, sub in (
        ("DATA", "data"),
        ("CONFIG", "config"),
        ("CACHE", "cache"),
        ("STATE", "state"),
    ):
        (root / sub).mkdir()
        os.environ[f"XDG_{var}_HOME"] = str(root / sub)
    keychain = Keychain()
    keychain.delete()
    started = time.monotonic()
    load = os.getloadavg()[0]
    options = ["--threads", str(args.threads)]
    ask: Campaign | None = None
    chat: Campaign | None = None
    up: Campaign | None = None
    try:
        if args.ask:
            print("hearth ask …", file=sys.stderr)
            ask = _ask_campaign(
                args.ask, [*options, "--max-tokens", str(args.ask_tokens)], rng, keychain
            )
        if args.chat:
            print("hearth chat …", file=sys.stderr)
            # Until a chat turn has been timed: the ask answer's pace, for chat's token limit.
            guess = ask.whole_s * args.chat_tokens / args.ask_tokens if ask else 2.0
            chat = _chat_campaign(
                args.chat, [*options, "--max-tokens", str(args.chat_tokens)], rng, keychain, guess
            )
        if args.migrate:
            print("upgrades …", file=sys.stderr)
            up = _migrate_campaign(args.migrate, args.migrate_messages, rng, root / "upgrade")
    finally:
        keychain.delete()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"Machine: {_machine()}; load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end; model {STARTER.name}, {args.threads} thread(s), "
        f"ask --max-tokens {args.ask_tokens}, chat --max-tokens {args.chat_tokens}; "
        f"seed {args.seed}; {time.monotonic() - started:.0f} s in all\n"
    )
    print(_summary(ask, chat, up))
    return 1 if any(c is not None and c.failure for c in (ask, chat, up)) else 0


if __name__ == "__main__":
    sys.exit(main())
