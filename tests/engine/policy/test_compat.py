"""With the policy installed, what Hearth needs still works: Qt on the offscreen platform, the
keychain over D-Bus (AF_UNIX). Run in a child process: engine tests never import Qt."""

from __future__ import annotations

import os
import subprocess
import sys

from engine.paths import PROJECT_ROOT

CHILD = """
import engine.policy
engine.policy.install()
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("offline")
label.show()
app.processEvents()
assert label.isVisible()
try:
    from PySide6 import QtNetwork
except engine.policy.EgressBlocked:
    print("qtnetwork blocked")
if os.environ.get("HEARTH_TEST_KEYRING"):
    import keyring
    keyring.set_password("hearth-policy-test", "child", "v")
    assert keyring.get_password("hearth-policy-test", "child") == "v"
    keyring.delete_password("hearth-policy-test", "child")
    print("keyring ok")
print("ledger:", sorted({(e.action.value, e.allowed) for e in engine.policy.ledger()}))
"""


def test_qt_offscreen_and_the_keychain_work_under_the_policy():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", "import os\n" + CHILD],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "qtnetwork blocked" in lines
    if os.environ.get("HEARTH_TEST_KEYRING"):
        assert "keyring ok" in lines
    # Nothing network-related was even attempted. (keyring's backend discovery imports its
    # macOS backend, whose ctypes.util.find_library runs ldconfig/gcc/ld on Linux: refused, and
    # find_library copes, as it does where they are missing.)
    assert lines[-1] in (
        "ledger: [('import', False)]",
        "ledger: [('import', False), ('process', False)]",
    )
