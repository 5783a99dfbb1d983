"""The window's responsiveness (not a test): event-loop lag at launch, while a reply streams,
while switching conversations and while searching, with the real starter model; launch to
window shown and to first token.

    dbus-run-session -- scripts/_with_keyring.sh \\
        env QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui.py [--runs 3]

Each run gets an empty temporary profile. A first process (not timed) stores --conversations
conversations of --turns questions and Markdown answers in it, as earlier sessions would have;
then a fresh process (imports and all) starts as the app does: the egress policy, the
encrypted store (keychain when there is one, else in memory: then the conversations are
written through the store owner after the launch phase, and the output says so), its
StoreOwner and the ledger, the MainWindow. A question is sent as soon as the window is shown:
it waits for the model, as one typed during start-up does. A QTimer asks to fire every 5 ms
(Qt.PreciseTimer); how late each tick arrives is the event-loop lag, counted in phases:

- launch: from the window shown until the model is loaded and the hardware detected;
- streaming: from the first token until the reply (up to --tokens) is finished and saved;
- switching: every stored conversation opened in turn, --switch-rounds times, each as soon as
  the one before is shown;
- searching: --queries queries typed into the sidebar's search box a key at a time (60-250 ms
  apart, seeded: some pauses outlast the debounce, as a person's do), each left until its
  results are shown;
- idle: one second with nothing asked after each of the other phases: the machine's own
  noise, measured in the same process between the phases, is the baseline they are compared
  with.

Each phase but launch also keeps the 300 ms after its last event (the list and branch refresh
after a reply). Launch times count from just before the process is started; "shown" is the
first event-loop turn after ``show()``. Hardware detection runs off the GUI thread: the output
says whether it finished before or after the window was shown (timed in its thread, around
``detect``). Prints median, p95 and p99 (milliseconds), the lag pooled over all runs. Target:
lag p99 < 20 ms in every phase.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROBE_MS = 5
TAIL_MS = 300
IDLE_MS = 1000
WATCHDOG_S = 600
QUESTION = "Write a long story about a lighthouse keeper and the sea."
PHASES = ("launch", "streaming", "switching", "searching")
_WORDS = (
    "lighthouse keeper harbour storm lantern tide island ship rope gull fog beacon wave cliff "
    "sailor anchor compass map winter summer garden kitchen bread recipe oven flour butter "
    "travel train ticket station mountain valley river bridge forest trail camp tent budget "
    "invoice tax spreadsheet formula python function error database query index server "
    "letter neighbour birthday present music piano guitar lesson practice language grammar "
    "verb noun poem story chapter novel library museum painting colour light shadow morning"
)
_FILLER = "the a of and to in is was with for on that it as at by from this"
WORDS, FILLER = _WORDS.split(), _FILLER.split()


# -- the stored conversations ----------------------------------------------------------------


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(FILLER) for _ in range(n)]
    return " ".join(words).capitalize()


def _answer(rng: random.Random) -> str:
    """About 300 words of Markdown: paragraphs, a list, sometimes code."""
    parts = [". ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(4)) + "."]
    parts.append("\n".join(f"- **{rng.choice(WORDS)}**: {_sentence(rng, 8)}" for _ in range(4)))
    if rng.random() < 0.5:
        parts.append("```python\n" + "\n".join(f"{w} = {i}" for i, w in enumerate(WORDS[:6])))
        parts[-1] += "\n```"
    parts.append(". ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(5)) + ".")
    return "\n\n".join(parts)


def seed_conversations(store: Any, conversations: int, turns: int) -> list[int]:
    """Store the conversations (directly: call it on the store's thread)."""
    rng = random.Random(11)
    ids = []
    for _ in range(conversations):
        question = _sentence(rng, rng.randint(6, 12)) + "?"
        conv = store.create_conversation(question[:60])
        parent = None
        for t in range(turns):
            q = store.add_message(conv.id, parent, "user", question if t == 0 else "And then?")
            parent = store.add_message(conv.id, q.id, "assistant", _answer(rng)).id
        ids.append(conv.id)
    return ids


def queries(count: int) -> list[str]:
    rng = random.Random(13)
    return [
        " ".join(rng.sample(WORDS, 2)) if i % 3 == 2 else rng.choice(WORDS) for i in range(count)
    ]


def seed_child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import engine.policy

    engine.policy.install()
    from engine.storage import Keychain, open_store

    if not Keychain().available():
        print(json.dumps({"seeded": 0}))
        return
    with open_store() as store:
        ids = seed_conversations(store, args.conversations, args.turns)
    print(json.dumps({"seeded": len(ids)}))


# -- the timed process -----------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    t0 = float(os.environ["HEARTH_BENCH_T0"])
    sys.path.insert(0, str(ROOT))
    import engine.policy

    engine.policy.install()
    from PySide6.QtCore import QObject, Qt, QTimer, Slot
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import desktop.app
    import desktop.main_window
    from desktop import theme
    from desktop.main_window import MainWindow
    from engine.inference import GenerationOptions
    from engine.storage import Keychain, StoreOwner, open_memory_store, open_store

    result: dict[str, Any] = {"lags_ms": {p: [] for p in (*PHASES, "idle")}}
    detect = desktop.main_window.detect

    def timed_detect() -> Any:  # in the detection thread: when it really finished
        try:
            return detect()
        finally:
            result["detect_done_s"] = time.time() - t0

    desktop.main_window.detect = timed_detect  # type: ignore[assignment]

    sys.setswitchinterval(desktop.app.GIL_SWITCH_INTERVAL_S)  # as desktop/app.py does
    app = QApplication(sys.argv[:1])
    theme.follow_os(app)
    store = open_store() if Keychain().available() else open_memory_store()
    result["store"] = store.protection
    owner = StoreOwner(store)
    ledger = engine.policy.ledger()
    ledger.attach(lambda entry: owner.post(lambda: store.record_egress(entry)))
    window = MainWindow(owner)
    window.session.options = GenerationOptions(max_tokens=args.tokens, temperature=0.8, seed=1)
    window.show()

    state: dict[str, Any] = {"phase": None, "last": 0.0, "loaded": False, "detected": False}
    lags: dict[str, list[float]] = result["lags_ms"]
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)

    def tick() -> None:
        now = time.perf_counter()
        if state["phase"] and state["last"]:
            lags[state["phase"]].append(max(0.0, (now - state["last"]) * 1000 - PROBE_MS))
        state["last"] = now

    probe.timeout.connect(tick)
    probe.start()

    def later(ms: int, fn: Any) -> None:
        QTimer.singleShot(ms, fn)

    def then_idle(next_step: Any) -> None:
        """Keep the phase for its tail, then a second of idle baseline, then go on."""

        def idle() -> None:
            state["phase"] = "idle"
            later(IDLE_MS, lambda: (state.update(phase=None), next_step()))

        later(TAIL_MS, idle)

    def finish(code: int = 0, message: str = "") -> None:
        state["phase"] = None
        if message:
            print(message, file=sys.stderr)
        window.close()
        app.exit(code)

    class Receiver(QObject):
        """On the GUI thread, so the worker's and the session's signals arrive queued."""

        def __init__(self) -> None:
            super().__init__()
            self.ids: list[int] = []
            self.opens: list[int] = []
            self.opened_at = 0.0
            self.query = ""
            self.typed_at = 0.0
            self.queries = queries(args.queries)
            self.rng = random.Random(17)

        # -- launch and streaming

        @Slot()
        def shown(self) -> None:
            result["shown_s"] = time.time() - t0
            state["phase"] = "launch"
            window.composer.set_text(QUESTION)
            window.session.send(QUESTION)  # as Enter does

        @Slot(str, int)
        def model_loaded(self, _name: str, _n_ctx: int) -> None:
            result.setdefault("model_loaded_s", time.time() - t0)
            state["loaded"] = True
            self.launch_step()

        @Slot(object)
        def hardware_detected(self, _hardware: object) -> None:
            result.setdefault("hardware_detected_s", time.time() - t0)
            state["detected"] = True
            self.launch_step()

        def launch_step(self) -> None:
            if state["phase"] == "launch" and state["loaded"] and state["detected"]:
                state["phase"] = "streaming" if "first_token_s" in result else None

        @Slot(int, str, str)
        def text_received(self, _request_id: int, _kind: str, _text: str) -> None:
            if "first_token_s" not in result:
                result["first_token_s"] = time.time() - t0
                if state["phase"] is None:  # the launch phase has ended
                    state["phase"] = "streaming"

        @Slot(object)
        def turn_finished(self, outcome: Any) -> None:
            if outcome.reply is None:
                finish(1, f"the turn failed: {outcome.error}")
                return
            result["generated_tokens"] = outcome.reply.stats.generated_tokens
            result["tokens_per_second"] = outcome.reply.stats.tokens_per_second
            if state["phase"] != "streaming":  # a reply faster than hardware detection
                state["phase"] = "streaming"
            then_idle(self.prepare_switching)

        # -- switching

        def prepare_switching(self) -> None:
            seeded = owner.call(store.list_conversations)
            self.ids = [s.id for s in seeded if s.title != QUESTION[:60]]
            if not self.ids:  # the in-memory store: written now, through the owner
                self.ids = owner.call(
                    lambda: seed_conversations(store, args.conversations, args.turns)
                )
                result["seeded_after_launch"] = True
                window.conversations.refresh()
            self.opens = self.ids * args.switch_rounds
            result["switch_ms"] = []
            state["phase"] = "switching"
            later(0, self.open_next)

        def open_next(self) -> None:
            if not self.opens:
                then_idle(self.prepare_searching)
                return
            self.opened_at = time.perf_counter()
            window.open_conversation(self.opens.pop(0))

        @Slot(bool)
        def transcript_shown(self, shown: bool) -> None:
            if state["phase"] == "switching" and shown and self.opened_at:
                result["switch_ms"].append((time.perf_counter() - self.opened_at) * 1000)
                self.opened_at = 0.0
                later(0, self.open_next)

        # -- searching

        def prepare_searching(self) -> None:
            result["search_ms"] = []
            window.sidebar.search_edit.setFocus()
            state["phase"] = "searching"
            later(0, self.next_query)

        def next_query(self) -> None:
            if not self.queries:
                window.sidebar.search_edit.clear()
                then_idle(finish)
                return
            self.query = self.queries.pop(0)
            window.sidebar.search_edit.clear()  # the list comes back, as the clear button does
            later(300, lambda: self.type_key(0))

        def type_key(self, i: int) -> None:
            QTest.keyClicks(window.sidebar.search_edit, self.query[i])
            if i + 1 < len(self.query):
                later(self.rng.randint(60, 250), lambda: self.type_key(i + 1))
            else:
                self.typed_at = time.perf_counter()

        @Slot()
        def model_reset(self) -> None:
            sidebar = window.sidebar
            if (
                state["phase"] == "searching"
                and self.typed_at
                and sidebar.model.is_searching()
                and sidebar.search_text() == self.query
            ):
                result["search_ms"].append((time.perf_counter() - self.typed_at) * 1000)
                self.typed_at = 0.0
                later(0, self.next_query)

    receiver = Receiver()
    session = window.session
    session.model_loaded.connect(receiver.model_loaded)
    window.hardware_detected.connect(receiver.hardware_detected)
    session.worker.text_received.connect(receiver.text_received)
    session.turn_finished.connect(receiver.turn_finished)
    session.transcript_shown.connect(receiver.transcript_shown)
    window.sidebar.model.modelReset.connect(receiver.model_reset)
    QTimer.singleShot(0, receiver.shown)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(lambda: finish(2, f"stuck after {WATCHDOG_S} s: {state}"))
    watchdog.start(WATCHDOG_S * 1000)
    code = app.exec()
    ledger.detach()
    owner.close()
    store.close()
    print(json.dumps(result))
    sys.exit(code)


# -- the report ------------------------------------------------------------------------------


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(name: str, values: list[float], scale: float = 1.0, unit: str = "runs") -> str:
    if not values:
        return f"| {name} | | | | | 0 {unit} |"
    v = [x * scale for x in values]
    return (
        f"| {name} | {statistics.median(v):.1f} | {pct(v, 95):.1f} | {pct(v, 99):.1f} | "
        f"{max(v):.1f} | {len(v)} {unit} |"
    )


def cpu_sample() -> tuple[float, float, float]:
    """(wall, CPU seconds the whole machine used, CPU seconds this process and its finished
    children used): what other processes took in between is the difference."""
    try:
        with open("/proc/stat") as f:
            # cpu user nice system idle iowait irq softirq steal (guest time is inside user)
            fields = [int(x) for x in f.readline().split()[1:9]]
        machine = (sum(fields[:3]) + sum(fields[5:8])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        machine = 0.0  # not Linux: no figure
    t = os.times()
    return time.monotonic(), machine, t.user + t.system + t.children_user + t.children_system


def others_share(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Share of the machine's CPU capacity other processes used between samples ``a``, ``b``."""
    if not b[1]:
        return 0.0
    capacity = (b[0] - a[0]) * (os.cpu_count() or 1)
    return max(0.0, (b[1] - a[1]) - (b[2] - a[2])) / capacity


def run_once(args: argparse.Namespace, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hearth-ui-bench-") as profile:
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            env[var] = str(Path(profile) / var.lower())
        common = [
            "--conversations",
            str(args.conversations),
            "--turns",
            str(args.turns),
            "--tokens",
            str(args.tokens),
            "--switch-rounds",
            str(args.switch_rounds),
            "--queries",
            str(args.queries),
        ]

        def call(mode: str) -> dict[str, Any]:
            out = subprocess.run(
                [sys.executable, __file__, mode, *common],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                cwd=ROOT,
            )
            if out.returncode != 0:
                sys.exit(f"run {n + 1} {mode} failed ({out.returncode}):\n{out.stderr[-3000:]}")
            return json.loads(out.stdout.strip().splitlines()[-1])

        seeded = call("--seed")["seeded"]
        env["HEARTH_BENCH_T0"] = repr(time.time())
        before = cpu_sample()
        r = call("--child")
        r["others_cpu"] = others_share(before, cpu_sample())
        r["seeded_before"] = seeded
        return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=3, help="questions per conversation")
    parser.add_argument("--switch-rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=12)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed_child(args)
        return
    if args.child:
        child(args)
        return
    results = []
    for n in range(args.runs):
        r = run_once(args, n)
        results.append(r)
        detected = r.get("detect_done_s")
        where = (
            "not finished"
            if detected is None
            else f"{'before' if detected < r['shown_s'] else 'after'} the window was shown "
            f"({detected:.2f} s)"
        )
        print(
            f"run {n + 1}: shown {r['shown_s']:.2f} s, model loaded {r['model_loaded_s']:.2f} s, "
            f"hardware detection finished {where}, first token {r['first_token_s']:.2f} s, "
            f"{r['generated_tokens']} tokens at {r['tokens_per_second']:.0f} tokens/s, "
            f"{len(r['switch_ms'])} opens, {len(r['search_ms'])} searches; other processes "
            f"used {r['others_cpu']:.0%} of the CPU meanwhile",
            file=sys.stderr,
        )
    pooled = {p: [x for r in results for x in r["lags_ms"][p]] for p in (*PHASES, "idle")}
    idle_p99 = pct(pooled["idle"], 99) if pooled["idle"] else 0.0
    others = [r["others_cpu"] for r in results]
    seeded = (
        "stored before launch"
        if all(r["seeded_before"] for r in results)
        else "written through the owner after launch (in-memory store)"
    )
    print(
        f"Machine: {cpu_name()}, {os.cpu_count()} logical "
        f"CPUs, {platform.system()} {platform.release()}; Qt platform "
        f"{os.environ.get('QT_QPA_PLATFORM', 'offscreen')}; store: {results[0]['store']}; "
        f"{args.runs} runs, each a fresh process; up to {args.tokens} tokens a reply "
        f"(median {statistics.median(r['generated_tokens'] for r in results):.0f} generated, "
        f"{statistics.median(r['tokens_per_second'] for r in results):.0f} tokens/s); "
        f"{args.conversations} conversations of {args.turns} turns, {seeded}; other processes "
        f"used {min(others):.0%}-{max(others):.0%} of the CPU during the runs"
    )
    print("| event-loop lag (ms; 5 ms probe) | median | p95 | p99 | max | samples | p99 / idle |")
    print("|---|---|---|---|---|---|---|")
    for phase in (*PHASES, "idle"):
        lag = pooled[phase]
        ratio = f"{pct(lag, 99) / idle_p99:.1f}x" if lag and idle_p99 > 0 else ""
        print(f"{row(phase, lag, unit='probes')} {ratio} |")
    print()
    print("| measure (ms) | median | p95 | p99 | max | samples |")
    print("|---|---|---|---|---|---|")
    print(row("launch to window shown", [r["shown_s"] for r in results], 1000))
    print(row("launch to model loaded", [r["model_loaded_s"] for r in results], 1000))
    detects = [r["detect_done_s"] for r in results if "detect_done_s" in r]
    if detects:
        print(row("launch to hardware detected (its thread)", detects, 1000))
    print(row("launch to first token, starter model", [r["first_token_s"] for r in results], 1000))
    switches = [x for r in results for x in r["switch_ms"]]
    print(row("open a conversation until it is shown", switches, unit="opens"))
    searches = [x for r in results for x in r["search_ms"]]
    print(row("last key to search results (150 ms debounce in it)", searches, unit="searches"))
    before = sum(1 for r in results if r.get("detect_done_s", 1e9) < r["shown_s"])
    print(
        f"\nhardware detection finished before the window was shown in {before} of "
        f"{len(results)} runs"
    )
    for phase in PHASES:
        lag = pooled[phase]
        verdict = "no probes" if not lag else ("met" if pct(lag, 99) < 20 else "NOT met")
        extra = f" (p99 {pct(lag, 99):.1f} ms, max {max(lag):.1f} ms)" if lag else ""
        print(f"{phase}: lag p99 < 20 ms {verdict}{extra}")


if __name__ == "__main__":
    main()
