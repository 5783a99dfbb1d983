"""Installed state, disk use, removal and verification of real files in the models folder."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.catalog.importer import import_model
from engine.catalog.manage import (
    Verdict,
    model_states,
    other_models,
    plan_removal,
    remove,
    to_verify,
    verify_file,
)
from engine.catalog.pins import pinned
from engine.errors import ModelNotRemovable
from engine.paths import ensure_private_dir, models_dir
from tests.engine.catalog._gguf_files import write_gguf


def test_states_show_the_bundled_starter_and_partial_downloads(
    catalog: Catalog, starter_model_path: Path
):
    ensure_private_dir(models_dir())
    flagship = catalog.flagship
    (models_dir() / f"{flagship.file}.part").write_bytes(bytes(5000))
    states = {s.model.id: s for s in model_states(catalog)}
    starter = states[catalog.default_id]
    assert starter.installed and starter.bundled and starter.path == starter_model_path
    assert starter.disk_bytes >= 98_000_000
    assert not states[flagship.id].installed and states[flagship.id].partial_bytes == 5000


def test_remove_deletes_the_file_partial_and_pin(catalog: Catalog, tmp_path: Path):
    source = write_gguf(tmp_path / "mine.gguf")
    import_model(source, catalog)
    (models_dir() / "mine.gguf.part").write_bytes(b"left over")
    assert other_models(catalog) == [models_dir() / "mine.gguf"]
    removal = plan_removal(catalog, "mine.gguf")
    assert {p.name for p in removal.files} == {"mine.gguf", "mine.gguf.part"}
    assert removal.disk_bytes >= source.stat().st_size
    assert remove(removal) == removal.disk_bytes
    assert not any(p.exists() for p in removal.files)
    assert pinned("mine.gguf") is None
    assert source.exists()  # the person's own file is never touched


def test_a_bundled_model_cannot_be_removed(catalog: Catalog, starter_model_path: Path):
    with pytest.raises(ModelNotRemovable, match="ships with Hearth"):
        plan_removal(catalog, catalog.default_id)
    assert starter_model_path.exists()


def test_removing_what_is_not_installed_is_a_clear_error(catalog: Catalog):
    with pytest.raises(ModelNotRemovable, match="QwQ-32B Q4_K_M is not installed"):
        plan_removal(catalog, "qwq-32b-q4_k_m")
    with pytest.raises(ModelNotRemovable, match="neither a catalog id"):
        plan_removal(catalog, "../../etc/passwd")


def test_verify_the_starter_against_the_catalog(catalog: Catalog, starter_model_path: Path):
    [(path, label, model)] = to_verify(catalog, catalog.default_id)
    result = verify_file(path, label, model)
    assert result.verdict is Verdict.OK and result.expected_from == "the catalog"
    assert result.describe() == "SmolLM2 135M Instruct Q4_1: OK (sha256 matches the catalog)"


def test_verify_finds_a_damaged_file_against_its_pin(catalog: Catalog, tmp_path: Path):
    import_model(write_gguf(tmp_path / "mine.gguf"), catalog, link=False)
    installed = models_dir() / "mine.gguf"
    assert verify_file(installed, "mine.gguf", None).verdict is Verdict.OK
    with installed.open("r+b") as fh:  # one flipped byte in the tensor data
        fh.seek(-10, os.SEEK_END)
        byte = fh.read(1)
        fh.seek(-10, os.SEEK_END)
        fh.write(bytes([byte[0] ^ 0xFF]))
    result = verify_file(installed, "mine.gguf", None)
    assert result.verdict is Verdict.MISMATCH and result.expected_from == "the pinned checksum"
    assert "DAMAGED" in result.describe()


def test_verify_without_any_checksum_says_so(catalog: Catalog, tmp_path: Path):
    ensure_private_dir(models_dir())
    path = write_gguf(models_dir() / "tiny.gguf")
    entry = dataclasses.replace(catalog.default, id="tiny", file="tiny.gguf", sha256="")
    result = verify_file(path, "Tiny", entry)
    assert result.verdict is Verdict.NO_REFERENCE and "no checksum" in result.describe()
