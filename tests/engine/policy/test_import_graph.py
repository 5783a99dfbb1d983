"""Hearth never loads network modules: not QtNetwork, not QtWebEngine, not huggingface_hub, and
never llama.cpp's download code (``Llama.from_pretrained``) or its disk cache.

Two views: our own source, statically (every import, however spelled), and the real import
graph, dynamically (a child process imports every module of engine and desktop, then lists
what got loaded, third-party dependencies included).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from engine.paths import PROJECT_ROOT

PACKAGES = ("engine", "desktop")
BANNED = ("huggingface_hub", "PySide6.QtNetwork", "PySide6.QtWebEngine")
BANNED_NAMES = ("from_pretrained", "LlamaDiskCache")


def _banned(module: str) -> bool:
    # "PySide6.QtWebEngine" also covers QtWebEngineCore, QtWebEngineWidgets, …
    return any(
        module == b
        or module.startswith(b + ".")
        or (b.endswith("QtWebEngine") and module.startswith(b))
        for b in BANNED
    )


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (PROJECT_ROOT / pkg).rglob("*.py"))


def _imported_by(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    if (
        isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
        )
    ):
        return [node.args[0].value]
    return []


def _violations(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """One line per offending statement or name: ``file:line: what``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        bad = [m for m in _imported_by(node) if _banned(m)]
        if bad:
            found.append(f"{where}: imports {bad[0]}")
        name = (
            node.attr
            if isinstance(node, ast.Attribute)
            else node.id
            if isinstance(node, ast.Name)
            else node.name
            if isinstance(node, ast.alias)
            else None
        )
        if name in BANNED_NAMES:
            found.append(f"{where}: uses {name}")
    return found


def test_the_checker_catches_every_spelling(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import huggingface_hub.file_download\n"
        "from PySide6 import QtNetwork\n"
        "from PySide6.QtWebEngineWidgets import QWebEngineView\n"
        "import importlib\nimportlib.import_module('huggingface_hub')\n"
        "from llama_cpp import Llama, LlamaDiskCache\n"
        "Llama.from_pretrained('repo', 'file')\n"
        "import PySide6.QtWidgets\n"
    )
    problems = _violations(bad, tmp_path)
    assert sorted(p.split(": ", 1)[0] for p in problems) == [
        "bad.py:1",
        "bad.py:2",
        "bad.py:3",
        "bad.py:5",
        "bad.py:6",
        "bad.py:7",
    ], problems


def test_no_network_module_in_our_source():
    sources = _sources()
    assert any(p.parent.name == "engine" for p in sources)
    problems = [v for p in sources for v in _violations(p)]
    assert problems == []


def test_no_network_module_in_the_real_import_graph():
    script = """
import importlib, json, pkgutil, sys
failed = {}
for pkg in ("engine", "desktop"):
    try:
        root = importlib.import_module(pkg)
    except ImportError as exc:
        failed[pkg] = repr(exc)
        continue
    for info in pkgutil.walk_packages(root.__path__, pkg + "."):
        if info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed[info.name] = repr(exc)
import llama_cpp  # loaded lazily by engine.inference: part of the graph all the same
print(json.dumps({"modules": sorted(sys.modules), "failed": failed}))
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    assert "engine.policy" in report["modules"]
    assert [m for m in report["modules"] if _banned(m)] == []
