"""Hearth's engine path against llama.cpp's own llama-bench, same source, same machine.

    .venv/bin/python benchmarks/engine.py [--rounds 30] [--reps 1] [--threads N]

Builds llama-bench once from the vendored llama.cpp inside the pinned llama-cpp-python sdist
(cached under ~/.cache/hearth-build), then alternates measurements of llama-bench and of
Hearth's ModelSession.stream_chat on the starter model with the same threads, context work,
batch sizes, KV cache type and flash attention setting. Each round measures in the order
A B B A (the next round B A A B), so a machine that drifts steadily slower or faster during a
round affects both sides alike. Every measurement of either side runs in a fresh process.
Prints medians, the median of per-round ratios with a bootstrap 95 % confidence interval,
and whether the ≥ 95 % target is shown: it is when the interval's lower end is at or above
95 %. Also: time to first token at turn 1 versus turn 10
of a growing conversation (KV-cache reuse). Measurements that another process disturbed are
taken again (see Quiet).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.catalog import load_catalog  # noqa: E402
from engine.catalog.installed import find_file  # noqa: E402
from engine.inference import ChatMessage, GenerationOptions, ModelSession, open_model  # noqa: E402

# The llama-cpp-python measured; llama-bench is built from the same version's sdist.
VERSION = importlib.metadata.version("llama-cpp-python")
PP, TG, BATCH = 512, 128, 512
TARGET = 0.95  # Hearth / llama-bench, both pp and tg
MIN_ROUNDS_FOR_VERDICT = 10  # a bootstrap over fewer rounds says little


def llama_bench() -> Path:
    cache = Path(os.environ.get("HEARTH_BUILD_CACHE", Path.home() / ".cache/hearth-build"))
    build = cache / f"llama-bench-{VERSION}-cpu" / "build"
    exe = build / "bin" / "llama-bench"
    if exe.exists():
        return exe
    print(
        f"building llama-bench from llama-cpp-python {VERSION}'s vendored llama.cpp "
        "(several minutes, once)…",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                tmp,
                f"llama-cpp-python=={VERSION}",
            ],
            check=True,
        )
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = Path(tmp) / f"llama_cpp_python-{VERSION}" / "vendor" / "llama.cpp"
        # The same defaults llama-cpp-python's CPU build uses: Release, native CPU features.
        subprocess.run(
            [
                "cmake",
                "-S",
                str(src),
                "-B",
                str(build),
                "-DCMAKE_BUILD_TYPE=Release",
                "-DLLAMA_CURL=OFF",
                "-DLLAMA_BUILD_TESTS=OFF",
                "-DLLAMA_BUILD_EXAMPLES=OFF",
                "-DLLAMA_BUILD_SERVER=OFF",
                "-DGGML_METAL=OFF",
                "-DGGML_CUDA=OFF",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [
                "cmake",
                "--build",
                str(build),
                "--target",
                "llama-bench",
                "-j",
                str(os.cpu_count() or 2),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return exe


def bench_llama(
    exe: Path, model: Path, threads: int, *, pp: int, tg: int, depth: int, reps: int
) -> float:
    """llama-bench's own figure: the median of its ``reps`` timed repetitions (after its warm-up
    run), the same estimator as the Hearth side uses."""
    out = subprocess.run(
        # Everything that shapes the work is spelled out rather than left to llama-bench's
        # defaults: threads (for batches and for single tokens alike), batch and micro-batch
        # 512 (Hearth's LoadParams.n_batch, used for both), f16 K and V cache, flash attention
        # off, CPU only. These are what open_model() plans for the starter model on a CPU
        # machine; main() checks that the plan still says so.
        [
            str(exe),
            "-m",
            str(model),
            "-t",
            str(threads),
            "-p",
            str(pp),
            "-n",
            str(tg),
            "-d",
            str(depth),
            "-b",
            str(BATCH),
            "-ub",
            str(BATCH),
            "-ctk",
            "f16",
            "-ctv",
            "f16",
            "-fa",
            "off",
            "-ngl",
            "0",
            "-r",
            str(reps),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return statistics.median(json.loads(out)[0]["samples_ts"])


LONG_PROMPT = "Summarise the following notes. " + " ".join(
    f"Note {i}: the lighthouse keeper logged the weather, the ships and the tides."
    for i in range(200)
)
TG_PROMPT = "Tell me a long story about the sea."


def pp_messages(session: ModelSession, pp: int) -> list[ChatMessage]:
    """One user message whose chat-formatted prompt is ``pp`` tokens long.

    Both sides evaluate exactly the same number of prompt tokens. The message is cut at
    a character: the token count of a prefix grows by at most a token or two per character, so
    a binary search followed by a short walk back lands on ``pp`` exactly.
    """

    def count(n_chars: int) -> int:
        return session.count_tokens([ChatMessage("user", LONG_PROMPT[:n_chars])])

    lo, hi = 1, len(LONG_PROMPT)  # the largest prefix with count <= pp lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(mid) <= pp:
            lo = mid
        else:
            hi = mid - 1
    for n_chars in range(lo, max(lo - 64, 0), -1):
        if count(n_chars) == pp:
            return [ChatMessage("user", LONG_PROMPT[:n_chars])]
    raise SystemExit(f"could not build a prompt of exactly {pp} tokens")


def bench_hearth_pp(session: ModelSession, messages: list[ChatMessage], reps: int) -> float:
    """Prompt tokens per second through stream_chat on an empty KV cache.

    Timed from the call to stream_chat to the first sampled token, as a person waits for it:
    rendering the chat template, tokenizing, evaluating, and sampling the first token. That is
    more than llama-bench times for pp (evaluation alone, on random token ids): we do not time
    less than a real chat does. The extra work is about 1 ms against about 1.7 s of evaluation.
    """
    rates = []
    # One untimed run first, as llama-bench warms up before its timed repetitions.
    for rep in range(reps + 1):
        session.forget()
        reply = session.chat(messages, GenerationOptions(max_tokens=1, temperature=0))
        if reply.stats.evaluated_tokens != reply.stats.prompt_tokens:
            raise SystemExit("the prompt was partly reused from the cache: not a pp run")
        if rep:
            rates.append(reply.stats.evaluated_tokens / reply.stats.time_to_first_token_s)
    return statistics.median(rates)


def bench_hearth_tg(session: ModelSession, tg: int, reps: int) -> float:
    """Generated tokens per second through stream_chat, with the catalog's sampling settings.

    Stats.tokens_per_second spans the generation loop: ``tg`` rounds of sampling, evaluating
    the token, decoding its text and yielding it. llama-bench's tg evaluates ``tg`` tokens and
    samples nothing (it feeds random token ids back in). Sampling stays in ours because every
    real chat samples; it is the one piece of work only our side does (≈ 80 µs of ≈ 7 ms per
    token on the starter model, measured on the 2-core machine).
    """
    rates = []
    session.forget()
    # Warm up with a whole untimed run, as llama-bench warms up before it measures: in a fresh
    # process the first pass over the memory-mapped weights also faults their pages in.
    session.chat([ChatMessage("user", TG_PROMPT)], GenerationOptions(max_tokens=tg, seed=0))
    for seed in range(reps):
        session.forget()
        reply = session.chat(
            [ChatMessage("user", TG_PROMPT)], GenerationOptions(max_tokens=tg, seed=seed)
        )
        if reply.stats.generated_tokens != tg:
            # A shorter reply would be a different span of work from llama-bench's tg.
            raise SystemExit(
                f"the reply stopped after {reply.stats.generated_tokens} tokens, "
                f"not {tg}: choose a prompt that makes the model write more"
            )
        rates.append(reply.stats.tokens_per_second)
    return statistics.median(rates)


def ttft_turns(session: ModelSession, turns: int = 10) -> tuple[float, float]:
    session.forget()
    history: list[ChatMessage] = []
    ttft = []
    for i in range(turns):
        history.append(
            ChatMessage(
                "user", f"Question {i}: name a sea creature and one fact about it, in one sentence."
            )
        )
        reply = session.chat(history, GenerationOptions(max_tokens=40, seed=i))
        ttft.append(reply.stats.time_to_first_token_s)
        history.append(ChatMessage("assistant", reply.answer))
    return ttft[0], ttft[-1]


def starter_model() -> Path:
    path = find_file(load_catalog().default)
    if path is None:
        sys.exit("starter model missing: run scripts/setup.sh --no-launch")
    return path


def load(n_ctx: int, threads: int) -> ModelSession:
    catalog = load_catalog()
    session = open_model(
        starter_model(), entry=catalog.default, n_ctx=n_ctx, threads=threads, gpu_layers=0
    )
    # The llama-bench command line states these; make sure Hearth really runs that way.
    plan = session.plan
    if (plan.kv_type, plan.flash_attn, plan.gpu_layers) != ("f16", False, 0):
        sys.exit(f"the plan changed ({plan.describe()}): update llama-bench's arguments")
    return session


def tg_prompt_tokens(session: ModelSession) -> int:
    return session.count_tokens([ChatMessage("user", TG_PROMPT)])


def hearth_measurement(kind: str, threads: int, reps: int, depth: int) -> float:
    """One measurement of Hearth's side, in the context size llama-bench gives the same test.

    Same context size on both sides. llama-bench sizes its context to each test (prompt +
    generated + depth tokens, rounded up to 256 by llama.cpp), and the size matters even
    though llama.cpp only attends over the used cells: without flash attention the V cache is
    stored transposed, one row per dimension, kv_size cells long, so a larger context spreads
    every attention read and KV write further apart in memory. ``depth`` is the token count
    of the chat-formatted TG_PROMPT (tg_prompt_tokens), worked out once by the parent.
    """
    if kind == "pp":
        # A 512-token context. stream_chat keeps at least one cell for the reply, so Hearth's
        # prompt is 511 tokens and llama-bench runs -p 511 (the same 512-cell attention).
        with load(PP, threads) as session:
            return bench_hearth_pp(session, pp_messages(session, PP - 1), reps)
    # tg: llama-bench -d puts the same number of cached tokens (the chat-formatted TG_PROMPT)
    # before the generated ones, so both generate the same positions in the same context.
    with load(depth + TG, threads) as session:
        return bench_hearth_tg(session, TG, reps)


# -- quiet measurements ----------------------------------------------------------------------
#
# Both sides run as many compute threads as the machine has cores, and ggml's threads meet at a
# barrier after every operation (hundreds per token). When another process takes a core for a
# moment, the thread that lost its core holds up the other at the next barrier, so a neighbour
# using a tenth of one core can cost far more than a tenth of the throughput. On the shared
# 2-core machine, single runs of either side were seen at 2-60 % of their usual speed while
# test suites ran next to them. So each measurement is taken when the machine is otherwise
# idle, and repeated when another process used the CPU while it ran. The rule is the same for
# llama-bench and for Hearth.

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
T = TypeVar("T")


@dataclass(frozen=True)
class CpuSample:
    wall: float
    machine: float  # CPU seconds every process (and the hypervisor's steal) used, all cores
    own: float  # CPU seconds this process and its finished children used


def cpu_sample() -> CpuSample:
    try:
        with open("/proc/stat") as f:
            # cpu user nice system idle iowait irq softirq steal (guest time is inside user)
            fields = [int(x) for x in f.readline().split()[1:9]]
        machine = (sum(fields[:3]) + sum(fields[5:8])) / CLK_TCK
    except (OSError, ValueError):
        machine = 0.0  # not Linux: no check
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return CpuSample(time.monotonic(), machine, own)


def others_share(a: CpuSample, b: CpuSample) -> float:
    """Share of the machine's CPU capacity that other processes used between ``a`` and ``b``."""
    if not b.machine:
        return 0.0
    capacity = (b.wall - a.wall) * (os.cpu_count() or 1)
    return max(0.0, (b.machine - a.machine) - (b.own - a.own)) / capacity


@dataclass
class Quiet:
    threshold: float  # largest share of the CPU others may use during a measurement
    attempts: int  # tries per measurement before keeping the least disturbed one
    max_wait_s: float  # for the machine to go idle before a try that follows a disturbed one
    retried: int = 0
    disturbed: int = 0  # measurements kept although every try was disturbed
    _busy: bool = True  # the last measurement was disturbed (or none was taken yet)

    def wait(self) -> None:
        """Wait for other processes to leave the CPU, but only when the last measurement saw
        them: sleeping before every measurement would let the cores idle down, and the side
        measured right after the pause would pay for it."""
        if not self._busy:
            return
        deadline = time.monotonic() + self.max_wait_s
        said = False
        while time.monotonic() < deadline:
            a = cpu_sample()
            time.sleep(0.5)
            if others_share(a, cpu_sample()) <= self.threshold:
                return
            if not said:
                print("waiting for other processes to leave the CPU…", file=sys.stderr)
                said = True

    def measure(self, fn: Callable[[], T]) -> T:
        best: tuple[float, T] | None = None
        for attempt in range(self.attempts):
            self.wait()
            a = cpu_sample()
            value = fn()
            share = others_share(a, cpu_sample())
            self._busy = share > self.threshold
            if not self._busy:
                return value
            if attempt + 1 < self.attempts:
                self.retried += 1
            if best is None or share < best[0]:
                best = (share, value)
        assert best is not None
        self.disturbed += 1
        return best[1]


def bootstrap_median_ci(
    values: list[float], *, level: float = 0.95, resamples: int = 10_000
) -> tuple[float, float]:
    """Percentile bootstrap interval for the median of ``values`` (fixed seed: the same
    figures give the same interval)."""
    rng = random.Random(0)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(resamples))
    tail = (1 - level) / 2
    return medians[int(tail * resamples)], medians[int((1 - tail) * resamples) - 1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=30,
        help="rounds of A B B A measurements; the ratios are medians over rounds",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=1,
        help="timed repetitions inside each measurement (median), both sides",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=0.03,
        help="share of the CPU other processes may use during a measurement "
        "before it is taken again",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="tries per measurement before keeping the least disturbed one",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=120.0,
        help="seconds to wait for the machine to go idle after a disturbed measurement",
    )
    parser.add_argument("--child", choices=("pp", "tg"), help=argparse.SUPPRESS)
    parser.add_argument("--depth", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        # One Hearth measurement in this fresh process, printed for the parent (see below).
        print(json.dumps(hearth_measurement(args.child, args.threads, args.reps, args.depth)))
        return 0

    catalog = load_catalog()
    model_path = starter_model()
    exe = llama_bench()
    # The prompt sizes both sides must match, worked out here once: the tg children get
    # tg_depth on their command line.
    pp_tokens = PP - 1
    chat_session = load(2048, args.threads)
    tg_depth = tg_prompt_tokens(chat_session)
    quiet = Quiet(args.quiet_threshold, args.attempts, args.max_wait)

    def llama_pp() -> float:
        return bench_llama(
            exe, model_path, args.threads, pp=pp_tokens, tg=0, depth=0, reps=args.reps
        )

    def llama_tg() -> float:
        return bench_llama(
            exe, model_path, args.threads, pp=0, tg=TG, depth=tg_depth, reps=args.reps
        )

    def hearth(kind: str) -> Callable[[], float]:
        # Each Hearth measurement runs in a fresh process, as each llama-bench one does. In
        # one long-lived process Hearth's generation once read 10 % slower than llama-bench
        # for a whole 30-round run (and in about one process in twenty of a probe), while a
        # bare decode loop in the same process did not: something fixed for the life of a
        # process (not found yet) that a single process would count thirty times over.
        def run() -> float:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    kind,
                    "--threads",
                    str(args.threads),
                    "--reps",
                    str(args.reps),
                    "--depth",
                    str(tg_depth),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            return float(json.loads(out.splitlines()[-1]))

        return run

    pairs: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
        "pp": (llama_pp, hearth("pp")),
        "tg": (llama_tg, hearth("tg")),
    }
    results: dict[str, list[float]] = {
        k: [] for k in ("bench_pp", "hearth_pp", "bench_tg", "hearth_tg", "ttft1", "ttft10")
    }
    for r in range(args.rounds):
        for name, (theirs, ours) in pairs.items():
            # A B B A, then B A A B: each side's two measurements sit symmetrically around
            # the round's middle, so a steady drift in machine speed (these machines drift
            # by ±15 % over seconds, invisible from inside the VM) cancels within the round.
            first, second = ("bench", theirs), ("hearth", ours)
            if r % 2:
                first, second = second, first
            got: dict[str, list[float]] = {"bench": [], "hearth": []}
            for side, fn in (first, second, second, first):
                got[side].append(quiet.measure(fn))
            for side, values in got.items():
                results[f"{side}_{name}"].append(statistics.fmean(values))
        t1, t10 = quiet.measure(lambda: ttft_turns(chat_session))
        results["ttft1"].append(t1)
        results["ttft10"].append(t10)
        print(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{k} {v[-1]:.4g}" for k, v in results.items()),
            file=sys.stderr,
        )
    chat_session.close()
    med = {k: statistics.median(v) for k, v in results.items()}

    def ratios(ours: str, base: str) -> list[float]:
        return [o / b for o, b in zip(results[ours], results[base], strict=True)]

    verdicts = []

    def ratio(ours: str, base: str, label: str) -> str:
        # Median of the per-round ratios: each round's measurements ran back to back, so
        # machine drift cancels within a round. The interval says how sure that median is;
        # the range shows how far single rounds strayed.
        rs = ratios(ours, base)
        low, high = bootstrap_median_ci(rs)
        if len(rs) < MIN_ROUNDS_FOR_VERDICT:
            verdicts.append(f"{label} undecided (fewer than {MIN_ROUNDS_FOR_VERDICT} rounds)")
        else:
            verdicts.append(
                f"{label} {'shown' if low >= TARGET else 'not shown'} (interval from {low:.1%})"
            )
        return (
            f"{statistics.median(rs):.1%} [{low:.1%}, {high:.1%}] "
            f"({min(rs):.1%}–{max(rs):.1%}) | {med[ours] / med[base]:.1%}"
        )

    print(
        f"Machine: {machine()}; threads {args.threads}; model {catalog.default.file}; "
        f"llama-cpp-python {VERSION}; {args.rounds} rounds of A B B A, {args.reps} timed "
        f"repetition(s) per measurement; {quiet.retried} disturbed measurements taken "
        f"again, {quiet.disturbed} kept disturbed"
    )
    print(
        f"| measure | llama-bench | Hearth | Hearth / llama-bench: median of rounds "
        f"[95 % CI] (range) | ratio of medians |\n"
        f"|---|---|---|---|---|\n"
        f"| prompt processing, pp{pp_tokens} in a {PP}-token context (tokens/s) | "
        f"{med['bench_pp']:.1f} | "
        f"{med['hearth_pp']:.1f} | {ratio('hearth_pp', 'bench_pp', 'pp')} |\n"
        f"| generation, tg{TG} (tokens/s) | {med['bench_tg']:.1f} | {med['hearth_tg']:.1f} "
        f"| {ratio('hearth_tg', 'bench_tg', 'tg')} |"
    )
    ttft = statistics.median(ratios("ttft10", "ttft1"))
    print(
        f"| time to first token, turn 1 → turn 10 (s) | | {med['ttft1']:.3f} → "
        f"{med['ttft10']:.3f} | turn 10 / turn 1: {ttft:.2f}× | |"
    )
    print(
        f"Target ≥ {TARGET:.0%} of llama-bench: "
        + "; ".join(verdicts)
        + ". Turn-10 time to first token ≤ 1.5 × turn 1: "
        + ("met" if ttft <= 1.5 else "not met")
        + "."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
