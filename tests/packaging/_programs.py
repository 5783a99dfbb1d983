"""Running the packaging scripts and openssl from a test.

The test session runs under the egress policy, which lets Hearth start no program but its own
interpreter and its self-check tools. The scripts are not Hearth: they are started by a plain
child interpreter (allowed, and recorded in the ledger), which runs them without the policy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_EXEC = "import os, sys; os.execvp(sys.argv[1], sys.argv[1:])"


def run_program(
    *argv: object,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (a script or a program on PATH) and capture its output."""
    return subprocess.run(
        [sys.executable, "-c", _EXEC, *(str(a) for a in argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=dict(env) if env is not None else dict(os.environ),
    )
