"""Dependencies inside the engine point one way: no import cycle between its modules, and none
between the parts of any package (``engine.catalog`` ↔ ``engine.inference``, ``fit`` ↔ ``plan``).

Read from the source with ``ast``, so every import counts wherever it is written: at the top
of a module, inside a function, or under ``if TYPE_CHECKING:``. An import moved into a
function to dodge a cycle is still the same dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

from engine.paths import PROJECT_ROOT


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (a folder under ``root``) -> the modules of ``package`` it
    imports. ``from a import b`` names the module ``a.b`` when there is one, else ``a``."""
    files = {_module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        wanted: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                wanted += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                wanted += [f"{base}.{a.name}" for a in node.names]
        targets = set()
        for dotted in wanted:
            target = dotted
            while target and target not in files:  # a.b.Name -> the module a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def _part(module: str, package: str) -> str:
    """The child of ``package`` that holds ``module`` (``module`` is inside ``package``)."""
    return f"{package}.{module[len(package) + 1 :].split('.', maxsplit=1)[0]}"


def package_graphs(graph: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    """For each package, the imports between its children (subpackages and modules), from
    every module below it; the package's own ``__init__`` (its facade) is left out."""
    packages = {m for m in graph if any(o.startswith(m + ".") for o in graph)}
    result: dict[str, dict[str, set[str]]] = {}
    for pkg in sorted(packages):
        inside = [m for m in graph if m.startswith(pkg + ".")]
        edges: dict[str, set[str]] = {_part(m, pkg): set() for m in inside}
        for module in inside:
            for target in graph[module]:
                if target.startswith(pkg + ".") and _part(target, pkg) != _part(module, pkg):
                    edges[_part(module, pkg)].add(_part(target, pkg))
        result[pkg] = edges
    return result


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (first node repeated at the end) for each group of nodes that import each
    other, directly or round about (a strongly connected component, Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_a_cycle(graph, group) for group in groups]


def _a_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A path round ``group`` back to where it started (every node in it is on some cycle)."""
    start = min(group)
    paths = {start: [start]}
    todo = [start]
    while todo:  # breadth first: the shortest way back to ``start``
        node = todo.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                todo.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - Tarjan said so


def problems(root: Path, package: str) -> list[str]:
    graph = import_graph(root, package)
    found = [" -> ".join(c) for c in cycles(graph)]
    for pkg, edges in package_graphs(graph).items():
        found += [f"inside {pkg}: " + " -> ".join(c) for c in cycles(edges)]
    return found


def test_the_checker_finds_cycles_however_the_imports_are_written(tmp_path: Path):
    def write(name: str, text: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    write("pkg/__init__.py", "")
    write("pkg/low.py", "import os\n")
    write("pkg/a/__init__.py", "from pkg.a.fit import Fit\n")
    write("pkg/a/plan.py", "from pkg.low import x\ndef f():\n    from .fit import speed\n")
    write("pkg/a/fit.py", "from pkg.a.plan import Plan\n")
    write("pkg/a/importer.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
          "    from pkg.b.types import Role\n")  # fmt: skip
    write("pkg/b/__init__.py", "")
    write("pkg/b/types.py", "")
    write("pkg/b/loader.py", "from ..a import plan\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a.plan"] == {"pkg.low", "pkg.a.fit"}
    assert graph["pkg.b.loader"] == {"pkg.a.plan"}
    assert problems(tmp_path, "pkg") == [
        "pkg.a.fit -> pkg.a.plan -> pkg.a.fit",
        "inside pkg: pkg.a -> pkg.b -> pkg.a",
        "inside pkg.a: pkg.a.fit -> pkg.a.plan -> pkg.a.fit",
    ]


def test_engine_has_no_import_cycle():
    graph = import_graph(PROJECT_ROOT, "engine")
    assert {"engine.catalog.plan", "engine.inference.loader", "engine.cli"} <= graph.keys()
    assert "engine.catalog.plan" in graph["engine.inference.loader"]
    assert problems(PROJECT_ROOT, "engine") == []
