"""A plain cross-check of generation speed: llama-bench tg128, a bare decode loop (no
sampling, no Python around it but the call), and Hearth's stream_chat, one after the other in
each round, in one process with one session — none of benchmarks/engine.py's idle-gating.

    .venv/bin/python benchmarks/tg_probe.py [--rounds 6]

It exists because engine.py's figure for generation sat a few percent under this simpler
arrangement's; printing the bare loop shows what llama.cpp alone does here.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.catalog import load_catalog  # noqa: E402
from engine.inference import ChatMessage, ModelSession, open_model  # noqa: E402


def _engine_bench() -> object:
    # benchmarks/engine.py shadows the engine package when imported by name: load it by path.
    spec = importlib.util.spec_from_file_location(
        "hearth_engine_bench", ROOT / "benchmarks" / "engine.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bare_loop(session: ModelSession, prompt: list[int], tg: int) -> float:
    """llama.cpp alone: evaluate the prompt, then ``tg`` single-token decodes with fixed ids."""
    native = session._native
    session.forget()
    native.decode(prompt, lambda: False)
    start = time.perf_counter()
    for i in range(tg):
        native.decode_one(1000 + i)
    native._ll.llama_synchronize(native._ctx)
    return tg / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    hb = _engine_bench()
    catalog = load_catalog()
    model = hb.starter_model()  # type: ignore[attr-defined]
    tg = hb.TG  # type: ignore[attr-defined]
    exe = hb.llama_bench()  # type: ignore[attr-defined]
    session = open_model(
        model, entry=catalog.default, n_ctx=256, threads=args.threads, gpu_layers=0
    )
    prompt = session.tokenize_prompt([ChatMessage("user", hb.TG_PROMPT)])  # type: ignore[attr-defined]
    results: dict[str, list[float]] = {"llama-bench": [], "bare loop": [], "Hearth": []}
    for _ in range(args.rounds):
        results["llama-bench"].append(
            hb.bench_llama(  # type: ignore[attr-defined]
                exe, model, args.threads, pp=0, tg=tg, depth=len(prompt), reps=1
            )
        )
        results["bare loop"].append(bare_loop(session, prompt, tg))
        results["Hearth"].append(hb.bench_hearth_tg(session, tg, 1))  # type: ignore[attr-defined]
    session.close()
    base = results["llama-bench"]
    for name, values in results.items():
        per_round = statistics.median(v / b for v, b in zip(values, base, strict=True))
        print(
            f"{name:12} median {statistics.median(values):6.1f} tokens/s   "
            f"{per_round:6.1%} of llama-bench (median of rounds)   "
            f"rounds: {', '.join(f'{v:.0f}' for v in values)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
