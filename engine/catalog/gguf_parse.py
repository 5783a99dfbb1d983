"""Hearth's own walk over a GGUF file's header, metadata and tensor table: every length and
count is checked against the file and against limits no real model comes near before it is
used, and numbers in large arrays are stepped over, never turned into Python objects.

It replaced the ``gguf`` package's GGUFReader here, which trusts the counts it reads: a
1.4 KB file claiming a vast array made it allocate gigabytes, and a 27 MB array of numbers
took it half a minute and 2.4 GB (one Python object per element). The format is the
documented one (ggml's docs/gguf.md): header, key/value pairs, tensor infos, aligned data.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Far above any real model (vocabularies reach 262,144 tokens; merges a few hundred thousand;
# the largest MoE files hold tens of thousands of tensors), far below a hostile count.
MAX_KV = 65_536
MAX_ARRAY_ITEMS = 4_194_304
MAX_TENSORS = 1_048_576
MAX_STRING_BYTES = 64 << 20
MAX_KEY_BYTES = 65_536
MAX_DIMS = 8
MAX_NESTING = 3
MAX_ELEMENTS = 1 << 50
# Arrays up to this long are kept (per-layer head counts); longer ones (a vocabulary) are
# walked and checked but not kept: nothing Hearth reads from a GGUF needs them.
KEPT_ARRAY_ITEMS = 4096
DEFAULT_ALIGNMENT = 32

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


class GGUFLimitError(Exception):
    """What is wrong, in words, for the sentence "… is not a usable GGUF model: <this>"."""


SHOWN_NAME_CHARS = 80


def shown_name(name: str) -> str:
    """A key or tensor name read from a file, as a message may show it: a hostile file's
    name can hold terminal escapes or newlines, or be 64 KB long."""
    shown = "".join(c if c.isprintable() else "?" for c in name[:SHOWN_NAME_CHARS])
    return shown + "…" if len(name) > SHOWN_NAME_CHARS else shown


@dataclass(frozen=True)
class BigArray:
    """Stands for an array longer than ``KEPT_ARRAY_ITEMS`` (checked, not kept)."""

    items: int


@dataclass(frozen=True)
class Tensor:
    name: str
    n_elements: int
    n_bytes: int
    data_offset: int  # from the start of the file


@dataclass(frozen=True)
class ParsedGGUF:
    """Metadata values (text as raw bytes, decoded by the caller; numbers as numbers; short
    arrays as lists) and the tensor table."""

    fields: dict[str, Any]
    tensors: list[Tensor]


def parse_gguf(path: Path) -> ParsedGGUF:
    """Read the metadata and tensor table of the GGUF at ``path`` (its magic is checked by
    ``check_header``).

    Raises: GGUFLimitError naming the first impossible length, count or type; OSError.
    """
    with path.open("rb") as fh:
        if path.stat().st_size == 0:
            raise GGUFLimitError("it is empty")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _Walk(data).run()


class _Walk:
    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.size = len(data)
        self.pos = 0

    def run(self) -> ParsedGGUF:
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType  # noqa: PLC0415

        self.pos = 4  # the magic
        version = self._scalar("<I", "the header")
        count_format = "<I" if version == 1 else "<Q"
        tensors = self._scalar(count_format, "the header")
        kvs = self._scalar(count_format, "the header")
        if kvs > MAX_KV:
            raise GGUFLimitError(f"it claims {kvs:,} metadata entries")
        if tensors > MAX_TENSORS:
            raise GGUFLimitError(f"it claims {tensors:,} tensors")
        fields: dict[str, Any] = {}
        for _ in range(kvs):
            key = self._text(MAX_KEY_BYTES, "a metadata key")
            shown = shown_name(key)
            fields[key] = self._value(self._scalar("<I", shown), shown, 0)
        table: list[tuple[str, int, int, int]] = []
        for _ in range(tensors):
            name = self._text(MAX_KEY_BYTES, "a tensor name")
            shown = shown_name(name)
            dims = self._scalar("<I", shown)
            if dims > MAX_DIMS:
                raise GGUFLimitError(f"tensor {shown} claims {dims:,} dimensions")
            shape = [self._scalar("<Q", shown) for _ in range(dims)]
            kind = self._scalar("<I", shown)
            offset = self._scalar("<Q", shown)
            elements = math.prod(shape)
            if elements > MAX_ELEMENTS:
                raise GGUFLimitError(f"tensor {shown} claims {elements:,} elements")
            try:
                block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
            except (ValueError, KeyError):
                raise GGUFLimitError(f"tensor {shown} has an unknown type ({kind})") from None
            table.append((name, elements, elements * type_size // block, offset))
        alignment = fields.get("general.alignment", DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
            raise GGUFLimitError("its general.alignment is not a power of two")
        start = -(-self.pos // alignment) * alignment
        return ParsedGGUF(
            fields, [Tensor(name, n, size, start + off) for name, n, size, off in table]
        )

    def _value(self, kind: int, key: str, depth: int) -> Any:
        if kind in _SCALARS:
            return self._scalar(_SCALARS[kind], key)
        if kind == _STRING:
            return self._bytes(MAX_STRING_BYTES, key)
        if kind != _ARRAY:
            raise GGUFLimitError(f"{key} has an unknown value type ({kind})")
        if depth >= MAX_NESTING:
            raise GGUFLimitError(f"{key} nests arrays more than {MAX_NESTING} deep")
        item = self._scalar("<I", key)
        items = self._scalar("<Q", key)
        if items > MAX_ARRAY_ITEMS:
            raise GGUFLimitError(f"{key} claims {items:,} items")
        if items > KEPT_ARRAY_ITEMS:
            if item in _SCALARS:
                self._skip(items * struct.calcsize(_SCALARS[item]), key)  # no object per number
            else:
                for _ in range(items):
                    self._value(item, key, depth + 1)
            return BigArray(items)
        return [self._value(item, key, depth + 1) for _ in range(items)]

    def _text(self, limit: int, what: str) -> str:
        try:
            return self._bytes(limit, what).decode("utf-8")
        except UnicodeDecodeError:
            raise GGUFLimitError(f"{what} is not UTF-8 text") from None

    def _bytes(self, limit: int, what: str) -> bytes:
        length = self._scalar("<Q", what)
        if length > limit:
            raise GGUFLimitError(f"{what} claims to be {length:,} bytes long")
        start = self.pos
        self._skip(length, what)
        return bytes(self.data[start : self.pos])

    def _skip(self, length: int, what: str) -> None:
        if self.pos + length > self.size:
            raise GGUFLimitError(f"{what} runs past the end of the file (truncated or damaged)")
        self.pos += length

    def _scalar(self, fmt: str, what: str) -> Any:
        size = struct.calcsize(fmt)
        self._skip(size, what)
        return struct.unpack_from(fmt, self.data, self.pos - size)[0]
