"""The quantization read from a GGUF's general.file_type, named after gguf's LlamaFileType."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf import GGUFValueType

from engine.catalog.gguf_info import read_gguf
from engine.errors import ModelError
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


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            lambda w: w.add_string("llama.attention.key_length", "sixty-four"),
            "llama.attention.key_length is not a whole number",
        ),
        (
            lambda w: w.add_key_value(
                "tokenizer.chat_template", b"\xff\xfe{{x}}", GGUFValueType.STRING
            ),
            "tokenizer.chat_template is not UTF-8 text",
        ),
        (
            lambda w: w.add_array("llama.attention.head_count_kv", ["a", "b"]),
            "head_count_kv is not whole numbers",
        ),
    ],
    ids=["number-as-text", "name-not-utf8", "counts-as-text"],
)
def test_metadata_of_the_wrong_type_or_encoding_is_named(tmp_path: Path, extra, says: str):
    path = write_gguf(tmp_path / "odd.gguf", chat_template=None, extra=extra)
    with pytest.raises(ModelError, match=says) as info:
        read_gguf(path)
    assert "Error" not in info.value.full_message
