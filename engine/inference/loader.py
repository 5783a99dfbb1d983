"""Opening a GGUF: check it, plan how it runs on this machine, load it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.catalog.catalog import CatalogModel, Reasoning, Sampling
from engine.catalog.gguf_info import check_header, read_gguf
from engine.catalog.hardware import Hardware, detect
from engine.catalog.plan import ModelShape, OffloadPlan, plan_offload
from engine.chat_template import ChatTemplate
from engine.errors import ModelError
from engine.inference._llama import LoadParams, NativeModel
from engine.inference.session import ModelSession

# Larger than any model's trained context (the largest are a few million tokens).
MAX_CONTEXT_LENGTH = 1 << 26


def shape_for(path: Path, entry: CatalogModel | None) -> ModelShape:
    """Planner input: the catalog's figures for a known file, the GGUF header otherwise.

    Raises: ModelError.
    """
    if entry is not None:
        check_header(path, expected_size=entry.size)
        shape = ModelShape.from_catalog(entry)
        actual = path.stat().st_size
        return dataclasses.replace(shape, weights_bytes=actual, size_is_estimate=False)
    info = read_gguf(path)
    if not 0 <= info.context_length <= MAX_CONTEXT_LENGTH:
        raise ModelError(
            f"“{path.name}” says its context is {info.context_length:,} tokens, which no model "
            "has: its metadata is damaged.",
        )
    return ModelShape(
        name=info.name,
        weights_bytes=info.size,
        layers=info.layers,
        kv_heads=info.kv_heads,
        head_dim=info.head_dim,
        context_length=info.context_length or 4096,
        default_context=min(info.context_length or 4096, 8192),
        reasoning=False,
    )


def open_model(
    path: Path,
    *,
    entry: CatalogModel | None = None,
    hardware: Hardware | None = None,
    n_ctx: int | None = None,
    gpu_layers: int | None = None,
    threads: int | None = None,
    chat_template: str | None = None,
    reasoning: Reasoning | bool | None = True,
) -> ModelSession:
    """Load ``path`` for chatting.

    ``entry`` (its catalog entry, when known) supplies sampling defaults and reasoning markers.
    ``reasoning``: True takes the catalog's, None/False turns the split off, or pass markers.
    ``chat_template`` overrides the one inside the file.

    Raises: ModelError (bad file, failed load), ModelDoesNotFit.
    """
    shape = shape_for(path, entry)
    plan: OffloadPlan = plan_offload(
        shape, hardware or detect(), n_ctx=n_ctx, gpu_layers=gpu_layers
    )
    native = NativeModel(
        path,
        LoadParams(
            n_ctx=plan.n_ctx,
            gpu_layers=plan.gpu_layers,
            threads=threads or plan.threads,
            kv_type=plan.kv_type,
            flash_attn=plan.flash_attn,
        ),
    )
    try:
        template = ChatTemplate(
            chat_template if chat_template is not None else native.chat_template(),
            bos_token=native.token_text(native.bos_token) if native.bos_token >= 0 else "",
            eos_token=native.token_text(native.eos_token) if native.eos_token >= 0 else "",
        )
    except Exception:
        native.close()
        raise
    if reasoning is True:
        markers = entry.reasoning if entry else None
    elif reasoning is False:
        markers = None
    else:
        markers = reasoning
    return ModelSession(
        native,
        model_id=entry.id if entry else path.stem,
        display_name=f"{entry.name} {entry.quantization}" if entry else shape.name,
        template=template,
        sampling=entry.sampling if entry else Sampling(),
        reasoning=markers,
        plan=plan,
    )
