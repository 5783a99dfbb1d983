"""Words for people about catalog models: parameters, download size, the fit verdict and a
download's progress. Plain text, shared by the desktop's model cards and anything else that
shows a model; no size is ever made up here (an unknown one says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog.catalog import CatalogModel
from engine.catalog.download import Progress
from engine.catalog.fit import Fit, FitKind
from engine.catalog.hardware import Hardware
from engine.catalog.plan import format_gb, format_size


def parameters_text(parameters_b: float) -> str:
    """A parameter count as model pages write it: "32.8B", "7.6B", "135M"."""
    if parameters_b < 1:
        return f"{parameters_b * 1000:.0f}M"
    text = f"{parameters_b:.1f}".removesuffix(".0")
    return f"{text}B"


def download_size(model: CatalogModel) -> str | None:
    """How much a download of ``model`` is: "19.9 GB" when the catalog knows the exact size,
    "about 19.9 GB" from the size the hosting page shows, None when neither is known."""
    if model.size:
        return format_size(model.size)
    if model.approx_size:
        return f"about {format_size(model.approx_size)}"
    return None


def download_size_text(model: CatalogModel) -> str:
    """``download_size`` for a sentence: "about 19.9 GB", or "size not known"."""
    return download_size(model) or "size not known"


@dataclass(frozen=True)
class FitText:
    """The fit verdict in two parts: ``verdict`` (a few words, e.g. "Fits on the GPU") and
    ``detail`` (where and how fast, every figure marked as an estimate)."""

    kind: FitKind
    verdict: str
    detail: str


def fit_text(fit: Fit) -> FitText:
    """The verdict of ``fit`` in words."""
    if fit.plan is None or fit.tokens_per_second is None:
        return FitText(
            FitKind.NO_FIT,
            "Does not fit",
            f"needs ~{format_gb(fit.need_bytes)} of memory (estimate)",
        )
    tps = fit.tokens_per_second
    speed = f"~{tps:.0f}" if tps >= 10 else f"~{tps:.1f}"
    speed += " tokens/s (estimate)"
    if fit.kind is FitKind.GPU:
        return FitText(fit.kind, "Fits on the GPU", speed)
    if fit.kind is FitKind.PARTIAL:
        layers = f"{fit.plan.gpu_layers} of {fit.plan.total_layers} layers on the GPU"
        return FitText(fit.kind, "Partly on the GPU", f"{layers}, {speed}")
    return FitText(fit.kind, "CPU only", f"fits in RAM, {speed}")


def hardware_text(hw: Hardware) -> str:
    """What a fit verdict is measured against: "NVIDIA GeForce RTX 4090 with 22.5 GB free;
    58.0 GB of 64.0 GB memory free", or "… memory free; no GPU Hearth can use"."""
    memory = f"{format_size(hw.ram_available)} of {format_size(hw.ram_total)} memory free"
    if hw.has_gpu:
        gpu = hw.gpu_name or "GPU"
        if hw.unified_memory:
            return f"{gpu}, {memory}"
        return f"{gpu} with {format_size(hw.gpu_free)} free; {memory}"
    return f"{memory}; no GPU Hearth can use"


def duration_text(seconds: float) -> str:
    """A time left for people: "40 s", "9 min", "1 h 20 min"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def progress_text(progress: Progress) -> str:
    """One line for a running download: "1.2 GB of 19.9 GB · 35.2 MB/s · about 9 min left"."""
    done = format_size(progress.done)
    parts = [f"{done} of {format_size(progress.total)}" if progress.total else f"{done} so far"]
    parts.append(f"{progress.speed / 1e6:.1f} MB/s")
    if progress.eta_s is not None and progress.speed > 0:
        parts.append(f"about {duration_text(progress.eta_s)} left")
    return " · ".join(parts)


__all__ = [
    "FitText",
    "download_size",
    "download_size_text",
    "duration_text",
    "fit_text",
    "hardware_text",
    "parameters_text",
    "progress_text",
]
