"""What this machine offers a model: backend, memory, cores.

Detection is best effort and never raises: an unknown figure becomes a conservative one.
"""

from __future__ import annotations

import os
import platform
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
    it is the GPU's working-set limit, carved out of the same RAM.
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

    @property
    def has_gpu(self) -> bool:
        return self.backend is not Backend.CPU and self.gpu_free > 0


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
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
        name, total, free = (part.strip() for part in out.splitlines()[0].split(","))
        return name, int(total) * 1024**2, int(free) * 1024**2
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return "", 0, 0


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
        gpu_name = "Apple GPU"
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
