"""Reading and checking GGUF files before llama.cpp sees them.

Two depths: ``check_header`` (magic, version, size; instant) runs before every load;
``read_gguf`` (every key and tensor, with every length and count bounded: gguf_parse.py)
runs for files the catalog does not know.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.catalog.gguf_parse import BigArray, GGUFLimitError, ParsedGGUF, parse_gguf, shown_name
from engine.errors import ModelError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata count


@dataclass(frozen=True)
class GGUFInfo:
    path: str
    size: int
    architecture: str
    name: str
    quantization: str
    parameters: int
    layers: int
    kv_heads: int
    head_dim: int
    context_length: int
    chat_template: str


def _damaged(path: Path, why: str) -> ModelError:
    return ModelError(f"“{path.name}” is not a usable GGUF model: {why}.")


def check_header(path: Path, expected_size: int = 0) -> None:
    """Cheap checks that catch missing, empty, foreign and truncated files.

    Raises: ModelError.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(_HEADER.size)
    except FileNotFoundError:
        raise ModelError(f"The model file “{path.name}” is missing.") from None
    except OSError as exc:
        raise ModelError(f"The model file “{path.name}” cannot be read ({exc.strerror}).") from None
    if len(head) < _HEADER.size:
        raise _damaged(path, f"it is only {size} bytes long")
    magic, version, tensors, _kv = _HEADER.unpack(head)
    if magic != GGUF_MAGIC:
        raise _damaged(path, "it does not start with the GGUF signature (wrong file type?)")
    if version not in SUPPORTED_VERSIONS:
        raise _damaged(path, f"GGUF version {version} is not supported")
    if tensors == 0:
        raise _damaged(path, "it contains no tensors")
    if expected_size and size != expected_size:
        why = "truncated; the download may have stopped" if size < expected_size else "too long"
        raise _damaged(path, f"it is {size:,} bytes but should be {expected_size:,} ({why})")


def _quantization(file_type: Any) -> str:
    """``general.file_type`` (llama_ftype) by the name the ``gguf`` package's LlamaFileType
    gives it, less its MOSTLY_/ALL_ prefix: "Q4_K_M", "F16"."""
    from gguf import LlamaFileType  # noqa: PLC0415 - as GGUFReader: numpy is slow to import

    if file_type is None:
        return "unknown"
    try:
        name = LlamaFileType(int(file_type)).name
    except (ValueError, TypeError, OverflowError):
        name = ""
    for prefix in ("MOSTLY_", "ALL_"):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return f"type {file_type}"  # a value this gguf does not know, or a flag (GUESSED)


def _field(reader: ParsedGGUF, key: str, default: Any = None) -> Any:
    value = reader.fields.get(key, default)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise _BadField(key, "is not UTF-8 text") from None
    if isinstance(value, BigArray):
        raise _BadField(key, f"is an array of {value.items:,} items")
    return value


def _int_field(reader: ParsedGGUF, key: str, default: int = 0) -> int:
    value = _field(reader, key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadField(key, "is not a whole number")
    return value


def _str_field(reader: ParsedGGUF, key: str, default: str = "") -> str:
    value = _field(reader, key, default)
    if not isinstance(value, str):
        raise _BadField(key, "is not text")
    return value


class _BadField(Exception):
    """A metadata value of the wrong type or encoding (a damaged or hostile file)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key)
        self.text = f"its metadata field {shown_name(key)} {problem}"


@lru_cache(maxsize=16)
def _read_cached(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    p = Path(path)
    try:
        reader = parse_gguf(p)
    except GGUFLimitError as exc:
        raise _damaged(p, str(exc)) from None
    except OSError as exc:
        raise ModelError(f"The model file “{p.name}” cannot be read ({exc.strerror}).") from None
    end = max((t.data_offset + t.n_bytes for t in reader.tensors), default=0)
    if end > size:
        raise _damaged(p, f"tensor data runs to byte {end:,} but the file has {size:,} (truncated)")
    try:
        return _info(p, size, reader)
    except _BadField as bad:
        raise _damaged(p, bad.text) from None


def _info(p: Path, size: int, reader: ParsedGGUF) -> GGUFInfo:
    arch = _field(reader, "general.architecture")
    if not isinstance(arch, str) or not arch:
        raise _damaged(p, "general.architecture is missing")
    layers = _int_field(reader, f"{arch}.block_count")
    heads = _int_field(reader, f"{arch}.attention.head_count")
    kv_heads = _field(reader, f"{arch}.attention.head_count_kv", heads)
    if isinstance(kv_heads, list):  # some architectures store one count per layer
        if not all(isinstance(k, int) for k in kv_heads):
            raise _BadField(f"{arch}.attention.head_count_kv", "is not whole numbers")
        kv_heads = max(kv_heads) if kv_heads else heads
    if isinstance(kv_heads, bool) or not isinstance(kv_heads, int):
        raise _BadField(f"{arch}.attention.head_count_kv", "is not a whole number")
    embd = _int_field(reader, f"{arch}.embedding_length")
    head_dim = _int_field(reader, f"{arch}.attention.key_length")
    if not head_dim and heads > 0:
        head_dim = embd // heads
    if layers <= 0 or head_dim <= 0:
        raise _damaged(p, f"{shown_name(arch)}.block_count or the attention shape is missing")
    template = _str_field(reader, "tokenizer.chat_template")
    file_type = _field(reader, "general.file_type")
    return GGUFInfo(
        path=str(p),
        size=size,
        architecture=arch,
        name=_str_field(reader, "general.name", p.stem),
        quantization=_quantization(file_type),
        parameters=sum(t.n_elements for t in reader.tensors),
        layers=layers,
        kv_heads=kv_heads or heads,
        head_dim=head_dim,
        context_length=_int_field(reader, f"{arch}.context_length"),
        chat_template=template,
    )


def read_gguf(path: Path) -> GGUFInfo:
    """Parse the whole header with the ``gguf`` package and check the tensors fit the file.

    Raises: ModelError naming what is wrong.
    """
    check_header(path)
    st = path.stat()
    return _read_cached(str(path), st.st_size, st.st_mtime_ns)
