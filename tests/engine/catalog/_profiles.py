"""Fixed hardware profiles for planning and fit tests (no real GPU needed). Bandwidths are the
makers' published peak figures, set explicitly so no default is tested by accident."""

from __future__ import annotations

from engine.catalog.hardware import GB_S, GIB, Backend, Hardware, metal_working_set

APPLE_M2_16 = Hardware(
    "Apple M2, 16 GB",
    Backend.METAL,
    8,
    16 * GIB,
    12 * GIB,
    "Apple M2",
    metal_working_set(16 * GIB),
    metal_working_set(16 * GIB),
    True,
    ram_bandwidth=100 * GB_S,
    gpu_bandwidth=100 * GB_S,
)
APPLE_M3_MAX_64 = Hardware(
    "Apple M3 Max, 64 GB",
    Backend.METAL,
    16,
    64 * GIB,
    56 * GIB,
    "Apple M3 Max",
    metal_working_set(64 * GIB),
    metal_working_set(64 * GIB),
    True,
    ram_bandwidth=400 * GB_S,
    gpu_bandwidth=400 * GB_S,
)
RTX_4090 = Hardware(
    "RTX 4090 desktop, 64 GB RAM",
    Backend.CUDA,
    16,
    64 * GIB,
    58 * GIB,
    "NVIDIA GeForce RTX 4090",
    24 * GIB,
    int(23.5 * GIB),
    ram_bandwidth=64 * GB_S,
    gpu_bandwidth=1008 * GB_S,
)
LAPTOP_8 = Hardware(
    "CPU-only laptop, 8 GB", Backend.CPU, 4, 8 * GIB, 6 * GIB, ram_bandwidth=40 * GB_S
)
