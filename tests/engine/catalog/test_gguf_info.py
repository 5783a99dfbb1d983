"""The quantization read from a GGUF's general.file_type, named after gguf's LlamaFileType."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.catalog.gguf_info import read_gguf
from tests.engine.catalog._gguf_files import write_gguf


@pytest.mark.parametrize(
    ("file_type", "quantization"),
    [(0, "F32"), (1, "F16"), (15, "Q4_K_M"), (30, "IQ4_XS"), (32, "BF16"), (19, "IQ2_XXS")],
)
def test_the_file_type_is_named_as_llama_cpp_names_it(
    tmp_path: Path, file_type: int, quantization: str
):
    info = read_gguf(write_gguf(tmp_path / "m.gguf", file_type=file_type))
    assert info.quantization == quantization


@pytest.mark.parametrize(("file_type", "shown"), [(999, "type 999"), (1024, "type 1024")])
def test_a_file_type_gguf_does_not_name_is_shown_by_number(
    tmp_path: Path, file_type: int, shown: str
):
    assert read_gguf(write_gguf(tmp_path / "m.gguf", file_type=file_type)).quantization == shown
