"""Fit verdicts (placement and an estimated speed) on fixed hardware profiles."""

from __future__ import annotations

import dataclasses

import pytest

from engine.catalog import Catalog
from engine.catalog.fit import FitKind, fit_model
from engine.catalog.hardware import GB_S, Backend, default_bandwidths, detect
from engine.catalog.plan import ModelShape, estimate_tokens_per_second, plan_offload
from tests.engine.catalog._profiles import APPLE_M2_16, APPLE_M3_MAX_64, LAPTOP_8, RTX_4090

FLAGSHIP = "qwq-32b-q4_k_m"
DISTILL_7B = "deepseek-r1-distill-qwen-7b-q4_k_m"
DISTILL_14B = "deepseek-r1-distill-qwen-14b-q4_k_m"


@pytest.mark.parametrize(
    ("profile", "model_id", "kind", "speed"),
    [
        # Public llama.cpp reports: ~35-40 tokens/s for a 32B Q4_K_M on a 4090, ~15 on an M3 Max,
        # ~10 for a 14B Q4 on an M2, single figures for a 7B Q4 on a laptop CPU.
        (RTX_4090, FLAGSHIP, FitKind.GPU, (25, 50)),
        (APPLE_M3_MAX_64, FLAGSHIP, FitKind.GPU, (9, 20)),
        (APPLE_M2_16, DISTILL_14B, FitKind.GPU, (5, 12)),
        (APPLE_M2_16, DISTILL_7B, FitKind.GPU, (10, 25)),
        (LAPTOP_8, DISTILL_7B, FitKind.CPU, (3, 10)),
        (RTX_4090, DISTILL_7B, FitKind.GPU, (80, 200)),
    ],
)
def test_verdicts_and_speed_estimates_on_reference_machines(
    catalog: Catalog, profile, model_id, kind, speed
):
    low, high = speed
    fit = fit_model(catalog.get(model_id), profile)
    assert fit.kind is kind
    assert fit.tokens_per_second is not None
    assert low <= fit.tokens_per_second <= high, fit.describe()
    assert fit.describe().endswith("tokens/s (estimate)")
    where = "fully on GPU, ~" if kind is FitKind.GPU else "fits in RAM, CPU only, ~"
    assert fit.describe().startswith(where)


@pytest.mark.parametrize("profile", [APPLE_M2_16, LAPTOP_8])
def test_the_flagship_does_not_fit_small_machines_and_says_what_it_needs(catalog: Catalog, profile):
    fit = fit_model(catalog.get(FLAGSHIP), profile)
    assert fit.kind is FitKind.NO_FIT and not fit.fits
    assert fit.plan is None and fit.tokens_per_second is None
    # 19.9 GB of weights plus the smallest KV cache and scratch buffers.
    assert 20e9 < fit.need_bytes < 23e9
    assert fit.describe() == f"does not fit: needs ~{fit.need_bytes / 1e9:.1f} GB (estimate)"


def test_14b_does_not_fit_the_8gb_laptop(catalog: Catalog):
    fit = fit_model(catalog.get(DISTILL_14B), LAPTOP_8)
    assert fit.kind is FitKind.NO_FIT
    assert fit.need_bytes > LAPTOP_8.ram_available


def test_partial_offload_is_slower_than_all_gpu_and_faster_than_cpu(catalog: Catalog):
    q8 = catalog.get("qwq-32b-q8_0")  # 34.8 GB: does not fit a 24 GB card whole
    fit = fit_model(q8, RTX_4090)
    assert fit.kind is FitKind.PARTIAL and fit.plan is not None
    assert fit.describe().startswith(
        f"partly on GPU ({fit.plan.gpu_layers}/{fit.plan.total_layers} layers), ~"
    )
    shape = ModelShape.from_catalog(q8)
    cpu_only = estimate_tokens_per_second(
        shape, plan_offload(shape, RTX_4090, gpu_layers=0), RTX_4090
    )
    flagship = fit_model(catalog.get(FLAGSHIP), RTX_4090)
    assert fit.tokens_per_second is not None and flagship.tokens_per_second is not None
    assert cpu_only < fit.tokens_per_second < flagship.tokens_per_second


def test_speed_scales_with_memory_bandwidth(catalog: Catalog):
    model = catalog.get(DISTILL_7B)
    base = fit_model(model, LAPTOP_8).tokens_per_second
    faster = fit_model(model, dataclasses.replace(LAPTOP_8, ram_bandwidth=80 * GB_S))
    assert base is not None and faster.tokens_per_second is not None
    assert faster.tokens_per_second == pytest.approx(2 * base)


def test_bigger_quantizations_are_estimated_slower(catalog: Catalog):
    speeds = [
        fit_model(catalog.get(f"qwq-32b-{q}"), APPLE_M3_MAX_64).tokens_per_second
        for q in ("q3_k_m", "q4_k_m", "q5_k_m", "q6_k", "q8_0")
    ]
    assert all(s is not None for s in speeds)
    assert speeds == sorted(speeds, reverse=True)  # type: ignore[type-var]


def test_default_bandwidths_by_platform():
    assert default_bandwidths(Backend.CUDA, "NVIDIA GeForce RTX 4090", unified=False) == (
        50 * GB_S,
        1008 * GB_S,
    )
    assert default_bandwidths(Backend.METAL, "Apple M2 Max", unified=True) == (
        400 * GB_S,
        400 * GB_S,
    )
    assert default_bandwidths(Backend.METAL, "Apple M2", unified=True) == (100 * GB_S, 100 * GB_S)
    assert default_bandwidths(Backend.CUDA, "Some Future GPU", unified=False)[1] == 300 * GB_S
    assert default_bandwidths(Backend.CPU, "", unified=False) == (50 * GB_S, 0)


def test_a_profile_without_bandwidth_uses_the_platform_default(catalog: Catalog):
    unknown = dataclasses.replace(RTX_4090, ram_bandwidth=0, gpu_bandwidth=0)
    assert unknown.bandwidths() == (50 * GB_S, 1008 * GB_S)
    model = catalog.get(DISTILL_7B)
    assert fit_model(model, unknown).tokens_per_second == pytest.approx(
        fit_model(model, dataclasses.replace(RTX_4090, ram_bandwidth=50 * GB_S)).tokens_per_second
    )


def test_the_starter_model_fits_this_machine_on_the_cpu(catalog: Catalog):
    fit = fit_model(catalog.default, detect(Backend.CPU))
    assert fit.kind is FitKind.CPU
    assert fit.tokens_per_second is not None and fit.tokens_per_second > 10
