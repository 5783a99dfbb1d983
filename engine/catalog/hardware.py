"""What this machine offers a model: backend, memory, cores.

Detection is best effort and never raises: an unknown figure becomes a conservative one.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum

import psutil

GIB = 1024**3


class Backend(StrEnum):
    CPU = "cpu"
    CUDA = "cuda"
    METAL = "metal"


@dataclass(frozen=True)
class Hardware:
    """A machine as the offload planner sees it. All sizes in bytes.

    ``gpu_free`` is memory a model may use on the accelerator; on Apple Silicon (unified memory)
    it is the GPU's working-set limit, carved out of the same RAM. ``ram_bandwidth`` and
    ``gpu_bandwidth`` are peak memory bandwidths in bytes per second (0 = unknown: the fit
    estimate then uses :func:`default_bandwidths`); they bound how fast a model generates.
    """

    name: str
    backend: Backend
    physical_cores: int
    ram_total: int
    ram_available: int
    gpu_name: str = ""
    gpu_total: int = 0
    gpu_free: int = 0
    unified_memory: bool = False
    ram_bandwidth: int = 0
    gpu_bandwidth: int = 0

    @property
    def has_gpu(self) -> bool:
        return self.backend is not Backend.CPU and self.gpu_free > 0

    def bandwidths(self) -> tuple[int, int]:
        """(RAM, GPU) peak bandwidth in bytes/s: the figures set, else the defaults."""
        ram, gpu = default_bandwidths(self.backend, self.gpu_name, unified=self.unified_memory)
        return self.ram_bandwidth or ram, self.gpu_bandwidth or gpu


GB_S = 10**9  # bandwidths are quoted in decimal GB/s

# Peak memory bandwidth by the name a machine reports, from the makers' published
# specifications. Checked in order, so a longer name comes before its prefix ("M2 Max" before
# "M2"). Where a chip ships in two memory configurations the lower figure is used.
APPLE_BANDWIDTH: tuple[tuple[str, int], ...] = (
    ("M1 Ultra", 800),
    ("M1 Max", 400),
    ("M1 Pro", 200),
    ("M1", 68),
    ("M2 Ultra", 800),
    ("M2 Max", 400),
    ("M2 Pro", 200),
    ("M2", 100),
    ("M3 Ultra", 819),
    ("M3 Max", 300),
    ("M3 Pro", 150),
    ("M3", 100),
    ("M4 Max", 410),
    ("M4 Pro", 273),
    ("M4", 120),
)
NVIDIA_BANDWIDTH: tuple[tuple[str, int], ...] = (
    ("H200", 4800),
    ("H100", 2000),
    ("A100", 1555),
    ("L40S", 864),
    ("A10", 600),
    ("L4", 300),
    ("RTX 5090", 1792),
    ("RTX 5080", 960),
    ("RTX 4090", 1008),
    ("RTX 4080", 716),
    ("RTX 4070", 504),
    ("RTX 4060 Ti", 288),
    ("RTX 4060", 272),
    ("RTX 3090", 936),
    ("RTX 3080", 760),
    ("RTX 3070", 448),
    ("RTX 3060", 360),
)
# Unknown machines: dual-channel DDR4-3200 (51.2 GB/s peak) for a PC's RAM, a mid-range
# card's GDDR6 for an unknown NVIDIA GPU, the base M-series chip for an unknown Apple one.
DEFAULT_RAM_BANDWIDTH = 50 * GB_S
DEFAULT_NVIDIA_BANDWIDTH = 300 * GB_S
DEFAULT_APPLE_BANDWIDTH = 100 * GB_S


def _lookup(table: tuple[tuple[str, int], ...], name: str) -> int:
    for key, gb_s in table:
        if re.search(rf"\b{re.escape(key)}\b", name, re.IGNORECASE):
            return gb_s * GB_S
    return 0


def default_bandwidths(backend: Backend, gpu_name: str, *, unified: bool) -> tuple[int, int]:
    """(RAM, GPU) peak bandwidth in bytes/s for a machine whose figures are not measured.

    Apple Silicon: one pool, by chip name (``APPLE_BANDWIDTH``, else 100 GB/s). NVIDIA: by
    card name (``NVIDIA_BANDWIDTH``, else 300 GB/s), with 50 GB/s system RAM. CPU only:
    50 GB/s. These are estimates; a test profile sets its own figures.
    """
    if unified:
        pool = _lookup(APPLE_BANDWIDTH, gpu_name) or DEFAULT_APPLE_BANDWIDTH
        return pool, pool
    if backend is Backend.CUDA:
        return (
            DEFAULT_RAM_BANDWIDTH,
            _lookup(NVIDIA_BANDWIDTH, gpu_name) or DEFAULT_NVIDIA_BANDWIDTH,
        )
    return DEFAULT_RAM_BANDWIDTH, 0


def metal_working_set(ram_total: int) -> int:
    """Approximate macOS's recommendedMaxWorkingSetSize for the GPU.

    Apple does not document it; llama.cpp prints it at load (about 70 % of RAM on 16 GB
    machines, about 75 % on large ones). This approximation is only used before a model is
    loaded, to plan.
    """
    fraction = 0.70 if ram_total <= 36 * GIB else 0.75
    return int(ram_total * fraction)


def compiled_backend() -> Backend:
    """The backend this build of llama.cpp offloads to (imports llama_cpp: slow first time)."""
    import llama_cpp  # noqa: PLC0415 - the native library loads only when asked

    if not llama_cpp.llama_supports_gpu_offload():
        return Backend.CPU
    return Backend.METAL if sys.platform == "darwin" else Backend.CUDA


def _nvidia_memory() -> tuple[str, int, int]:
    """(name, total, free) of the first NVIDIA GPU, or ("", 0, 0)."""
    tool = shutil.which("nvidia-smi")
    if not tool:
        return "", 0, 0
    try:
        out = subprocess.run(
            [tool, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        name, total, free = (part.strip() for part in out.splitlines()[0].split(","))
        return name, int(total) * 1024**2, int(free) * 1024**2
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return "", 0, 0


def _apple_chip() -> str:
    """The chip's marketing name ("Apple M2 Pro") via sysctlbyname, or "Apple GPU".

    Through ctypes rather than the sysctl program: the egress policy lets Hearth start no
    program but its own.
    """
    try:
        import ctypes  # noqa: PLC0415 - only on macOS

        libc = ctypes.CDLL(None)
        size = ctypes.c_size_t(256)
        buf = ctypes.create_string_buffer(size.value)
        if libc.sysctlbyname(b"machdep.cpu.brand_string", buf, ctypes.byref(size), None, 0):
            return "Apple GPU"
        return buf.value.decode("utf-8", "replace") or "Apple GPU"
    except (OSError, AttributeError, ValueError):
        return "Apple GPU"


def detect(backend: Backend | None = None) -> Hardware:
    """Describe this machine. ``backend`` skips asking llama.cpp (useful before it loads)."""
    backend = backend or compiled_backend()
    mem = psutil.virtual_memory()
    cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    gpu_name, gpu_total, gpu_free, unified = "", 0, 0, False
    if backend is Backend.CUDA:
        gpu_name, gpu_total, gpu_free = _nvidia_memory()
        if not gpu_free:
            backend = Backend.CPU  # built for CUDA but no usable GPU now
    elif backend is Backend.METAL:
        unified = True
        gpu_name = _apple_chip()
        gpu_total = metal_working_set(mem.total)
        gpu_free = min(gpu_total, mem.available)
    return Hardware(
        name=f"{platform.system()} {platform.machine()}",
        backend=backend,
        physical_cores=cores,
        ram_total=mem.total,
        ram_available=mem.available,
        gpu_name=gpu_name,
        gpu_total=gpu_total,
        gpu_free=gpu_free,
        unified_memory=unified,
    )
