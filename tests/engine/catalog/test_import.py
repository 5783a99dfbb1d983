"""Importing GGUF files: real files (the starter model, small ones written with GGUFWriter),
damaged and foreign files, and chat templates that try to leave the sandbox."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from pathlib import Path

import pytest

from engine.catalog import Catalog, CatalogModel
from engine.catalog.importer import import_model
from engine.catalog.pins import pinned
from engine.errors import ImportRejected
from engine.paths import models_dir
from tests.engine.catalog._gguf_files import write_gguf


def installed_files() -> list[str]:
    return sorted(p.name for p in models_dir().iterdir()) if models_dir().exists() else []


def one_model_catalog(model: CatalogModel) -> Catalog:
    return Catalog(models=(model,), default_id=model.id, flagship_id=model.id, path="test")


def tiny_entry(
    catalog: Catalog,
    *,
    sha256: str = "",
    file: str = "tiny.gguf",
    quantization: str = "F16",
    layers: int = 2,
) -> CatalogModel:
    return dataclasses.replace(
        catalog.default,
        id="tiny",
        name="Tiny",
        file=file,
        sha256=sha256,
        quantization=quantization,
        layers=layers,
        size=0,
        urls=(),
    )


def test_the_real_starter_model_is_matched_to_the_catalog_by_checksum(
    catalog: Catalog, starter_model_path: Path, tmp_path: Path
):
    # Under another name: the checksum, not the name, says which model it is.
    source = tmp_path / "downloaded-elsewhere.gguf"
    os.link(starter_model_path, source)
    result = import_model(source, catalog)
    assert result.model is not None and result.model.id == catalog.default_id
    assert result.path == models_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert result.sha256 == catalog.default.sha256
    assert result.linked and result.path.stat().st_ino == starter_model_path.stat().st_ino
    assert (result.info.architecture, result.info.quantization) == ("llama", "Q4_1")
    assert result.info.context_length == 8192 and 100e6 < result.info.parameters < 200e6
    assert result.warnings == ()
    assert installed_files() == ["SmolLM2-135M-Instruct.Q4_1.gguf"]


def test_an_unknown_model_is_imported_with_a_warning_and_pinned(catalog: Catalog, tmp_path: Path):
    source = write_gguf(tmp_path / "my-finetune.gguf")
    result = import_model(source, catalog, link=False)
    assert result.model is None and not result.linked
    assert result.path.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert any("is not in the catalog" in w for w in result.warnings)
    pin = pinned("my-finetune.gguf")
    assert pin is not None and pin.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    again = import_model(source, catalog)
    assert again.already_installed and again.path == result.path


def test_a_truncated_file_is_rejected_and_nothing_is_copied(catalog: Catalog, tmp_path: Path):
    source = write_gguf(tmp_path / "cut.gguf")
    with source.open("r+b") as fh:
        fh.truncate(source.stat().st_size // 2)
    with pytest.raises(ImportRejected, match="truncated") as info:
        import_model(source, catalog)
    assert "Pick another .gguf file" in info.value.next_step
    assert installed_files() == []


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("notes.gguf", b"These are my notes, not a model.\n" * 10, "GGUF signature"),
        ("model.bin", b"GGUF" + bytes(100), "not a .gguf file"),
        ("empty.gguf", b"", "only 0 bytes long"),
    ],
)
def test_a_file_that_is_not_gguf_is_rejected(catalog: Catalog, tmp_path: Path, name, content, why):
    source = tmp_path / name
    source.write_bytes(content)
    with pytest.raises(ImportRejected, match=why):
        import_model(source, catalog)
    assert installed_files() == []


@pytest.mark.parametrize(
    "template",
    [
        "{{ messages.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ (messages|attr('__class__')) }}",
        "{% set x = messages['__class__'] %}{{ x }}",
        "{% if False %}{{ raise_exception.__globals__ }}{% endif %}ok",  # even on an untaken path
        "{% set n = '__cla' ~ 'ss__' %}{{ messages[0]|attr(n) }}",  # attr() is refused by name
    ],
)
def test_a_template_reaching_for_python_internals_is_rejected(
    catalog: Catalog, tmp_path: Path, template
):
    source = write_gguf(tmp_path / "evil.gguf", chat_template=template)
    with pytest.raises(ImportRejected, match="Python internals"):
        import_model(source, catalog)
    assert installed_files() == []


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{% for m in messages %}{{ m.content }", "does not compile"),
        (
            "{{ raise_exception('Only user and assistant roles are supported') }}",
            "failed to render",
        ),
        ("{# padding #}" + "x" * 70_000, "too large"),
        (
            "{% for i in range(99999) %}{{ 'long line ' * 10 }}{% endfor %}",
            "its prompt grew past",
        ),  # stopped while rendering
    ],
)
def test_a_template_that_fails_or_is_too_large_is_rejected(
    catalog: Catalog, tmp_path: Path, template, why
):
    source = write_gguf(tmp_path / "bad-template.gguf", chat_template=template)
    with pytest.raises(ImportRejected, match=why):
        import_model(source, catalog)
    assert installed_files() == []


def test_a_file_without_a_template_is_imported_with_a_warning(catalog: Catalog, tmp_path: Path):
    result = import_model(write_gguf(tmp_path / "bare.gguf", chat_template=None), catalog)
    assert any("ChatML" in w for w in result.warnings)


def test_a_catalog_name_without_a_catalog_checksum_is_matched_by_shape_and_pinned(
    catalog: Catalog, tmp_path: Path
):
    source = write_gguf(tmp_path / "tiny.gguf")
    result = import_model(source, one_model_catalog(tiny_entry(catalog)))
    assert result.model is not None and result.model.id == "tiny"
    assert any("matched by its name and shape, not verified" in w for w in result.warnings)
    pin = pinned("tiny.gguf")
    assert pin is not None and pin.sha256 == result.sha256


def test_a_catalog_name_with_another_checksum_is_rejected(catalog: Catalog, tmp_path: Path):
    source = write_gguf(tmp_path / "tiny.gguf")
    other = hashlib.sha256(b"the real tiny model").hexdigest()
    with pytest.raises(ImportRejected, match="has the name of Tiny F16 but not its checksum"):
        import_model(source, one_model_catalog(tiny_entry(catalog, sha256=other)))
    assert installed_files() == []


def test_a_catalog_name_with_another_shape_is_rejected(catalog: Catalog, tmp_path: Path):
    source = write_gguf(tmp_path / "tiny.gguf")
    with pytest.raises(ImportRejected, match="is F16 with 2 layers"):
        import_model(source, one_model_catalog(tiny_entry(catalog, quantization="Q4_K_M")))


def test_a_different_file_with_an_installed_name_is_refused(catalog: Catalog, tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_gguf(tmp_path / "a" / "same.gguf")
    import_model(first, catalog)
    second = write_gguf(tmp_path / "b" / "same.gguf", name="Another")
    with pytest.raises(ImportRejected, match=r"A different file named “same\.gguf”"):
        import_model(second, catalog)
    assert (models_dir() / "same.gguf").read_bytes() == first.read_bytes()
    assert installed_files() == ["same.gguf"]
