"""Truncated, garbage and missing model files give a clear ModelError, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.catalog import Catalog
from engine.catalog.gguf_info import read_gguf
from engine.errors import ModelError
from engine.inference import open_model
from engine.inference.loader import shape_for
from tests.engine.catalog._gguf_files import write_gguf


def _copy_head(src: Path, dest: Path, n: int) -> Path:
    with src.open("rb") as fh:
        dest.write_bytes(fh.read(n))
    return dest


def test_real_file_metadata_is_read_with_the_gguf_package(starter_model_path: Path):
    info = read_gguf(starter_model_path)
    assert (info.architecture, info.layers, info.kv_heads, info.head_dim) == ("llama", 30, 3, 64)
    assert info.context_length == 8192
    assert info.quantization == "Q4_1"
    assert 130_000_000 < info.parameters < 140_000_000
    assert "im_start" in info.chat_template


@pytest.mark.parametrize("keep", [4, 20, 4096, 50_000_000])
def test_truncated_file_unknown_to_the_catalog(starter_model_path: Path, tmp_path: Path, keep: int):
    bad = _copy_head(starter_model_path, tmp_path / "cut.gguf", keep)
    with pytest.raises(ModelError) as info:
        open_model(bad)
    assert "cut.gguf" in info.value.user_message
    assert "not a usable GGUF model" in info.value.user_message


def test_truncated_catalog_model_is_caught_by_its_size(
    starter_model_path: Path, tmp_path: Path, catalog: Catalog
):
    bad = _copy_head(starter_model_path, tmp_path / catalog.default.file, 60_000_000)
    with pytest.raises(ModelError) as info:
        open_model(bad, entry=catalog.default)
    assert "truncated" in info.value.user_message


def test_garbage_file(tmp_path: Path):
    bad = tmp_path / "garbage.gguf"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100)
    with pytest.raises(ModelError) as info:
        open_model(bad)
    assert "GGUF signature" in info.value.user_message


def test_gguf_header_followed_by_garbage(tmp_path: Path):
    bad = tmp_path / "header-only.gguf"
    bad.write_bytes(
        b"GGUF"
        + (3).to_bytes(4, "little")
        + (5).to_bytes(8, "little")
        + (2).to_bytes(8, "little")
        + b"\xff" * 64
    )
    with pytest.raises(ModelError):
        open_model(bad)


def test_empty_and_missing_files(tmp_path: Path):
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match="only 0 bytes"):
        open_model(empty)
    with pytest.raises(ModelError, match="missing"):
        open_model(tmp_path / "nowhere.gguf")


def test_hostile_chat_template_is_stopped(starter_model_path: Path, catalog: Catalog):
    from engine.inference import ChatMessage

    escape = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with (
        open_model(starter_model_path, entry=catalog.default, n_ctx=512, chat_template=escape) as s,
        pytest.raises(ModelError, match="Python internals"),
    ):
        s.chat([ChatMessage("user", "hi")])


def test_oversized_chat_template_is_refused(starter_model_path: Path, catalog: Catalog):
    with pytest.raises(ModelError, match="chat template"):
        open_model(
            starter_model_path, entry=catalog.default, n_ctx=512, chat_template="x" * 200_000
        )


@pytest.mark.parametrize(
    ("value", "signed"), [(-1, True), (0xFFFFFFFF, False)], ids=["minus-one", "uint32-max"]
)
def test_an_impossible_context_length_is_refused_before_planning(
    tmp_path: Path, value: int, signed: bool
):
    path = write_gguf(tmp_path / "odd.gguf", context_length=value, signed_context_length=signed)
    with pytest.raises(ModelError, match=f"{value:,} tokens, which no model has"):
        shape_for(path, None)


def test_a_context_of_no_tokens_is_refused_by_the_planner(catalog: Catalog):
    from engine.catalog.hardware import detect
    from engine.catalog.plan import ModelShape, plan_offload

    shape = ModelShape.from_catalog(catalog.default)
    for n_ctx in (-5, -1):
        with pytest.raises(ModelError, match="is not possible"):
            plan_offload(shape, detect(), n_ctx=n_ctx)  # used to halve forever
