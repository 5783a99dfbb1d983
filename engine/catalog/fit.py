"""Fit verdict: whether a model runs on this machine, where, and about how fast.

Placement comes from :func:`engine.catalog.plan.plan_offload`, speed from
:func:`engine.catalog.plan.estimate_tokens_per_second`. Every figure this module gives is
labelled an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.catalog.catalog import CatalogModel
from engine.catalog.hardware import Hardware
from engine.catalog.plan import (
    MIN_CONTEXT,
    ModelShape,
    OffloadPlan,
    estimate_tokens_per_second,
    format_gb,
    plan_offload,
)
from engine.errors import ModelDoesNotFit


class FitKind(StrEnum):
    GPU = "gpu"  # entirely in GPU memory
    PARTIAL = "partial"  # some layers on the GPU, the rest in RAM
    CPU = "cpu"  # in RAM, CPU only
    NO_FIT = "no-fit"


@dataclass(frozen=True)
class Fit:
    """The verdict for one model on one machine. ``tokens_per_second`` is an estimate (None
    when the model does not fit); ``need_bytes`` is the memory the plan uses or, when it does
    not fit, the least it would need (smallest context, 8-bit KV cache)."""

    kind: FitKind
    plan: OffloadPlan | None
    tokens_per_second: float | None
    need_bytes: int
    size_is_estimate: bool

    @property
    def fits(self) -> bool:
        return self.kind is not FitKind.NO_FIT

    def describe(self) -> str:
        """One line for people, e.g. "fully on GPU, ~32 tokens/s (estimate)"."""
        if self.plan is None or self.tokens_per_second is None:
            return f"does not fit: needs ~{format_gb(self.need_bytes)} (estimate)"
        speed = f"~{_rate(self.tokens_per_second)} tokens/s (estimate)"
        if self.kind is FitKind.GPU:
            where = "fully on GPU"
        elif self.kind is FitKind.PARTIAL:
            where = f"partly on GPU ({self.plan.gpu_layers}/{self.plan.total_layers} layers)"
        else:
            where = "fits in RAM, CPU only"
        return f"{where}, {speed}"


def _rate(tps: float) -> str:
    return f"{tps:.0f}" if tps >= 10 else f"{tps:.1f}"


def fit_shape(shape: ModelShape, hw: Hardware, *, n_ctx: int | None = None) -> Fit:
    """The verdict for ``shape`` on ``hw`` (never raises)."""
    try:
        plan = plan_offload(shape, hw, n_ctx=n_ctx)
    except ModelDoesNotFit:
        return Fit(
            FitKind.NO_FIT,
            None,
            None,
            shape.need_bytes(min(MIN_CONTEXT, shape.context_length), "q8_0"),
            shape.size_is_estimate,
        )
    if plan.gpu_layers == 0:
        kind = FitKind.CPU
    elif plan.gpu_layers >= plan.total_layers:
        kind = FitKind.GPU
    else:
        kind = FitKind.PARTIAL
    return Fit(
        kind,
        plan,
        estimate_tokens_per_second(shape, plan, hw),
        plan.gpu_bytes + plan.ram_bytes,
        shape.size_is_estimate,
    )


def fit_model(model: CatalogModel, hw: Hardware, *, n_ctx: int | None = None) -> Fit:
    """The verdict for a catalog model on ``hw`` (never raises)."""
    return fit_shape(ModelShape.from_catalog(model), hw, n_ctx=n_ctx)
