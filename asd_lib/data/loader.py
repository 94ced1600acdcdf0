"""The loader for training and inference: persistent reader threads, batches read straight
into page-locked memory, an order that depends only on the caller's generator.

Why threads rather than DataLoader worker processes: an item of a dump is a raw int16
array, so loading is a ``pread`` (which releases the GIL) and nothing else. Worker
processes would add, per batch, a fresh shared-memory segment (page faults and zeroing),
its hand-over to the main process (a file descriptor over a socket), a copy into
page-locked memory by the pinning thread, and the segment's release: about five times
the work of the read itself, much of it in the main process, which must also launch the
GPU kernels. Threads read each clip once, from the page cache into its row of a
page-locked batch tensor taken from PyTorch's caching host allocator, and the training
loop's ``tensor.to(device, non_blocking=True)`` copies it without blocking the host.

Build the loader once per stage and reuse it every epoch: the threads persist. Before
each epoch reseed the generator passed here (``generator.manual_seed(seed + epoch)``):
the batch sampler draws the epoch's order from it when the epoch's iterator is created,
and from nothing else (the global RNG is never touched), so a fresh loader (a resumed run)
and a reused one (an uninterrupted run) give the same batches, with any number of threads.
"""
import collections
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, List, Optional

import torch
from torch.utils.data import (
    BatchSampler,
    Dataset,
    RandomSampler,
    SequentialSampler,
    default_collate,
)
from torch.utils.data._utils.pin_memory import pin_memory as pin_batch

# Batches each reader thread keeps in flight (as DataLoader's prefetch_factor).
PREFETCH_FACTOR = 2


class BatchLoader:
    """Batches of ``dataset`` in the order of ``batch_sampler``, read by ``num_workers``
    persistent threads (0: in the iterating thread), ``PREFETCH_FACTOR`` per thread ahead.

    Each batch is ``dataset.read_batch(indices, pin_memory)`` when the dataset has it
    (:class:`~asd_lib.data.dataset.WaveformDataset`), else ``default_collate`` of its
    items, pinned when ``pin_memory``. Iterating yields what a DataLoader would.
    """

    def __init__(self, dataset: Dataset, batch_sampler: Iterable[List[int]], num_workers: int,
                 pin_memory: bool):
        self.dataset = dataset
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self._pool: Optional[ThreadPoolExecutor] = None

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self) -> "_Epoch":
        return _Epoch(self)

    def read(self, indices: List[int]):
        """One batch, read in the calling thread."""
        if hasattr(self.dataset, "read_batch"):
            return self.dataset.read_batch(indices, pin_memory=self.pin_memory)
        batch = default_collate([self.dataset[i] for i in indices])
        return pin_batch(batch) if self.pin_memory else batch

    def pool(self) -> ThreadPoolExecutor:
        """The reader threads, started on first use and kept until :meth:`close`."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="asd-reader")
        return self._pool

    def close(self) -> None:
        """Stop the reader threads (batches already queued are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __del__(self) -> None:
        self.close()


class _Epoch:
    """One pass over the batch sampler; creating it draws the whole order from the
    sampler and, with threads, queues the first batches."""

    def __init__(self, loader: BatchLoader):
        self.loader = loader
        self.batches = iter([list(indices) for indices in loader.batch_sampler])
        self.pending = collections.deque()
        for _ in range(PREFETCH_FACTOR * loader.num_workers):
            self._queue_next()

    def __iter__(self) -> "_Epoch":
        return self

    def __len__(self) -> int:
        return len(self.loader)

    def _queue_next(self) -> None:
        indices = next(self.batches, None)
        if indices is not None:
            self.pending.append(self.loader.pool().submit(self.loader.read, indices))

    def __next__(self):
        if not self.loader.num_workers:
            return self.loader.read(next(self.batches))
        if not self.pending:
            raise StopIteration
        batch = self.pending.popleft().result()
        self._queue_next()
        return batch


def make_loader(
    dataset: Dataset,
    batch_size: int = 1,
    shuffle: bool = False,
    generator: Optional[torch.Generator] = None,
    num_workers: int = 0,
    device=None,
    batch_sampler: Optional[Iterable[List[int]]] = None,
    drop_last: bool = False,
) -> BatchLoader:
    """A :class:`BatchLoader` over ``dataset`` for ``device`` (torch.device, string, None = CPU).

    Either ``batch_size`` / ``shuffle`` / ``drop_last`` describe the batches (shuffling
    needs ``generator``), or ``batch_sampler`` yields lists of indices (e.g. a class
    balanced sampler; it then owns any randomness). ``num_workers`` reader threads (0:
    read in the iterating thread); batches are page-locked on CUDA.
    """
    if num_workers < 0:
        raise ValueError(f"num_workers={num_workers}; use 0 (no threads) or more")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or drop_last:
            raise ValueError("make_loader: give either batch_sampler or batch_size/shuffle/"
                             "drop_last, not both")
    else:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}; it must be at least 1")
        if shuffle and generator is None:
            raise ValueError("make_loader: shuffle=True needs a torch.Generator so that the "
                             "order is reproducible (seed it before each epoch)")
        sampler = (RandomSampler(dataset, generator=generator) if shuffle
                   else SequentialSampler(dataset))
        batch_sampler = BatchSampler(sampler, batch_size, drop_last)
    device = torch.device(device if device is not None else "cpu")
    return BatchLoader(dataset, batch_sampler, num_workers,
                       pin_memory=device.type == "cuda" and torch.cuda.is_available())
