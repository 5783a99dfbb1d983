"""The offload plan: how to run a model on this machine, or why it cannot run.

Memory model (all estimates, deliberately a little pessimistic):
  weights  = the GGUF file size (llama.cpp maps it; every byte of it is needed resident)
  kv cache = 2 (K and V) x layers x kv_heads x head_dim x bytes per element x context
  compute  = scratch buffers: 256 MiB + 3 % of the weights
A model fits where weights + kv + compute stay under what the memory pool has free.

Speed is an estimate from memory bandwidth: generating one token reads every weight once, plus
the KV cache filled so far, so tokens/s ≈ bandwidth / bytes read per token. Only a fraction of
the peak bandwidth is reached in practice (``GPU_EFFICIENCY``, ``CPU_EFFICIENCY``); the KV
cache is counted half full (a conversation midway through its context). Prompt processing is
compute-bound and not estimated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.catalog.catalog import Catalog, CatalogModel
from engine.catalog.hardware import Backend, Hardware
from engine.errors import ModelDoesNotFit, ModelError

MIB = 1024**2
MIN_CONTEXT = 2048
# Reasoning models think for thousands of tokens; less than this makes them useless.
MIN_REASONING_CONTEXT = 8192
# Below this estimated speed a reasoning model does not "run well": its ~1,000 thinking tokens
# before an answer would take over four minutes. A smaller model that is faster wins.
MIN_REASONING_TOKENS_PER_SECOND = 4.0
# Kept free for the OS and the app itself.
RAM_RESERVE = 512 * MIB
VRAM_RESERVE = 512 * MIB
# Share of peak bandwidth llama.cpp's token generation reaches (measured figures in public
# benchmarks sit around 70-80 % on GPUs and 50-70 % on CPUs; the lower end is used).
GPU_EFFICIENCY = 0.7
CPU_EFFICIENCY = 0.6

# Bytes per KV element. q8_0 stores 32 values in 34 bytes.
KV_TYPES: dict[str, float] = {"f16": 2.0, "q8_0": 34 / 32}

# Bits per weight of each quantization's main tensor type, by the ggml block layout. The _M
# variants keep some tensors at higher precision, so real files are a little larger; the
# planner only uses this when the catalog has no confirmed size.
_BITS_PER_WEIGHT = {
    "F32": 32.0,
    "F16": 16.0,
    "BF16": 16.0,
    "Q8_0": 8.5,
    "Q6_K": 6.5625,
    "Q5_K_M": 5.5,
    "Q5_K_S": 5.5,
    "Q5_0": 5.5,
    "Q5_1": 6.0,
    "Q4_K_M": 4.5,
    "Q4_K_S": 4.5,
    "Q4_0": 4.5,
    "Q4_1": 5.0,
    "Q3_K_L": 3.4375,
    "Q3_K_M": 3.4375,
    "Q3_K_S": 3.4375,
    "Q2_K": 2.625,
    "IQ4_XS": 4.25,
    "IQ3_M": 3.66,
}


@dataclass(frozen=True)
class ModelShape:
    """What the planner needs to know about a model (from the catalog or the GGUF header)."""

    name: str
    weights_bytes: int
    layers: int
    kv_heads: int
    head_dim: int
    context_length: int
    default_context: int
    reasoning: bool
    size_is_estimate: bool = False

    @classmethod
    def from_catalog(cls, model: CatalogModel) -> ModelShape:
        size, estimate = model.size or model.approx_size, not model.size
        if not size:
            bits = _BITS_PER_WEIGHT.get(model.quantization, 8.0)
            size, estimate = int(model.parameters_b * 1e9 * bits / 8), True
        return cls(
            name=model.label,
            weights_bytes=size,
            layers=model.layers,
            kv_heads=model.kv_heads,
            head_dim=model.head_dim,
            context_length=model.context_length,
            default_context=model.default_context,
            reasoning=model.is_reasoning,
            size_is_estimate=estimate,
        )

    def kv_bytes(self, n_ctx: int, kv_type: str) -> int:
        return int(2 * self.layers * self.kv_heads * self.head_dim * KV_TYPES[kv_type] * n_ctx)

    def compute_bytes(self) -> int:
        return 256 * MIB + int(self.weights_bytes * 0.03)

    def need_bytes(self, n_ctx: int, kv_type: str) -> int:
        return self.weights_bytes + self.kv_bytes(n_ctx, kv_type) + self.compute_bytes()


@dataclass(frozen=True)
class OffloadPlan:
    model: str
    backend: Backend
    gpu_layers: int  # of ``total_layers``; llama.cpp counts the output layer as one more
    total_layers: int
    n_ctx: int
    kv_type: str
    flash_attn: bool
    threads: int
    gpu_bytes: int
    ram_bytes: int

    @property
    def placement(self) -> str:
        if self.gpu_layers == 0:
            return "CPU only"
        if self.gpu_layers >= self.total_layers:
            return "fully on GPU"
        return f"{self.gpu_layers}/{self.total_layers} layers on GPU, the rest on CPU"

    def describe(self) -> str:
        kv = "16-bit" if self.kv_type == "f16" else "8-bit"
        return (
            f"{self.model}: {self.placement}, {self.n_ctx:,}-token context, {kv} KV cache, "
            f"{self.threads} threads, needs ~{format_gb(self.gpu_bytes + self.ram_bytes)}"
        )


def format_gb(n: int) -> str:
    """Bytes in GB for people, e.g. "4.7 GB"."""
    return f"{n / 1e9:.1f} GB"


def format_size(n: int) -> str:
    """A file or disk size for people: "4.7 GB", "98 MB" below a gigabyte, "512 kB" below a
    megabyte."""
    if n >= 1e9:
        return format_gb(n)
    if n >= 1e6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} kB"


def _contexts(shape: ModelShape, requested: int | None) -> list[int]:
    """Context sizes to try, largest first: the request (or default), halving to the floor."""
    top = min(requested or shape.default_context, shape.context_length)
    if top < 1:
        # A context of no tokens cannot run (and halving a negative size never ends).
        raise ModelError(
            f"{shape.name}: a context of {top:,} tokens is not possible.",
            "Give a context size of at least 1 (for example --ctx 4096), or check the model.",
        )
    floor = min(MIN_CONTEXT, top)
    sizes = []
    n = top
    while n >= floor:
        sizes.append(n)
        n //= 2
    if sizes[-1] != floor:
        sizes.append(floor)
    return sizes


def plan_offload(
    shape: ModelShape,
    hw: Hardware,
    *,
    n_ctx: int | None = None,
    gpu_layers: int | None = None,
) -> OffloadPlan:
    """Choose GPU layers, context, KV-cache type and threads for ``shape`` on ``hw``.

    Prefers, in order: everything on the GPU, the requested context, a 16-bit KV cache. The
    context shrinks (halving) before the model is split between GPU and CPU, down to 2,048.

    Raises: ModelDoesNotFit when not even the smallest context fits anywhere.
    """
    threads = max(1, hw.physical_cores)
    contexts = _contexts(shape, n_ctx)
    total_layers = shape.layers + 1
    kv_options = [("f16", False), ("q8_0", True)]  # quantized V cache needs flash attention

    def plan(layers: int, ctx: int, kv: str, fa: bool) -> OffloadPlan:
        frac = layers / total_layers
        need = shape.need_bytes(ctx, kv)
        gpu = int(need * frac)
        return OffloadPlan(
            shape.name, hw.backend, layers, total_layers, ctx, kv, fa, threads, gpu, need - gpu
        )

    ram_free = max(0, hw.ram_available - RAM_RESERVE)
    if hw.has_gpu and gpu_layers != 0:
        gpu_free = max(0, hw.gpu_free - (0 if hw.unified_memory else VRAM_RESERVE))
        if hw.unified_memory:
            gpu_free = min(gpu_free, ram_free)
        # 1. Everything on the GPU, the largest context that fits.
        for ctx in contexts:
            for kv, fa in kv_options:
                if shape.need_bytes(ctx, kv) <= gpu_free:
                    p = plan(total_layers, ctx, kv, fa)
                    if gpu_layers is None or gpu_layers >= total_layers:
                        return p
                    return plan(gpu_layers, ctx, kv, fa)
        # 2. Split between GPU and RAM (not on unified memory: it is one pool).
        if not hw.unified_memory:
            for ctx in contexts:
                for kv, fa in kv_options:
                    need = shape.need_bytes(ctx, kv)
                    per_layer = need / total_layers
                    layers = int(gpu_free // per_layer) if gpu_layers is None else gpu_layers
                    layers = min(layers, total_layers)
                    if layers > 0 and need - per_layer * layers <= ram_free:
                        return plan(layers, ctx, kv, fa)
    # 3. CPU only.
    for ctx in contexts:
        for kv, fa in kv_options:
            if shape.need_bytes(ctx, kv) <= ram_free:
                return plan(0, ctx, kv, fa)

    smallest = shape.need_bytes(contexts[-1], "q8_0")
    pool = max(ram_free, hw.gpu_free if hw.has_gpu else 0)
    estimate = " (the exact file size is not confirmed)" if shape.size_is_estimate else ""
    raise ModelDoesNotFit(
        f"{shape.name} needs about {format_gb(smallest)}{estimate} even with a "
        f"{contexts[-1]:,}-token context ({format_gb(shape.weights_bytes)} of weights); "
        f"this machine has about {format_gb(pool)} free for it."
    )


def bytes_per_token(shape: ModelShape, plan: OffloadPlan) -> int:
    """Memory read to generate one token: all weights, plus the KV cache half full."""
    return shape.weights_bytes + shape.kv_bytes(plan.n_ctx // 2, plan.kv_type)


def estimate_tokens_per_second(shape: ModelShape, plan: OffloadPlan, hw: Hardware) -> float:
    """Generation speed estimate for ``plan``: the GPU's share of the bytes read at its
    bandwidth, the rest at the RAM's, one after the other (layers run in sequence)."""
    ram_bw, gpu_bw = hw.bandwidths()
    per_token = bytes_per_token(shape, plan)
    gpu_share = plan.gpu_layers / plan.total_layers if plan.total_layers else 0.0
    seconds = 0.0
    if gpu_share > 0:
        seconds += per_token * gpu_share / (gpu_bw * GPU_EFFICIENCY)
    if gpu_share < 1:
        seconds += per_token * (1 - gpu_share) / (ram_bw * CPU_EFFICIENCY)
    return 1 / seconds


@dataclass(frozen=True)
class Recommendation:
    model: CatalogModel
    plan: OffloadPlan


def _quality_key(model: CatalogModel) -> tuple[float, float]:
    return (model.parameters_b, _BITS_PER_WEIGHT.get(model.quantization, 0.0))


def recommend(catalog: Catalog, hw: Hardware) -> Recommendation:
    """The strongest reasoning model that runs well here: entirely in the fastest memory
    pool, with a context of at least 8,192 tokens, an estimated speed of at least
    MIN_REASONING_TOKENS_PER_SECOND, and obtainable (a confirmed download or a bundled
    source). The starter model when none does."""
    candidates = sorted(
        (m for m in catalog.models if m.is_reasoning and (m.urls or m.source)),
        key=_quality_key,
        reverse=True,
    )
    for model in candidates:
        shape = ModelShape.from_catalog(model)
        try:
            p = plan_offload(shape, hw)
        except ModelDoesNotFit:
            continue
        all_fast = p.gpu_layers == p.total_layers if hw.has_gpu else True
        fast_enough = estimate_tokens_per_second(shape, p, hw) >= MIN_REASONING_TOKENS_PER_SECOND
        if all_fast and fast_enough and p.n_ctx >= min(MIN_REASONING_CONTEXT, shape.context_length):
            return Recommendation(model, p)
    starter = catalog.default
    return Recommendation(starter, plan_offload(ModelShape.from_catalog(starter), hw))


def check_fit(
    catalog: Catalog, model: CatalogModel, hw: Hardware, n_ctx: int | None = None
) -> OffloadPlan:
    """Plan ``model``; when it cannot fit, say what would.

    Raises: ModelDoesNotFit whose next step names the best catalog model that fits.
    """
    try:
        return plan_offload(ModelShape.from_catalog(model), hw, n_ctx=n_ctx)
    except ModelDoesNotFit as exc:
        alternative = recommend(catalog, hw).model
        raise ModelDoesNotFit(
            exc.user_message,
            f"{alternative.label} fits this machine; pick it, or lower the context size.",
        ) from None
