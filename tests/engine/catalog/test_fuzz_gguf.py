"""Fuzzing the GGUF reader with damaged copies of a real small GGUF file and with random
bytes: it answers with the file's facts or a ModelError in plain words, never another
exception, and never holds much more memory than the file is long."""

from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path

import numpy as np
from gguf import GGUFWriter
from hypothesis import strategies as st

from engine.catalog.gguf_info import read_gguf
from engine.errors import ModelError
from tests._fuzz import run_fuzz
from tests.engine.catalog._gguf_files import SIMPLE_TEMPLATE

# Python's own bookkeeping for one small file is well under this; a reader that believed a
# count it read (an array of 2^40 items) would go far past it, or fail to allocate.
PEAK_BYTES = 8 << 20
# A number written over a length or count: the edges a hostile file would use.
_EDGES = [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 255, 4096, 4097, (1 << 31) - 1, 1 << 31, 1 << 32]
_EDGES += [(1 << 32) - 1, 1 << 40, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]


def _seed(path: Path) -> bytes:
    """A real GGUF written by GGUFWriter, llama-shaped as _gguf_files.write_gguf writes them,
    with each kind of value the reader walks: text, numbers, a per-layer array, an array of
    text, a long array it steps over, a float, a bool, and two tensors."""
    writer = GGUFWriter(path, "llama")
    writer.add_name("Tiny Test")
    writer.add_block_count(2)
    writer.add_context_length(4096)
    writer.add_embedding_length(64)
    writer.add_head_count(4)
    writer.add_array("llama.attention.head_count_kv", [2, 2])
    writer.add_file_type(1)
    writer.add_chat_template(SIMPLE_TEMPLATE)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "a", "b"])
    writer.add_array("tokenizer.ggml.scores", [0.5] * 5000)
    writer.add_float32("llama.rope.freq_base", 10000.0)
    writer.add_bool("general.fuzz", True)
    writer.add_tensor("token_embd.weight", np.arange(128, dtype=np.float32).reshape(2, 64))
    writer.add_tensor("output_norm.weight", np.ones(64, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


# Edits to the seed file, drawn as small tuples so that a failing case prints as a few
# edits rather than 20 KB of bytes: (what, where, how much or what with).
Edit = tuple[str, int, int | bytes]
_where = st.integers(0, 24_000) | st.integers(0, 256)  # most in the header and metadata
edits = st.lists(
    st.tuples(st.just("flip"), _where, st.integers(1, 255))
    | st.tuples(st.just("number4"), _where, st.sampled_from(_EDGES))
    | st.tuples(st.just("number8"), _where, st.sampled_from(_EDGES))
    | st.tuples(st.just("cut"), _where, st.integers(1, 16))
    | st.tuples(st.just("insert"), _where, st.binary(min_size=1, max_size=16))
    | st.tuples(st.just("truncate"), _where, st.just(0)),
    min_size=1,
    max_size=4,
)


def damaged(seed: bytes, changes: list[Edit]) -> bytes:
    """The seed file after the edits: bytes flipped, a little-endian number overwritten with
    an edge value, bytes cut out or put in, or the file cut short."""
    data = bytearray(seed)
    for kind, where, arg in changes:
        at = min(where, len(data))
        if isinstance(arg, bytes):  # insert
            data[at:at] = arg
        elif kind == "flip" and at < len(data):
            data[at] ^= arg
        elif kind.startswith("number"):
            width = int(kind.removeprefix("number"))
            data[at : at + width] = (arg % (1 << (8 * width))).to_bytes(width, "little")
        elif kind == "cut":
            del data[at : at + arg]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


# Random bytes: some with a valid GGUF start (magic, version 3), to get past the header check.
random_files = st.binary(max_size=512) | st.builds(
    lambda tail: b"GGUF\x03\x00\x00\x00" + tail, st.binary(max_size=512)
)


def _check(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    tracemalloc.start()
    try:
        read_gguf(path)
    except ModelError as exc:
        message = exc.full_message
        assert "is not a usable GGUF model" in message or "cannot be read" in message, message
        assert "Error" not in message and "Traceback" not in message, message
        # Plain words: a name read from the file could hold terminal escapes or be 64 KB.
        assert message.isprintable(), message
        assert len(message) < 400, f"a message of {len(message):,} characters"
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{peak:,} bytes held reading a {len(data):,}-byte file"


def test_damaged_or_random_files_are_read_or_refused_in_words(tmp_path: Path):
    seed = _seed(tmp_path / "seed.gguf")
    assert read_gguf(tmp_path / "seed.gguf").kv_heads == 2  # the seed itself reads
    # Each example gets its own file name: read_gguf caches by path, size and mtime, and two
    # examples of one size written within a clock tick would otherwise share an answer.
    numbers = itertools.count()

    def one(case: list[Edit] | bytes) -> None:
        path = tmp_path / f"{next(numbers)}.gguf"
        try:
            _check(path, case if isinstance(case, bytes) else damaged(seed, case))
        finally:
            path.unlink()

    # About three in four examples edit the real file; the others are random bytes.
    run_fuzz(one, edits | edits | edits | random_files)
