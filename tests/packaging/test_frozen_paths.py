"""In a PyInstaller bundle, models.toml and the starter model are found in the bundle's data
folder (sys._MEIPASS), not next to where the frozen module claims to be."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine import paths


def test_a_frozen_app_finds_its_data_in_the_bundle_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths._project_root() == tmp_path


def test_from_a_checkout_the_root_is_the_folder_holding_engine(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    root = paths._project_root()
    assert (root / "engine" / "paths.py").is_file()
    assert (root / "models.toml").is_file()


def test_bundled_models_follow_the_root_unless_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    monkeypatch.delenv("HEARTH_BUNDLED_MODELS", raising=False)
    monkeypatch.delenv("HEARTH_CATALOG", raising=False)
    assert paths.bundled_models_dir() == tmp_path / "assets" / "models"
    assert paths.catalog_path() == tmp_path / "models.toml"
    monkeypatch.setenv("HEARTH_BUNDLED_MODELS", str(tmp_path / "elsewhere"))
    assert paths.bundled_models_dir() == tmp_path / "elsewhere"
