"""Storage benchmark: open time, append latency while streaming, FTS search over 100k messages.

    .venv/bin/python -m benchmarks.storage [--messages 100000]

(Run as a module: benchmarks/engine.py would shadow the engine package otherwise.)

Raw key (the keychain path without the keychain round trip: the key comes from an in-memory
backend, so the figure is SQLCipher's own open cost). Targets on the 2-core reference
machine: open < 50 ms, append < 2 ms p95, search < 50 ms p95.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from pathlib import Path

from engine.storage import Keychain, open_store
from engine.storage.keys import new_raw_key


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


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.2f} ms, "
        f"p95 {_p95(values) * 1000:.2f} ms, max {max(values) * 1000:.2f} ms "
        f"(n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-conversation", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(20_000)]
    # Word frequencies follow Zipf's law, as in real text: the top words are in most messages.
    cum_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
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
                    time.sleep(0.002)  # tokens arrive over time (durable commits every 0.5 s)
                store.finish_reply(reply.id, text, "", "done")
            print(f"append while streaming (update_reply): {_ms(appends)}")

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


if __name__ == "__main__":
    main()
