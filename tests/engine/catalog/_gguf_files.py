"""Small real GGUF files written with the ``gguf`` package's GGUFWriter, for tests that need a
valid header and tensor table without loading a model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from gguf import GGUFWriter

SIMPLE_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def write_gguf(
    path: Path,
    *,
    chat_template: str | None = SIMPLE_TEMPLATE,
    tensor_bytes: int = 1 << 20,
    name: str = "Tiny Test",
    file_type: int = 1,
    context_length: int = 4096,
    signed_context_length: bool = False,
    extra: Callable[[GGUFWriter], object] | None = None,
) -> Path:
    """A llama-shaped GGUF: 2 blocks, 4 heads (2 KV), embedding 64, F16 file type, and one
    F32 tensor of ``tensor_bytes`` bytes of a fixed pattern (the same bytes every time)."""
    writer = GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_block_count(2)
    if signed_context_length:  # as a damaged or hostile file may store it: int32, any sign
        writer.add_int32("llama.context_length", context_length)
    else:
        writer.add_context_length(context_length)
    writer.add_embedding_length(64)
    writer.add_feed_forward_length(128)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    writer.add_file_type(file_type)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    if extra is not None:  # more (or hostile) metadata, written the way a tool would
        extra(writer)
    count = tensor_bytes // 4
    writer.add_tensor(
        "token_embd.weight", (np.arange(count, dtype=np.float32) % 251).reshape(count // 64, 64)
    )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
