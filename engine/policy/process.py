"""What the process itself promises before anything else runs: no core dumps.

A core dump is a copy of the process's memory written to disk in the clear — the database key,
the conversation on screen, the last prompt. ``RLIMIT_CORE`` 0 stops the kernel writing a
``core`` file; ``PR_SET_DUMPABLE`` 0 (Linux) also stops a crash handler that pipes dumps
elsewhere (systemd-coredump, apport) and stops other processes of the same user from
attaching to Hearth or reading its memory through /proc. Both hold for the process's life;
children started by ``exec`` get the rlimit.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4


def forbid_core_dumps() -> None:
    """Turn core dumps off for this process (best effort where the OS has no such knob)."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource  # noqa: PLC0415 - POSIX only

        # The soft limit is what the kernel obeys; the hard one is left as it was, so that a
        # program Hearth starts (a test's control process) may choose otherwise for itself.
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    if sys.platform.startswith("linux"):
        _prctl(PR_SET_DUMPABLE, 0)


def dumpable() -> bool | None:
    """Whether the kernel would dump this process's memory (Linux; None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    return bool(_prctl(PR_GET_DUMPABLE, 0))


def _prctl(option: int, value: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)  # the C library this Python already loaded
    return int(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0))
