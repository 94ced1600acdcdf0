"""A training epoch beside competing CPU-bound processes, against the same epoch alone.

A shared node or a laptop runs other work beside training. A fair scheduler gives every
runnable thread the same share of the cores, so a process with ``T`` threads on ``C``
cores beside ``K`` single-threaded competitors gets ``C * T / (T + K)`` cores' worth of
time where alone it had ``min(T, C)``: its fair slowdown is the ratio of the two. It can
be far slower than that when its threads spin at the barrier of every parallel region
waiting for a sibling the scheduler has parked: the spinning burns its share. The
benchmark reports the measured slowdown over the fair one.
"""
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Callable, Dict, List

from asd_lib.bench.timing import interleaved_rates

# A competitor: a busy loop that ends by itself after ``limit`` seconds, so no competitor
# outlives the benchmark even if the benchmark is killed.
BUSY_LOOP = ("import sys, time\nend = time.time() + float(sys.argv[1])\n"
             "while time.time() < end: pass")


@contextmanager
def competitors(count: int, limit_sec: float):
    """``count`` CPU-bound processes running for at most ``limit_sec`` seconds."""
    processes = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP, str(limit_sec)])
                 for _ in range(count)]
    try:
        time.sleep(0.2)  # let them start spinning
        yield processes
    finally:
        for p in processes:
            p.kill()
        for p in processes:
            p.wait()


def fair_slowdown(threads: int, cores: int, competing: int) -> float:
    """The slowdown of a ``threads``-thread process on ``cores`` cores beside ``competing``
    single-threaded CPU-bound processes under a fair scheduler."""
    alone = min(threads, cores)
    runnable = threads + competing
    shared = cores * threads / runnable if runnable > cores else alone
    return alone / min(alone, shared)


def contention_rates(epoch: Callable[[], int], competing: int, repeats: int,
                     limit_sec: float = 600.0) -> Dict[str, List[float]]:
    """Items/s of ``epoch`` alone and beside ``competing`` busy processes, interleaved."""
    def beside() -> int:
        with competitors(competing, limit_sec):
            return epoch()
    return interleaved_rates({"alone": epoch, "beside": beside}, repeats)
