"""Child for test_crash.py: streams replies into the store forever, printing an ACK line
after each call returns, until the parent SIGKILLs it."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from engine.storage import MessageStats, open_store


def token_text(n: int) -> str:
    return "".join(f"tok{i} " for i in range(n))


def main() -> None:
    path = Path(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    store = open_store(path)
    out = sys.stdout
    summaries = store.list_conversations()
    conv = summaries[0].id if summaries else store.create_conversation("crash test").id
    path_now = store.active_path(conv)
    parent = path_now[-1].id if path_now else None
    print("READY", flush=True)
    while True:
        q = store.add_message(conv, parent, "user", "question")
        print(f"USER {q.id}", file=out, flush=True)
        r = store.begin_reply(conv, q.id, "model")
        print(f"BEGIN {r.id}", file=out, flush=True)
        n = rng.randint(5, 60)
        for i in range(1, n + 1):
            store.update_reply(r.id, token_text(i), "")
            print(f"UPD {r.id} {i}", file=out, flush=True)
            time.sleep(0.001)  # tokens arrive over time, as from a model
        store.finish_reply(r.id, token_text(n), "", "done", MessageStats(1, n))
        print(f"DONE {r.id} {n}", file=out, flush=True)
        parent = r.id


if __name__ == "__main__":
    main()
