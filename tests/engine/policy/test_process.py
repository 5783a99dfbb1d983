"""No core dumps: a crash of a process that installed the policy writes no copy of its memory
(the database key, the conversation) to disk. Real processes, killed with a real SIGSEGV."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT

WAIT = "import sys, time; print('ready', flush=True); time.sleep(60)"
WITH_POLICY = "import engine.policy; engine.policy.install(); " + WAIT


def _crash(code: str, cwd: Path) -> list[Path]:
    """Run ``code`` in a child allowed unlimited core files, SIGSEGV it, and list the core
    files left in its working directory."""

    def allow_cores() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        preexec_fn=allow_cores,  # noqa: PLW1509 - one setrlimit, no locks
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    limits = Path(f"/proc/{child.pid}/limits").read_text()
    child.send_signal(signal.SIGSEGV)
    child.wait(timeout=30)
    time.sleep(0.2)
    return [p for p in cwd.iterdir() if p.name.startswith("core")], limits


@pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or Path("/proc/sys/kernel/core_pattern").read_text().strip() != "core"
    or resource.getrlimit(resource.RLIMIT_CORE)[1] == 0,
    reason="needs Linux writing plain 'core' files (core_pattern) and a core limit above 0, "
    "so that the control process dumps",
)
def test_a_crash_after_the_policy_is_installed_writes_no_core(tmp_path: Path):
    control = tmp_path / "control"
    control.mkdir()
    cores, _ = _crash(WAIT, control)
    assert cores, "the control process should have dumped core: the test would prove nothing"
    hearth = tmp_path / "hearth"
    hearth.mkdir()
    cores, limits = _crash(WITH_POLICY, hearth)
    assert cores == []
    line = next(x for x in limits.splitlines() if x.startswith("Max core file size"))
    assert line.split()[4] == "0"  # the soft limit, which the kernel obeys


def test_the_process_says_it_is_not_dumpable():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import engine.policy; engine.policy.install(); "
            "from engine.policy.process import dumpable; import resource; "
            "print(dumpable(), resource.getrlimit(resource.RLIMIT_CORE)[0])",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = "False 0" if sys.platform.startswith("linux") else "None 0"
    assert done.stdout.strip() == expected
