"""Offload plans and recommendations on fixed hardware profiles (no real GPU needed)."""

from __future__ import annotations

import pytest

from engine.catalog import Catalog
from engine.catalog.fit import fit_model
from engine.catalog.hardware import GIB, Backend, Hardware, metal_working_set
from engine.catalog.plan import (
    MIN_REASONING_TOKENS_PER_SECOND,
    ModelShape,
    check_fit,
    format_size,
    plan_offload,
    recommend,
)
from engine.errors import ModelDoesNotFit
from tests.engine.catalog._profiles import (
    APPLE_M2_16,
    APPLE_M3_MAX_64,
    GB_S,
    LAPTOP_8,
    RTX_4090,
)


def test_rtx_4090_runs_the_flagship_entirely_on_the_gpu(catalog: Catalog):
    rec = recommend(catalog, RTX_4090)
    assert rec.model.id == "qwq-32b-q4_k_m"
    assert rec.plan.gpu_layers == rec.plan.total_layers == 65  # 64 blocks + output
    assert rec.plan.n_ctx == 16384
    assert rec.plan.kv_type == "q8_0" and rec.plan.flash_attn  # f16 KV would not fit in 24 GB
    assert rec.plan.placement == "fully on GPU"


def test_apple_m2_16gb_gets_a_14b_distill_and_is_told_the_flagship_does_not_fit(catalog: Catalog):
    rec = recommend(catalog, APPLE_M2_16)
    assert rec.model.id == "deepseek-r1-distill-qwen-14b-q4_k_m"
    assert rec.plan.gpu_layers == rec.plan.total_layers
    assert rec.plan.n_ctx >= 8192
    with pytest.raises(ModelDoesNotFit) as info:
        check_fit(catalog, catalog.flagship, APPLE_M2_16)
    assert "QwQ-32B Q4_K_M needs about" in info.value.user_message
    assert "DeepSeek-R1-Distill-Qwen 14B Q4_K_M fits this machine" in info.value.next_step


def test_m3_max_64gb_runs_the_best_flagship_quantization(catalog: Catalog):
    rec = recommend(catalog, APPLE_M3_MAX_64)
    assert rec.model.id == "qwq-32b-q8_0"
    assert rec.plan.placement == "fully on GPU"


def test_8gb_cpu_laptop_gets_the_7b_distill_on_cpu(catalog: Catalog):
    rec = recommend(catalog, LAPTOP_8)
    assert rec.model.id == "deepseek-r1-distill-qwen-7b-q4_k_m"
    assert rec.plan.gpu_layers == 0
    assert rec.plan.threads == 4
    assert rec.plan.n_ctx >= 8192
    with pytest.raises(ModelDoesNotFit) as info:
        check_fit(catalog, catalog.get("deepseek-r1-distill-qwen-14b-q4_k_m"), LAPTOP_8)
    assert "DeepSeek-R1-Distill-Qwen 7B" in info.value.next_step


def test_partial_offload_when_the_gpu_is_too_small(catalog: Catalog):
    small_gpu = Hardware(
        "8 GB GPU, 64 GB RAM", Backend.CUDA, 8, 64 * GIB, 60 * GIB, "GPU", 8 * GIB, 8 * GIB
    )
    plan = plan_offload(ModelShape.from_catalog(catalog.flagship), small_gpu)
    assert 0 < plan.gpu_layers < plan.total_layers
    assert plan.gpu_bytes <= 8 * GIB
    assert "layers on GPU, the rest on CPU" in plan.placement


def test_context_shrinks_before_the_model_is_refused(catalog: Catalog):
    shape = ModelShape.from_catalog(catalog.get("deepseek-r1-distill-qwen-7b-q4_k_m"))
    roomy = plan_offload(shape, LAPTOP_8)
    tight = plan_offload(shape, Hardware("tight", Backend.CPU, 4, 8 * GIB, int(5.3 * GIB)))
    assert tight.n_ctx < roomy.n_ctx or tight.kv_type != roomy.kv_type


def test_requested_context_is_capped_at_the_trained_length(catalog: Catalog):
    plan = plan_offload(ModelShape.from_catalog(catalog.default), LAPTOP_8, n_ctx=1_000_000)
    assert plan.n_ctx == 8192


def test_unified_memory_is_never_split_between_gpu_and_cpu(catalog: Catalog):
    # On Apple Silicon GPU and CPU share one pool: a model that misses the GPU working set
    # runs on the CPU whole, never half-offloaded.
    shape = ModelShape.from_catalog(catalog.get("qwq-32b-q3_k_m"))
    m2_more_ram = Hardware(
        "M2, 24 GB",
        Backend.METAL,
        8,
        24 * GIB,
        20 * GIB,
        "Apple M2",
        metal_working_set(24 * GIB),
        metal_working_set(24 * GIB),
        True,
    )
    plan = plan_offload(shape, m2_more_ram)
    assert plan.gpu_layers in {0, plan.total_layers}


def test_manual_gpu_layers_are_respected(catalog: Catalog):
    plan = plan_offload(ModelShape.from_catalog(catalog.flagship), RTX_4090, gpu_layers=10)
    assert plan.gpu_layers == 10
    assert (
        plan_offload(ModelShape.from_catalog(catalog.default), RTX_4090, gpu_layers=0).gpu_layers
        == 0
    )


def test_a_big_model_that_fits_but_crawls_is_not_recommended(catalog: Catalog):
    """64 GB of slow RAM holds QwQ-32B, but at ~1 token/s; a smaller model that is fast
    enough to think with is the better advice."""
    desktop = Hardware(
        "CPU-only desktop, 64 GB", Backend.CPU, 8, 64 * GIB, 56 * GIB, ram_bandwidth=40 * GB_S
    )
    flagship = catalog.flagship
    assert fit_model(flagship, desktop).fits
    assert fit_model(flagship, desktop).tokens_per_second < MIN_REASONING_TOKENS_PER_SECOND
    rec = recommend(catalog, desktop)
    assert rec.model.family != flagship.family or rec.model.parameters_b < flagship.parameters_b
    assert fit_model(rec.model, desktop).tokens_per_second >= MIN_REASONING_TOKENS_PER_SECOND


@pytest.mark.parametrize(
    ("n", "shown"),
    [(4_700_000_000, "4.7 GB"), (134_217_728, "134 MB"), (1_048_576, "1 MB"), (512_000, "512 kB")],
)
def test_one_size_formatter_for_files_and_free_space(n: int, shown: str):
    assert format_size(n) == shown
