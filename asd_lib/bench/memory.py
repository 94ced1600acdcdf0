"""Peak resident memory of one training epoch, measured in a fresh process.

A fresh (``spawn``) process per measurement, so nothing from earlier measurements
counts; it sets up the CPU as training does (:func:`~asd_lib.utils.device.select_device`:
threads, freed memory kept for reuse). The peak is the kernel's high-water mark ``VmHWM``
(``/proc/self/status``, Linux) of the training process, loader threads included. Not
``getrusage``: Linux carries ``ru_maxrss`` across ``fork`` + ``exec``, so a spawned process
would report at least its parent's size at the time of the spawn.
"""
import multiprocessing
from dataclasses import dataclass
from typing import List, Sequence

import torch

from asd_lib.bench.steps import build_setup, run_epoch
from asd_lib.data.dataset import WaveformDataset
from asd_lib.data.loader import make_loader
from asd_lib.utils.device import select_device


@dataclass(frozen=True)
class EpochSpec:
    """What the measured epoch trains on and how."""

    locations: List[str]
    labels: List[int]
    num_classes: int
    num_samples: int
    sample_rate: int
    batch_size: int
    num_workers: int
    device: str
    num_threads: int
    seed: int = 0


def vm_hwm_mib() -> float:
    """Peak resident set size of this process in MiB (``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("/proc/self/status has no VmHWM line; peak memory needs Linux")


def _train_one_epoch(spec: EpochSpec, conn) -> None:
    """Child process body: one training epoch, then send the peak back over ``conn``."""
    try:
        device = select_device(0, spec.num_threads) if spec.device == "cpu" \
            else torch.device(spec.device)
        setup = build_setup(spec.num_samples, spec.sample_rate, spec.num_classes, device,
                            spec.seed)
        loader = make_loader(WaveformDataset(spec.locations, spec.labels), spec.batch_size,
                             shuffle=True, generator=torch.Generator().manual_seed(spec.seed),
                             num_workers=spec.num_workers, device=device, drop_last=True)
        run_epoch(setup, loader)
        conn.send(vm_hwm_mib())
    except Exception as err:  # reported by the parent; the child has no other channel
        conn.send(err)
    finally:
        conn.close()


def epoch_peak_rss(specs: Sequence[EpochSpec]) -> List[float]:
    """Peak RSS (MiB) of one training epoch per spec, each in its own fresh process; the
    processes run side by side (their peaks are their own, and the wait for their
    interpreters to start overlaps)."""
    context = multiprocessing.get_context("spawn")
    started = []
    for spec in specs:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_train_one_epoch, args=(spec, sender))
        process.start()
        sender.close()
        started.append((process, receiver))
    results = []
    for process, receiver in started:
        try:
            result = receiver.recv()
        except EOFError:
            result = RuntimeError(f"the memory measurement process {process.pid} died")
        process.join()
        results.append(result)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results
