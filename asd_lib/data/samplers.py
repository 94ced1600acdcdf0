"""Batch samplers a training stage names (``sampler``, ``sampler_conf``).

A sampler is built as ``SAMPLERS.build(name, labels=..., batch_size=..., generator=...,
**sampler_conf)`` and yields lists of item indices, one list per batch; its order depends
only on ``generator`` (reseeded by the trainer every epoch), so resumed runs repeat it.
"""
import math
from typing import Iterator, List, Sequence

import torch

from asd_lib.utils.registry import Registry

SAMPLERS = Registry("sampler")


@SAMPLERS.register("random")
class RandomBatches:
    """A fresh random permutation of all items cut into batches (the last may be short)."""

    def __init__(self, labels: Sequence[int], batch_size: int, generator: torch.Generator,
                 drop_last: bool = False):
        self.num_items = len(labels)
        self.batch_size = batch_size
        self.generator = generator
        self.drop_last = drop_last

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_items // self.batch_size
        return math.ceil(self.num_items / self.batch_size)

    def __iter__(self) -> Iterator[List[int]]:
        order = torch.randperm(self.num_items, generator=self.generator).tolist()
        for b in range(len(self)):
            yield order[b * self.batch_size:(b + 1) * self.batch_size]


@SAMPLERS.register("class_balanced")
class ClassBalancedBatches:
    """Batches of exactly ``per_class`` items from every class (CLP-SCF, Guan et al.,
    ICASSP 2023: 6 clips of each of the 41 machine IDs, a batch of 246).

    Each class walks through its own random permutation, starting a new one when it runs
    out, so small classes repeat and no class is skipped. An epoch has as many batches as
    it takes the largest class to be seen once; ``batch_size`` is ignored (it is
    ``per_class x number of classes``).
    """

    def __init__(self, labels: Sequence[int], batch_size: int, generator: torch.Generator,
                 per_class: int = 6):
        if per_class < 1:
            raise ValueError(f"class_balanced sampler: per_class must be >= 1, got {per_class}")
        labels = torch.as_tensor(list(labels), dtype=torch.long)
        self.members = [torch.nonzero(labels == c).flatten() for c in torch.unique(labels)]
        self.per_class = per_class
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(max(len(m) for m in self.members) / self.per_class)

    def _stream(self, members: torch.Tensor) -> Iterator[int]:
        while True:
            yield from members[torch.randperm(len(members), generator=self.generator)].tolist()

    def __iter__(self) -> Iterator[List[int]]:
        streams = [self._stream(m) for m in self.members]
        for _ in range(len(self)):
            yield [next(s) for s in streams for _ in range(self.per_class)]
