"""Start tests/engine/catalog/_range_server.py in a child process, for download tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("_range_server.py")


@dataclass(frozen=True)
class RangeServer:
    port: int
    log: Path

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def requests(self) -> list[str]:
        """Every request so far, as ``GET PATH RANGE`` (RANGE is "-" when none was asked)."""
        return self.log.read_text().splitlines() if self.log.exists() else []


@contextmanager
def range_server(directory: Path, *options: str) -> Iterator[RangeServer]:
    log = directory.parent / f"{directory.name}-requests.log"
    proc = subprocess.Popen(
        [sys.executable, "-u", str(SCRIPT), str(directory), "--log", str(log), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("port "), f"the server did not start: {line!r}"
        yield RangeServer(int(line.split()[1]), log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
