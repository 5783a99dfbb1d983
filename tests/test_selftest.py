"""``hearth --self-test``: run as a person would (a child process, the real starter model),
and each check shown able to fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import engine.policy
from engine import selftest
from engine.paths import PROJECT_ROOT
from engine.policy import EgressBlocked
from engine.selftest import Check, SelfTestResult

needs_strace = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and shutil.which("strace")), reason="strace not installed"
)

# Runs the real entry point, then says whether Qt was loaded: --self-test must stay headless.
RUN_AND_REPORT_QT = (
    "import sys\n"
    "from desktop.launch import main\n"
    "rc = main(['--self-test'])\n"
    "print('QT LOADED' if any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules)"
    " else 'QT NOT LOADED')\n"
    "sys.exit(rc)\n"
)


def self_test(
    *, code: str | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    argv = (
        [sys.executable, "-c", code]
        if code
        else [str(Path(sys.executable).parent / "hearth"), "--self-test"]
    )
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=PROJECT_ROOT,
        check=False,
    )


# Every check the report has, in its order; the last one may be skipped (no strace).
CHECKS = (
    selftest.POLICY,
    selftest.MODEL,
    selftest.ANSWER,
    selftest.STORE,
    selftest.DOCUMENTS,
    selftest.LEDGER,
    selftest.KERNEL,
)


def check_lines(stdout: str) -> dict[str, str]:
    """check name -> PASS/FAIL/SKIP, from the report."""
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] in ("PASS", "FAIL", "SKIP"):
            for name in CHECKS:
                if parts[1].startswith(name):
                    found[name] = parts[0]
    return found


@pytest.mark.slow
def test_self_test_passes_headless_and_touches_no_profile(
    starter_model_path: Path, fresh_profile: Path
):
    done = self_test(code=RUN_AND_REPORT_QT)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = check_lines(done.stdout)
    required = set(CHECKS) - {selftest.KERNEL}
    assert {name: checks.get(name) for name in required} == dict.fromkeys(required, "PASS")
    expected_kernel = "PASS" if shutil.which("strace") else "SKIP"
    assert checks[selftest.KERNEL] == expected_kernel
    assert done.stdout.rstrip().endswith("QT NOT LOADED")
    assert "Result: PASS" in done.stdout
    assert "Traceback" not in done.stderr
    # The store lived in a temporary folder: nothing in the person's profile.
    assert not [p for p in fresh_profile.rglob("*") if p.is_file()]


def test_hearth_command_fails_without_the_starter_model(tmp_path: Path):
    (tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF not really")
    done = self_test(
        env={"HEARTH_BUNDLED_MODELS": str(tmp_path), selftest.TRACED_ENV: "1"}
    )  # no traced second run: it fails alike
    assert done.returncode == 1
    checks = check_lines(done.stdout)
    assert checks[selftest.MODEL] == "FAIL"
    assert checks[selftest.ANSWER] == "FAIL"
    assert checks[selftest.STORE] == "FAIL"
    assert "15 bytes, the catalog says 98,362,432" in done.stdout
    assert "Result: FAIL (starter model, answer, encrypted store, private documents)" in done.stdout


def test_ledger_check_fails_on_a_network_attempt():
    mark = engine.policy.ledger().total
    assert selftest._ledger_check(mark).passed is True
    with pytest.raises(EgressBlocked):
        socket.socket(socket.AF_INET)  # refused by the policy before any traffic
    check = selftest._ledger_check(mark)
    assert check.passed is False
    assert "blocked" in check.detail


@needs_strace
def test_kernel_check_passes_a_child_with_no_network_call():
    check = selftest._kernel_check([sys.executable, "-c", "print('Result: PASS')"])
    assert check.passed is True, check.detail
    assert "no AF_INET/AF_INET6 call" in check.detail


@needs_strace
def test_kernel_check_fails_a_child_that_opens_an_internet_socket():
    # Creating a socket sends nothing; the kernel still sees socket(AF_INET, ...).
    code = "import socket; socket.socket(socket.AF_INET).close(); print('Result: PASS')"
    check = selftest._kernel_check([sys.executable, "-c", code])
    assert check.passed is False
    assert "socket(AF_INET)" in check.detail


@needs_strace
def test_kernel_check_fails_when_the_traced_run_fails():
    check = selftest._kernel_check([sys.executable, "-c", "print('Result: FAIL (answer)')"])
    assert check.passed is False
    assert "the traced run failed" in check.detail


def test_a_skipped_required_check_is_a_failure():
    ok = Check(selftest.POLICY, True, "")
    assert SelfTestResult((ok, Check(selftest.KERNEL, None, "no strace"))).passed
    assert not SelfTestResult((ok, Check(selftest.STORE, None, "skipped"))).passed
    assert not SelfTestResult((ok, Check(selftest.KERNEL, False, "x"))).passed
    report = selftest.format_report(SelfTestResult((ok, Check(selftest.LEDGER, False, "2"))))
    assert "FAIL  egress ledger" in report
    assert report.endswith("Result: FAIL (egress ledger)\n")
