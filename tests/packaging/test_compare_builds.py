"""packaging/compare_builds.py: the reproducibility check run before signing."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT

# packaging/ is not a package (the name belongs to the PyPI library): load the script by path.
_spec = importlib.util.spec_from_file_location(
    "compare_builds", PROJECT_ROOT / "packaging" / "compare_builds.py"
)
assert _spec is not None and _spec.loader is not None
compare_builds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_builds)
main = compare_builds.main


@pytest.fixture
def two_builds(tmp_path: Path) -> tuple[Path, Path]:
    for name in ("a", "b"):
        root = tmp_path / name / "Hearth"
        (root / "_internal").mkdir(parents=True)
        (root / "hearth").write_bytes(b"exe")
        (root / "_internal" / "base_library.zip").write_bytes(b"zip")
        os.symlink("base_library.zip", root / "_internal" / "link")
    return tmp_path / "a" / "Hearth", tmp_path / "b" / "Hearth"


def test_identical_builds_pass(two_builds: tuple[Path, Path], capsys: pytest.CaptureFixture[str]):
    assert main([str(p) for p in two_builds]) == 0
    assert "bit-identical" in capsys.readouterr().out


def test_a_differing_file_is_named_and_fails(
    two_builds: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
):
    a, b = two_builds
    (b / "_internal" / "base_library.zip").write_bytes(b"zap")
    (b / "_internal" / "extra.so").write_bytes(b"")
    assert main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "differs:   _internal/base_library.zip" in out
    assert "only in B: _internal/extra.so" in out
    assert "NOT reproducible: 2 difference(s)" in out


def test_an_allowed_difference_is_still_reported(
    two_builds: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
):
    a, b = two_builds
    (b / "hearth").write_bytes(b"exe2")
    assert main([str(a), str(b), "--allow", "hearth"]) == 0
    out = capsys.readouterr().out
    assert "differs:   hearth  (known, allowed)" in out


def test_a_changed_symlink_or_mode_differs(two_builds: tuple[Path, Path]):
    a, b = two_builds
    (b / "_internal" / "link").unlink()
    os.symlink("elsewhere", b / "_internal" / "link")
    (b / "hearth").chmod(0o755)
    (a / "hearth").chmod(0o644)
    assert main([str(a), str(b)]) == 1
