"""Cores and thread limits: how many workers to start and how to keep each to its share.

Thread limits must be set before numpy/OpenBLAS and MediaPipe load, or each of N
workers would start one thread per core and N workers on N cores would fight over them.
"""

from __future__ import annotations

import os

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap the numeric libraries at ``threads`` threads each."""
    return {name: str(threads) for name in THREAD_ENV_VARS}


def die_with_parent() -> None:
    """Linux: get SIGKILL when the parent process dies, so a killed run leaves no orphan workers."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def available_cores() -> list[int]:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def default_workers() -> int:
    return len(available_cores())
