"""The layout is the architecture: engine never imports Qt or desktop, and works without Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from engine.paths import PROJECT_ROOT

ENGINE = PROJECT_ROOT / "engine"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_source_never_imports_qt_or_desktop():
    offenders = {
        str(p.relative_to(PROJECT_ROOT)): sorted(
            n for n in _imports(p) if n.split(".")[0] in {"PySide6", "shiboken6", "desktop"}
        )
        for p in ENGINE.rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


BLOCK_QT = """
import importlib.abc, pkgutil, sys
class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'PySide6', 'shiboken6', 'desktop'}:
            raise ImportError('Qt is not available in this test')
sys.meta_path.insert(0, NoQt())
import engine
for mod in pkgutil.walk_packages(engine.__path__, 'engine.'):
    __import__(mod.name)
print('imported', len([m for m in sys.modules if m.startswith('engine')]))
"""


def test_every_engine_module_imports_with_qt_unavailable():
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_QT],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10


def test_cli_command_does_not_load_qt():
    code = (
        "import sys; from desktop.launch import main; main(['models']);"
        "sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
