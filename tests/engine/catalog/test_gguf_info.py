"""Reading a GGUF: the quantization named after gguf's LlamaFileType, the fields read as the gguf
package reads them, and every length and count bounded before anything is built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFValueType, GGUFWriter

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


def test_the_starter_model_reads_as_the_gguf_package_reads_it(starter_model_path: Path):
    from gguf import GGUFReader

    info = read_gguf(starter_model_path)
    reference = GGUFReader(starter_model_path, "r")

    def ref(key: str):
        return reference.fields[key].contents()

    arch = ref("general.architecture")
    assert info.architecture == arch == "llama"
    assert info.layers == ref(f"{arch}.block_count")
    assert info.context_length == ref(f"{arch}.context_length")
    assert info.chat_template == ref("tokenizer.chat_template")
    assert info.name == ref("general.name")
    assert info.parameters == sum(int(t.n_elements) for t in reference.tensors)
    assert info.kv_heads == ref(f"{arch}.attention.head_count_kv")


def _with_array(tmp_path: Path, items: list[int]) -> Path:
    return write_gguf(tmp_path / "array.gguf", extra=lambda w: w.add_array("junk.values", items))


def test_a_huge_array_of_numbers_is_stepped_over_not_built(tmp_path: Path):
    import tracemalloc

    path = _with_array(tmp_path, list(range(3_400_000)))  # 3.4 million numbers, 14 MB
    assert path.stat().st_size > 13_000_000
    tracemalloc.start()
    try:
        info = read_gguf(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.layers == 2
    # GGUFReader built objects for each number here: 2.4 GB and 33 s (measured).
    assert peak < 5_000_000


def _patched(path: Path, find: bytes, skip: int, value: bytes) -> Path:
    data = bytearray(path.read_bytes())
    at = data.index(find) + len(find) + skip
    data[at : at + len(value)] = value
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("patch", "says"),
    [
        # junk.values: value type (4 bytes), item type (4), then the count (8).
        ((b"junk.values", 8, (1 << 40).to_bytes(8, "little")), "claims 1,099,511,627,776 items"),
        ((b"junk.values", 8, (1_000_000).to_bytes(8, "little")), "runs past the end of the file"),
        ((b"GGUF", 12, (1 << 33).to_bytes(8, "little")), "claims 8,589,934,592 metadata entries"),
        ((b"GGUF", 4, (1 << 30).to_bytes(8, "little")), "claims 1,073,741,824 tensors"),
    ],
    ids=["vast-array", "array-past-the-end", "vast-metadata-count", "vast-tensor-count"],
)
def test_impossible_counts_are_refused_before_anything_is_allocated(tmp_path: Path, patch, says):
    path = _patched(_with_array(tmp_path, [1, 2, 3]), *patch)
    with pytest.raises(ModelError, match=says) as info:
        read_gguf(path)
    assert "is not a usable GGUF model" in info.value.user_message


def test_names_from_the_file_are_shown_without_control_characters_and_cut_short(
    tmp_path: Path,
):
    # Found by test_fuzz_gguf.py: a damaged key went into the message as it was, so a hostile
    # file could put terminal escapes, or a 64 KB key, in front of the person.
    key = "llama.\x1b[2J" + "k" * 200
    path = write_gguf(tmp_path / "m.gguf", extra=lambda w: w.add_uint32(key, 1))
    path = _patched(path, key.encode(), 0, (99).to_bytes(4, "little"))  # an unknown type
    with pytest.raises(ModelError, match=r"llama\.\?\[2Jk+… has an unknown value type") as info:
        read_gguf(path)
    message = info.value.full_message
    assert message.isprintable() and len(message) < 300


def test_an_architecture_name_with_control_characters_is_shown_without_them(tmp_path: Path):
    path = tmp_path / "arch.gguf"
    writer = GGUFWriter(path, "ll\x1b]0;pwned\x07ama")
    writer.add_tensor("t", np.zeros(64, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelError, match=r"ll\?\]0;pwned\?ama\.block_count") as info:
        read_gguf(path)
    assert info.value.full_message.isprintable()
