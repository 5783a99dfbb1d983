"""Hearth's engine path against llama.cpp's own llama-bench, same source, same machine.

    .venv/bin/python benchmarks/engine.py [--rounds 5] [--threads N]

Builds llama-bench once from the vendored llama.cpp inside the pinned llama-cpp-python sdist
(cached under ~/.cache/hearth-build), then alternates runs of llama-bench and of Hearth's
ModelSession.stream_chat on the starter model with the same threads, batch sizes and flash
attention setting, and prints medians and ratios. Also: time to first token at turn 1 versus
turn 10 of a growing conversation (KV-cache reuse). Machines are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.catalog import load_catalog  # noqa: E402
from engine.catalog.installed import find_file  # noqa: E402
from engine.inference import ChatMessage, GenerationOptions, ModelSession, open_model  # noqa: E402

VERSION = "0.3.36"  # must match pyproject.toml's llama-cpp-python pin
PP, TG, BATCH = 512, 128, 512


def llama_bench() -> Path:
    cache = Path(os.environ.get("HEARTH_BUILD_CACHE", Path.home() / ".cache/hearth-build"))
    build = cache / f"llama-bench-{VERSION}-cpu" / "build"
    exe = build / "bin" / "llama-bench"
    if exe.exists():
        return exe
    print(f"building llama-bench from llama-cpp-python {VERSION}'s vendored llama.cpp "
          "(several minutes, once)…", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "-d", tmp, f"llama-cpp-python=={VERSION}"],
                       check=True)
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = Path(tmp) / f"llama_cpp_python-{VERSION}" / "vendor" / "llama.cpp"
        # The same defaults llama-cpp-python's CPU build uses: Release, native CPU features.
        subprocess.run(["cmake", "-S", str(src), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                        "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
                        "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF",
                        "-DGGML_METAL=OFF", "-DGGML_CUDA=OFF"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", str(build), "--target", "llama-bench", "-j",
                        str(os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
    return exe


def bench_llama(exe: Path, model: Path, threads: int, pp: int, tg: int) -> float:
    out = subprocess.run(
        [str(exe), "-m", str(model), "-t", str(threads), "-p", str(pp), "-n", str(tg),
         "-b", str(BATCH), "-ub", str(BATCH), "-fa", "off", "-ngl", "0", "-r", "3",
         "-o", "json"],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(json.loads(out)[0]["avg_ts"])


LONG_PROMPT = ("Summarise the following notes. " + " ".join(
    f"Note {i}: the lighthouse keeper logged the weather, the ships and the tides." for i in
    range(200)))


def bench_hearth_pp(session: ModelSession, pp: int) -> float:
    """Prompt tokens per second through stream_chat on an empty cache (first token timing)."""
    tokens = session.tokenize_prompt([ChatMessage("user", LONG_PROMPT)])
    words = LONG_PROMPT.split()
    # Trim the prompt to ``pp`` tokens of chat-formatted text.
    while len(tokens) > pp:
        words = words[: int(len(words) * pp / len(tokens)) - 1]
        tokens = session.tokenize_prompt([ChatMessage("user", " ".join(words))])
    rates = []
    for _ in range(3):
        session._reset_cache()
        reply = session.chat([ChatMessage("user", " ".join(words))],
                             GenerationOptions(max_tokens=1, temperature=0))
        rates.append(reply.stats.evaluated_tokens / reply.stats.time_to_first_token_s)
    return statistics.mean(rates)


def bench_hearth_tg(session: ModelSession, tg: int) -> float:
    rates = []
    for seed in range(3):
        session._reset_cache()
        reply = session.chat([ChatMessage("user", "Tell me a long story about the sea.")],
                             GenerationOptions(max_tokens=tg, seed=seed))
        rates.append(reply.stats.tokens_per_second)
    return statistics.mean(rates)


def ttft_turns(session: ModelSession, turns: int = 10) -> tuple[float, float]:
    session._reset_cache()
    history: list[ChatMessage] = []
    ttft = []
    for i in range(turns):
        history.append(ChatMessage("user", f"Question {i}: name a sea creature and one fact "
                                           "about it, in one sentence."))
        reply = session.chat(history, GenerationOptions(max_tokens=40, seed=i))
        ttft.append(reply.stats.time_to_first_token_s)
        history.append(ChatMessage("assistant", reply.answer))
    return ttft[0], ttft[-1]


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
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    catalog = load_catalog()
    model_path = find_file(catalog.default)
    if model_path is None:
        sys.exit("starter model missing: run scripts/setup.sh --no-launch")
    exe = llama_bench()
    session = open_model(model_path, entry=catalog.default, n_ctx=2048, threads=args.threads,
                         gpu_layers=0)
    results: dict[str, list[float]] = {k: [] for k in
                                       ("bench_pp", "hearth_pp", "bench_tg", "hearth_tg",
                                        "ttft1", "ttft10")}
    for r in range(args.rounds):
        # Alternate, so drift in machine load hits both sides alike.
        results["bench_pp"].append(bench_llama(exe, model_path, args.threads, PP, 0))
        results["hearth_pp"].append(bench_hearth_pp(session, PP))
        results["hearth_tg"].append(bench_hearth_tg(session, TG))
        results["bench_tg"].append(bench_llama(exe, model_path, args.threads, 0, TG))
        t1, t10 = ttft_turns(session)
        results["ttft1"].append(t1)
        results["ttft10"].append(t10)
        print(f"round {r + 1}/{args.rounds}: "
              + ", ".join(f"{k} {v[-1]:.4g}" for k, v in results.items()), file=sys.stderr)
    session.close()
    med = {k: statistics.median(v) for k, v in results.items()}

    def ratio(ours: str, base: str) -> float:
        # Median of the per-round ratios: each round's pair ran back to back, so machine load
        # drift cancels within a round.
        return statistics.median(o / b for o, b in zip(results[ours], results[base],
                                                      strict=True))

    print(f"Machine: {machine()}; threads {args.threads}; model {catalog.default.file}; "
          f"llama-cpp-python {VERSION}; {args.rounds} alternating rounds, medians")
    print(f"| measure | llama-bench | Hearth | Hearth / llama-bench (median of rounds) |\n"
          f"|---|---|---|---|\n"
          f"| prompt processing, pp{PP} (tokens/s) | {med['bench_pp']:.1f} | "
          f"{med['hearth_pp']:.1f} | {ratio('hearth_pp', 'bench_pp'):.1%} |\n"
          f"| generation, tg{TG} (tokens/s) | {med['bench_tg']:.1f} | {med['hearth_tg']:.1f} "
          f"| {ratio('hearth_tg', 'bench_tg'):.1%} |")
    print(f"| time to first token, turn 1 → turn 10 (s) | | {med['ttft1']:.3f} → "
          f"{med['ttft10']:.3f} | turn 10 / turn 1: {ratio('ttft10', 'ttft1'):.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
