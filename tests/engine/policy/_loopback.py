"""A real HTTP server on loopback, in a child process.

The test process cannot listen on the network (the policy refuses every bind), so the server
runs in a child interpreter, which the policy lets the tests start. Later download tests can
serve files with it too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoopbackServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"


@contextmanager
def http_server(directory: Path, host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
    """Serve ``directory`` with ``python -m http.server`` on ``host`` and a free port."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "--bind",
            host,
            "--directory",
            str(directory),
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 40123 (http://…) ..."
        found = re.search(r" port (\d+)", line)
        assert found, f"the server did not start: {line!r}"
        yield LoopbackServer(host, int(found[1]))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def reachable_from_child(server: LoopbackServer) -> bool:
    """Whether a process without the policy can fetch from ``server``: it really listens."""
    code = (
        f"import urllib.request; urllib.request.urlopen({server.url!r}, timeout=10).read();"
        "print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    return out.stdout.strip() == "ok"
