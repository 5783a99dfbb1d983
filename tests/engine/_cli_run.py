"""Running ``hearth`` as a child process, with this checkout's code."""

from __future__ import annotations

import os
import subprocess
import sys

from engine.paths import PROJECT_ROOT

# `python -m desktop.launch` from the checkout runs the `hearth` entry point with this tree's
# code (an installed `hearth` script may belong to another checkout's editable install).
HEARTH = [sys.executable, "-m", "desktop.launch"]


def hearth(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HEARTH, *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env={**os.environ, **(env or {})},
        cwd=PROJECT_ROOT,
        check=False,
    )
