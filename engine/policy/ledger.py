"""The egress ledger: every attempt, allowed or blocked, in memory and handed to a sink.

The sink is how the encrypted store keeps the ledger: the policy is installed before storage
exists, so entries recorded before a sink is attached are replayed to it when it is.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from typing import Protocol

from engine.policy.types import EgressAttempt

log = logging.getLogger(__name__)

# The store keeps the full history; memory keeps the recent part.
MEMORY_LIMIT = 10_000


class LedgerSink(Protocol):
    """Receives each entry once, in the thread that made the attempt.

    It must be quick and should not block (hand the entry to the storage thread); an
    exception it raises is logged and counted, never passed on to the code that made the
    attempt.
    """

    def __call__(self, entry: EgressAttempt, /) -> None: ...


class Ledger:
    """Thread-safe, append-only record of egress attempts."""

    def __init__(self, limit: int = MEMORY_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: deque[EgressAttempt] = deque(maxlen=limit)
        self._total = 0
        self._pending: deque[EgressAttempt] = deque()
        self._sink: LedgerSink | None = None
        self._flushing = threading.local()
        self.sink_failures = 0

    def record(self, entry: EgressAttempt) -> None:
        """Append ``entry`` and pass it to the sink, if one is attached."""
        with self._lock:
            self._entries.append(entry)
            self._total += 1
            if self._sink is not None:
                self._pending.append(entry)
        self._flush()

    def entries(self) -> list[EgressAttempt]:
        """The entries in memory, oldest first."""
        with self._lock:
            return list(self._entries)

    def since(self, mark: int) -> list[EgressAttempt]:
        """Entries recorded after ``mark`` (a value of :attr:`total` taken earlier)."""
        with self._lock:
            new = self._total - mark
            return list(self._entries)[-new:] if new > 0 else []

    @property
    def total(self) -> int:
        """How many entries were ever recorded (memory keeps the last MEMORY_LIMIT)."""
        with self._lock:
            return self._total

    def __iter__(self) -> Iterator[EgressAttempt]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def attach(self, sink: LedgerSink) -> None:
        """Send every entry in memory, then each new one, to ``sink`` (replacing any other)."""
        with self._lock:
            self._sink = sink
            self._pending = deque(self._entries)
        self._flush()

    def detach(self) -> None:
        """Stop sending entries to the sink (for shutdown, once the store is closing)."""
        with self._lock:
            self._sink = None
            self._pending.clear()

    def _flush(self) -> None:
        # An entry recorded while the sink runs (the sink's own code tripping the policy)
        # lands in _pending and is sent by the loop below, not by a nested call.
        if getattr(self._flushing, "active", False):
            return
        self._flushing.active = True
        try:
            while True:
                with self._lock:
                    if not self._pending or self._sink is None:
                        return
                    entry, sink = self._pending.popleft(), self._sink
                try:
                    sink(entry)
                except Exception:
                    self.sink_failures += 1
                    log.exception("the egress ledger's sink failed; entry kept in memory only")
        finally:
            self._flushing.active = False
