"""The whole Linux bundle pipeline (scripts/bundle.sh): two builds compared, signed with a
throwaway key, verified, one flipped byte refused, the bundled app's --self-test.

Runs only with HEARTH_BUNDLE_TEST=1, which .ci/run sets: about 3.5 minutes on a busy 2-core
machine, and it installs the [bundle] extra (PyInstaller) from PyPI. Run it here with
HEARTH_BUNDLE_TEST=1 scripts/test.sh tests/packaging.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT
from tests.packaging._programs import run_program

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("HEARTH_BUNDLE_TEST") != "1",
        reason="set HEARTH_BUNDLE_TEST=1 to build the bundle (minutes)",
    ),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux bundle"),
]


def test_bundle_script_builds_signs_verifies_and_self_tests(
    tmp_path: Path, starter_model_path: Path
):
    out = tmp_path / "bundle"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_LINUX_")}
    done = run_program(
        PROJECT_ROOT / "scripts" / "bundle.sh",
        cwd=PROJECT_ROOT,
        timeout=1200,
        env={**env, "HEARTH_BUNDLE_OUT": str(out)},
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "reproducible: bit-identical" in log
    assert "rejected, as it must be: a bundle with one byte changed in libllama.so" in log
    assert "rejected, as it must be: a tarball with one byte changed" in log
    assert "Hearth 0.1.0 self-test (bundled app)" in log
    assert "Result: PASS" in log
    release = out / "release"
    assert (release / "SHA256SUMS.sig").is_file()
    assert not (out / "keys" / "throwaway.pem").exists()  # the secret half is gone
    public = out / "keys" / "throwaway.pub"
    verify = PROJECT_ROOT / "packaging" / "linux" / "verify.sh"
    again = run_program(verify, "--key", public, out / "unpacked" / "Hearth", timeout=120)
    assert again.returncode == 0, again.stderr
