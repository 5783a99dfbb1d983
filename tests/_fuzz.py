"""Property-based fuzzing bounded by time: each fuzz test runs for HEARTH_FUZZ_SECONDS (3 s
unless set), as many examples as fit, and never writes examples anywhere.

Hypothesis stops by a count of examples, not by time, so a fuzz test runs its property in
batches, each a full Hypothesis run (generation, and shrinking when it fails) with a fresh
random seed, sized from the previous batch's pace, until the time is spent.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.strategies import SearchStrategy

DEFAULT_SECONDS = 3.0


def fuzz_seconds() -> float:
    """The time each fuzz test runs for: HEARTH_FUZZ_SECONDS, or 3 seconds."""
    raw = os.environ.get("HEARTH_FUZZ_SECONDS", "")
    try:
        seconds = float(raw) if raw else DEFAULT_SECONDS
    except ValueError:
        raise ValueError(f"HEARTH_FUZZ_SECONDS must be a number of seconds, not {raw!r}") from None
    return max(seconds, 0.1)


# Hypothesis keeps its Unicode tables under .hypothesis/ in the current folder (the checkout)
# even with no example database; it gets a throwaway folder instead, removed at exit.
_HOME = tempfile.TemporaryDirectory(prefix="hearth-hypothesis-")
set_hypothesis_home_dir(_HOME.name)

_BATCH = settings(
    database=None,  # no .hypothesis/examples: nothing of a run is kept
    # Hypothesis's own CI profile (chosen when CI is set) fixes the seed: every batch would
    # then replay the same examples.
    derandomize=False,
    deadline=None,  # some inputs are slow on purpose (a template stopped at its 2 s limit)
    print_blob=True,  # a failure prints @reproduce_failure(...) to replay it exactly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def run_fuzz(
    prop: Callable[..., None], *strategies: SearchStrategy[Any], seconds: float | None = None
) -> int:
    """Check ``prop`` on values drawn from ``strategies`` (as ``@given(*strategies)`` would)
    in batches until ``seconds`` (default: ``fuzz_seconds()``) have passed; return how many
    examples ran.

    A failing example raises as in any Hypothesis test, shrunk, with its reproduction blob.
    """
    budget = fuzz_seconds() if seconds is None else seconds
    start = time.monotonic()
    examples, batch = 0, 10
    while True:
        began = time.monotonic()
        settings(_BATCH, max_examples=batch)(given(*strategies)(prop))()
        examples += batch
        now = time.monotonic()
        left = budget - (now - start)
        if left <= 0:
            return examples
        pace = (now - began) / batch  # seconds per example in the batch just run
        # Aim at half the time left, so one slow batch overshoots the budget by little.
        batch = max(1, min(10_000, int(left / 2 / max(pace, 1e-4))))


@contextmanager
def bounded_memory(extra: int) -> Iterator[None]:
    """At most ``extra`` more bytes of address space while the block runs: an allocation past
    it fails with MemoryError instead of taking the (shared) machine's memory. Linux only
    (macOS does not enforce the limit): elsewhere the block runs unbounded."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = int(statm.read_text(encoding="ascii").split()[0]) * resource.getpagesize()
    limit = in_use + extra if hard == resource.RLIM_INFINITY else min(hard, in_use + extra)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
