"""Timing helpers: device synchronisation and interleaved, repeated rate measurements.

Other processes share the machine, so a rate measured once is noisy and two rates
measured one after the other see different loads. :func:`interleaved_rates` runs the
compared variants alternately (A B, B A, A B, ...) and keeps every repeat's rate, so a
slow phase of the machine hits both variants alike, and the i-th repeats of two variants
make a pair whose ratio is one sample of the compared ratio (min, median and max over the
repeats are what the table reports).
"""
import contextlib
import logging
import statistics
import time
from typing import Callable, Dict, List, Mapping

import torch


def synchronize(device: torch.device) -> None:
    """Wait for queued device work (CUDA kernels run asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_rates(variants: Mapping[str, Callable[[], int]],
                      repeats: int) -> Dict[str, List[float]]:
    """Items/s of each variant in every repeat; a variant runs once per repeat and returns
    the number of items it processed (it must synchronise the device before returning)."""
    if repeats < 1:
        raise ValueError(f"repeats={repeats}; it must be at least 1")
    rates: Dict[str, List[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            start = time.perf_counter()
            count = variants[name]()
            rates[name].append(count / (time.perf_counter() - start))
    for name, values in rates.items():
        logging.debug("%s: %s items/s", name, ", ".join(f"{v:.1f}" for v in values))
    return rates


def median(values: List[float]) -> float:
    """The median of one variant's repeats."""
    return statistics.median(values)


def for_at_least(seconds: float, run_once: Callable[[], int]) -> Callable[[], int]:
    """A variant that calls ``run_once`` (e.g. one epoch) until ``seconds`` have passed."""
    def run() -> int:
        start, count = time.perf_counter(), 0
        while True:
            count += run_once()
            if time.perf_counter() - start >= seconds:
                return count
    return run


@contextlib.contextmanager
def quiet_logging(level: int = logging.WARNING):
    """Silence log records below ``level`` (e.g. a library's per-call INFO line)."""
    previous = logging.root.manager.disable
    logging.disable(level - 1)
    try:
        yield
    finally:
        logging.disable(previous)
