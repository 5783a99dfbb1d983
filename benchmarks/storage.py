"""Storage benchmark: open time, append latency while streaming, FTS search over 100k messages,
and the save cadence the app really uses while a reply streams.

    .venv/bin/python -m benchmarks.storage [--messages 100000] [--saves 160]

(Run as a module: benchmarks/engine.py would shadow the engine package otherwise.)

Raw key (the keychain path without the keychain round trip: the key comes from an in-memory
backend, so the figure is SQLCipher's own open cost). Targets on the 2-core reference
machine: open < 50 ms, append < 2 ms p95, search < 50 ms p95.

The save cadence: ``engine.chat`` saves a growing reply every ``SAVE_INTERVAL_S`` (1 s) with
``update_reply``, which makes the commit durable (synchronous=FULL, an fsync) once
``DURABLE_INTERVAL_S`` (0.5 s) have passed since the last durable one, so every save of a
streaming reply is a durable commit. In the desktop the model thread makes the save through
``StoreOwner.routed()`` and it runs on the store's owner thread. Measured the same way: a model
thread saves on the app's cadence with real sleeps between saves (an fsync's cost depends on
what the disk did meanwhile, so the cadence is not compressed), replies growing to
``--reply-tokens`` tokens (4 characters a token) at ``--tokens-per-second``. A "GUI" thread
asks the owner for what the window asks for (the conversation list, or a conversation's
active path) the moment a save starts on the store thread, so the read waits behind the whole
save, and again half an interval later on an idle store: the baseline, in the same slot. A
bare write + fsync of the same size in the same directory (a file overwritten in place, as the
WAL is), also in each slot, is the disk's floor. No model runs meanwhile; ``--cpu-load N``
adds N busy processes, as the model's threads would be.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.chat import SAVE_INTERVAL_S
from engine.storage import ConversationStore, Keychain, StoreOwner, open_store
from engine.storage.keys import new_raw_key

CHARS_PER_TOKEN = 4


class _MemoryBackend:
    name = "in-memory (benchmark)"

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def _pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.2f} ms, "
        f"p95 {_pct(values, 95) * 1000:.2f} ms, p99 {_pct(values, 99) * 1000:.2f} ms, "
        f"max {max(values) * 1000:.2f} ms (n={len(values)})"
    )


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def _cpu_sample() -> tuple[float, float, float]:
    """(wall, CPU seconds the machine used, CPU seconds this process and its finished children
    used)."""
    try:
        with open("/proc/stat") as f:
            # cpu user nice system idle iowait irq softirq steal (guest time is inside user)
            fields = [int(x) for x in f.readline().split()[1:9]]
        machine = (sum(fields[:3]) + sum(fields[5:8])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        machine = 0.0  # not Linux: no figure
    t = os.times()
    return time.monotonic(), machine, t.user + t.system + t.children_user + t.children_system


def _others_share(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Share of the machine's CPU capacity other processes used between ``a`` and ``b``."""
    if not b[1]:
        return 0.0
    capacity = (b[0] - a[0]) * (os.cpu_count() or 1)
    return max(0.0, (b[1] - a[1]) - (b[2] - a[2])) / capacity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-conversation", type=int, default=50)
    parser.add_argument("--saves", type=int, default=160, help="durable saves (cadence)")
    parser.add_argument(
        "--save-interval",
        type=float,
        default=SAVE_INTERVAL_S,
        help=f"seconds between saves (the app: {SAVE_INTERVAL_S})",
    )
    parser.add_argument("--reply-tokens", type=int, default=4000)
    parser.add_argument("--tokens-per-second", type=float, default=100.0)
    parser.add_argument("--cpu-load", type=int, default=0, help="busy processes (cadence)")
    args = parser.parse_args()
    if args.save_interval <= ConversationStore.DURABLE_INTERVAL_S:
        parser.error(
            f"--save-interval must exceed DURABLE_INTERVAL_S "
            f"({ConversationStore.DURABLE_INTERVAL_S} s), or the saves are not durable"
        )
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(20_000)]
    # Word frequencies follow Zipf's law, as in real text: the top words are in most messages.
    cum_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    start = _cpu_sample()
    keychain = Keychain(backend=_MemoryBackend())  # type: ignore[arg-type]
    keychain.save(new_raw_key())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hearth.db"
        t0 = time.perf_counter()
        with open_store(path, keychain=keychain) as store:
            conversations = args.messages // args.per_conversation
            with store._transaction() as db:  # bulk load: one transaction
                now = time.time()
                for _ in range(conversations):
                    title = " ".join(rng.choices(vocabulary, k=4))
                    cid = db.execute(
                        "INSERT INTO conversations (title, created_at, updated_at) "
                        "VALUES (?, ?, ?)",
                        (title, now, now),
                    ).lastrowid
                    parent = None
                    for i in range(args.per_conversation):
                        n = rng.randint(10, 80)
                        words = rng.choices(vocabulary, cum_weights=cum_weights, k=n)
                        text = " ".join(words)
                        parent = db.execute(
                            "INSERT INTO messages (conversation_id, parent_id, role, content, "
                            "status, created_at, updated_at) VALUES (?, ?, ?, ?, 'done', ?, ?)",
                            (cid, parent, "user" if i % 2 == 0 else "assistant", text, now, now),
                        ).lastrowid
                    db.execute(
                        "UPDATE conversations SET active_leaf_id = ? WHERE id = ?", (parent, cid)
                    )
        size = path.stat().st_size
        print(
            f"built {conversations * args.per_conversation} messages in "
            f"{time.perf_counter() - t0:.1f} s; file {size / 1e6:.1f} MB"
        )

        opens = []
        for _ in range(30):
            t = time.perf_counter()
            store = open_store(path, keychain=keychain)
            store.list_conversations()[:1]  # first read: the list the window shows
            opens.append(time.perf_counter() - t)
            store.close()
        print(f"open (raw key) + list: {_ms(opens)}")

        with open_store(path, keychain=keychain) as store:
            conv = store.create_conversation("bench")
            q = store.add_message(conv.id, None, "user", "question")
            appends = []
            for _ in range(5):
                reply = store.begin_reply(conv.id, q.id, "bench-model")
                text = ""
                for _ in range(400):  # ~400 updates of a growing reply (up to ~3 KB)
                    text += rng.choice(vocabulary) + " "
                    t = time.perf_counter()
                    store.update_reply(reply.id, text, "")
                    appends.append(time.perf_counter() - t)
                    time.sleep(0.002)  # mostly NORMAL commits: one durable every 0.5 s
                store.finish_reply(reply.id, text, "", "done")
            print(
                f"append every 2 ms, mostly not durable (update_reply, one thread): {_ms(appends)}"
            )

            searches = []
            hits = 0
            for i in range(300):
                words = rng.choices(vocabulary[:2000], k=2)
                query = rng.choice(vocabulary) if i % 2 else " ".join(words)
                t = time.perf_counter()
                hits += len(store.search(query))
                searches.append(time.perf_counter() - t)
            common = []
            for word in vocabulary[:20]:  # the most frequent words: the most matches to rank
                t = time.perf_counter()
                store.search(word)
                common.append(time.perf_counter() - t)
            print(f"FTS search, random words: {_ms(searches)}; {hits / len(searches):.1f} hits avg")
            print(f"FTS search, common words: {_ms(common)}")
            print(
                f"  other processes used {_others_share(start, _cpu_sample()):.0%} of the CPU "
                "until here"
            )

            words = rng.choices(vocabulary, cum_weights=cum_weights, k=args.reply_tokens)
            long_text = " ".join(words)[: args.reply_tokens * CHARS_PER_TOKEN]
            before = _cpu_sample()
            busy = [
                subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(args.cpu_load)
            ]
            try:
                _cadence(store, args, long_text, Path(tmp) / "fsync-baseline")
            finally:
                for process in busy:
                    process.kill()
                    process.wait()
            print(
                f"  other processes used {_others_share(before, _cpu_sample()):.0%} of the CPU "
                "during the cadence measurement"
            )


def _cadence(store: ConversationStore, args: argparse.Namespace, text: str, floor: Path) -> None:
    """The app's streaming saves, through the owner, with GUI reads queued behind them."""
    interval = args.save_interval
    chars_per_save = round(args.tokens_per_second * interval * CHARS_PER_TOKEN)
    saves_per_reply = max(1, len(text) // chars_per_save)
    owner = StoreOwner(store)
    routed = owner.routed()
    # On the owner thread: when each save ran and whether it was durable. An instance
    # attribute: the routed store looks the method up on the store, so it finds this one.
    plain_update_reply = store.update_reply
    save_spans: list[tuple[float, float]] = []
    durable: list[bool] = []
    save_started = threading.Event()

    def timed_update_reply(message_id: int, content: str, thinking: str = "") -> None:
        before = store._last_durable
        start = time.perf_counter()
        save_started.set()
        plain_update_reply(message_id, content, thinking)
        save_spans.append((start, time.perf_counter()))
        durable.append(store._last_durable != before)

    store.update_reply = timed_update_reply  # type: ignore[method-assign]
    waits: list[float] = []  # update_reply as the model thread waits for it
    finishes: list[float] = []
    slot_starts: list[float] = []
    failures: list[BaseException] = []

    def model_thread() -> None:
        try:
            conv = routed.create_conversation("cadence")
            question = routed.add_message(conv.id, None, "user", "question")
            next_at = time.perf_counter() + interval
            done = 0
            while done < args.saves:
                reply = routed.begin_reply(conv.id, question.id, "bench-model")
                # chat.py's clock starts at the turn: the first save comes an interval later.
                next_at = max(next_at, time.perf_counter() + interval)
                for k in range(min(saves_per_reply, args.saves - done)):
                    _sleep_until(next_at)
                    slot_starts.append(next_at)
                    next_at += interval
                    t = time.perf_counter()
                    routed.update_reply(reply.id, text[: (k + 1) * chars_per_save], "")
                    waits.append(time.perf_counter() - t)
                    done += 1
                t = time.perf_counter()
                routed.finish_reply(reply.id, text, "", "done")
                finishes.append(time.perf_counter() - t)
        except BaseException as exc:
            failures.append(exc)
            save_started.set()

    conversation_id = 1  # a stored conversation of --per-conversation messages
    reads: dict[str, Callable[[], object]] = {
        "list_conversations (the sidebar)": store.list_conversations,
        f"active_path (open a {args.per_conversation}-message conversation)": (
            lambda: store.active_path(conversation_id)
        ),
    }
    names = list(reads)
    behind: dict[str, list[float]] = {name: [] for name in names}
    idle: dict[str, list[float]] = {name: [] for name in names}
    queued_behind = 0
    floors: list[float] = []
    noise = os.urandom(len(text))  # ciphertext-like bytes, the size of the longest save

    def timed_read(name: str) -> float:
        t = time.perf_counter()
        owner.submit(reads[name]).result()
        return time.perf_counter() - t

    # Overwritten in place, as the WAL is: no metadata change per fsync.
    floor_file = floor.open("w+b")
    floor_file.write(noise)
    floor_file.flush()
    os.fsync(floor_file.fileno())
    thread = threading.Thread(target=model_thread, name="model")
    t0 = time.perf_counter()
    thread.start()
    try:
        for i in range(args.saves):
            if not save_started.wait(timeout=interval * 10) or failures:
                break
            save_started.clear()
            name = names[i % len(names)]
            submitted = time.perf_counter()
            behind[name].append(timed_read(name))
            if len(save_spans) > i and submitted < save_spans[i][1]:
                queued_behind += 1
            start = save_spans[i][0] if len(save_spans) > i else time.perf_counter()
            _sleep_until(start + interval / 2)
            idle[name].append(timed_read(name))
            size = len(text[: ((i % saves_per_reply) + 1) * chars_per_save])
            t = time.perf_counter()
            floor_file.seek(0)
            floor_file.write(noise[:size])
            floor_file.flush()
            os.fsync(floor_file.fileno())
            floors.append(time.perf_counter() - t)
        thread.join()
    finally:
        floor_file.close()
        owner.close()
        store.update_reply = plain_update_reply  # type: ignore[method-assign]
    if failures:
        raise failures[0]
    elapsed = time.perf_counter() - t0
    on_thread = [end - start for start, end in save_spans]
    share = [s / SAVE_INTERVAL_S for s in on_thread]  # the app saves once an interval
    longest = saves_per_reply * chars_per_save
    print(
        f"save cadence as the app saves (update_reply every {interval:.2f} s from a model thread "
        f"through StoreOwner.routed(); the app: every {SAVE_INTERVAL_S} s, durable after "
        f"{ConversationStore.DURABLE_INTERVAL_S} s): {len(waits)} saves in {elapsed:.0f} s, "
        f"{len(finishes)} replies growing by {chars_per_save} characters a save to "
        f"{longest} (~{longest // CHARS_PER_TOKEN} tokens); "
        f"{sum(durable)} of {len(durable)} saves durable (FULL, fsync); "
        f"{args.cpu_load} busy processes"
    )
    print(f"  durable save, as the model thread waits for it: {_ms(waits)}")
    print(f"  durable save, on the store thread: {_ms(on_thread)}")
    print(
        f"  share of the app's {SAVE_INTERVAL_S} s save interval the store thread spends "
        f"saving: median "
        f"{statistics.median(share) * 100:.2f} %, p99 {_pct(share, 99) * 100:.2f} %, "
        f"max {max(share) * 100:.2f} %"
    )
    ratios = [s / f for s, f in zip(on_thread, floors, strict=False)]
    print(
        f"  bare write + fsync of the same size (overwritten in place), same slots: {_ms(floors)}; "
        f"save / bare fsync: median of per-slot ratios {statistics.median(ratios):.2f}x"
    )
    print(f"  finish_reply of the whole reply (it is indexed for search then): {_ms(finishes)}")
    for name in names:
        per_slot = [b / i for b, i in zip(behind[name], idle[name], strict=False)]
        print(
            f"  GUI read {name}, asked as a save starts: {_ms(behind[name])}; "
            f"on an idle store, same slots: {_ms(idle[name])}; "
            f"behind / idle: median of per-slot ratios {statistics.median(per_slot):.1f}x"
        )
    asked = sum(len(v) for v in behind.values())
    print(
        f"  of the reads asked as a save starts, {queued_behind} of {asked} were queued before "
        "it had finished (the others found it done and waited for nothing)"
    )


if __name__ == "__main__":
    main()
