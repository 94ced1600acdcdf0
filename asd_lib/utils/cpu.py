"""What a CPU process may use, and how it should allocate memory.

``usable_cores`` is the number of cores this process may run on: its CPU affinity (what
``taskset``, ``numactl`` and Slurm's task binding set), capped by a cgroup CPU quota
(``docker --cpus``, Kubernetes limits, Slurm's cgroup plugin) and by Slurm's
``--cpus-per-task`` (``SLURM_CPUS_PER_TASK``). Torch defaults to every core of the
machine, so a job given 4 cores of a 64-core node would otherwise run 64 threads on 4
cores, and every parallel region would wait for threads that are not running.

``keep_freed_memory`` stops glibc's malloc from giving large blocks back to the kernel.
By default every block above 128 KiB to 32 MiB (a batch of activations is far larger) is
an ``mmap`` of its own and its ``free`` unmaps it, so the next step's allocation faults
in and zeroes every page again; a training or inference step at batch 32 page-faults
about a gigabyte per step that way. With mmap off and a high trim threshold the freed
blocks stay in the heap and are reused (``mallopt(3)``: ``M_MMAP_MAX``,
``M_TRIM_THRESHOLD``). The process then keeps its peak heap until it exits, which a
training or inference process does anyway.
"""
import ctypes
import math
import os
from pathlib import Path
from typing import Optional

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
TRIM_THRESHOLD = 1 << 30  # return free heap top to the kernel only beyond 1 GiB


def usable_cores(environ=os.environ, cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """Cores this process may use: affinity, capped by a cgroup quota and by Slurm's
    ``--cpus-per-task``; at least 1."""
    cores = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    slurm = environ.get("SLURM_CPUS_PER_TASK", "")
    if slurm.isdigit() and int(slurm) > 0:
        cores = min(cores, int(slurm))
    return max(1, cores)


def cgroup_cpu_quota(root: Path) -> Optional[float]:
    """CPUs' worth of time the cgroup quota allows (cgroup v2 ``cpu.max`` or v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``); None without a quota."""
    try:
        v2 = root / "cpu.max"
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        v1 = root / "cpu" / "cpu.cfs_quota_us"
        if v1.is_file():
            quota = int(v1.read_text())
            period = int((v1.parent / "cpu.cfs_period_us").read_text())
            return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None
    return None


def keep_freed_memory() -> bool:
    """Keep freed blocks in the heap for reuse (glibc only); True when it took effect."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs with
    except (OSError, AttributeError):
        return False  # not glibc (macOS, musl without mallopt): its allocator as it is
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
