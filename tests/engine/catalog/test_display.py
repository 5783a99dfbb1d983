"""Words for people about models: parameters, sizes (never invented), fit, download progress."""

from __future__ import annotations

import dataclasses

import pytest

from engine.catalog import Catalog
from engine.catalog.display import (
    download_size,
    download_size_text,
    duration_text,
    fit_text,
    hardware_text,
    parameters_text,
    progress_text,
)
from engine.catalog.download import Progress
from engine.catalog.fit import FitKind, fit_model
from tests.engine.catalog._profiles import APPLE_M2_16, LAPTOP_8, RTX_4090


@pytest.mark.parametrize(
    ("billions", "text"),
    [(32.8, "32.8B"), (7.6, "7.6B"), (32.0, "32B"), (0.135, "135M"), (0.27, "270M")],
)
def test_parameters_read_as_model_pages_write_them(billions: float, text: str):
    assert parameters_text(billions) == text


def test_download_size_is_exact_approximate_or_said_to_be_unknown(catalog: Catalog):
    flagship = catalog.get("qwq-32b-q4_k_m")  # models.toml: size 0, approx_size 19.9e9
    assert download_size(flagship) == "about 19.9 GB"
    exact = dataclasses.replace(flagship, size=19_851_336_576)
    assert download_size(exact) == "19.9 GB"
    unknown = catalog.get("qwen3-8b-q4_k_m")  # no size of either kind
    assert download_size(unknown) is None
    assert download_size_text(unknown) == "size not known"
    assert download_size(catalog.default) == "98 MB"


def test_fit_text_names_the_verdict_and_keeps_the_estimate_label(catalog: Catalog):
    gpu = fit_text(fit_model(catalog.get("qwq-32b-q4_k_m"), RTX_4090))
    assert (gpu.kind, gpu.verdict) == (FitKind.GPU, "Fits on the GPU")
    assert gpu.detail.startswith("~") and gpu.detail.endswith("tokens/s (estimate)")
    partial = fit_text(fit_model(catalog.get("qwq-32b-q8_0"), RTX_4090))
    assert (partial.kind, partial.verdict) == (FitKind.PARTIAL, "Partly on the GPU")
    assert " layers on the GPU, ~" in partial.detail
    cpu = fit_text(fit_model(catalog.get("deepseek-r1-distill-qwen-7b-q4_k_m"), LAPTOP_8))
    assert (cpu.kind, cpu.verdict) == (FitKind.CPU, "CPU only")
    assert cpu.detail.startswith("fits in RAM, ~")
    no = fit_text(fit_model(catalog.get("qwq-32b-q4_k_m"), LAPTOP_8))
    assert (no.kind, no.verdict) == (FitKind.NO_FIT, "Does not fit")
    assert no.detail.startswith("needs ~") and no.detail.endswith("GB of memory (estimate)")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (40, "40 s"),
        (59.4, "59 s"),
        (90, "2 min"),
        (540, "9 min"),
        (4800, "1 h 20 min"),
        (7200, "2 h"),
    ],
)
def test_durations(seconds: float, text: str):
    assert duration_text(seconds) == text


def test_progress_shows_size_speed_and_time_left():
    running = Progress(done=1_200_000_000, total=19_900_000_000, speed=35_200_000, eta_s=531)
    assert progress_text(running) == "1.2 GB of 19.9 GB · 35.2 MB/s · about 9 min left"
    starting = Progress(done=0, total=0, speed=0.0, eta_s=None)
    assert progress_text(starting) == "0 kB so far · 0.0 MB/s"


def test_hardware_text_says_what_the_estimates_are_for():
    assert hardware_text(LAPTOP_8).endswith("memory free; no GPU Hearth can use")
    assert hardware_text(RTX_4090).startswith("NVIDIA GeForce RTX 4090 with ")
    assert hardware_text(APPLE_M2_16) == "Apple M2, 12.9 GB of 17.2 GB memory free"
