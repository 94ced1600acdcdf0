"""Multi-process training with DistributedDataParallel, launched by torchrun.

``asd.sh --ngpu N`` (N > 1) starts ``torchrun --standalone --nproc_per_node N -m
asd_lib.bin.train ...``; each process trains on one GPU (NCCL), or on the CPU with gloo
when ``--ngpu 0`` is combined with a torchrun launch (how the tests run it).

Every process draws the same global batch from the epoch's sampler (same generator seed)
and keeps every ``world_size``-th item starting at its rank, so the union over processes is
exactly the single-process batch: an ID-balanced batch of CLP-SCF stays balanced over the
global batch. DDP averages the gradients, i.e. the per-process mean losses. Only rank 0
writes logs, checkpoints and history.
"""
import dataclasses
import logging
import os
from typing import Iterable, Iterator, List

import torch
import torch.distributed as dist


@dataclasses.dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(ngpu: int) -> DistContext:
    """Join the torchrun process group when launched by torchrun, else a one-process context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistContext()
    if ngpu not in (0, world_size):
        raise RuntimeError(f"torchrun started {world_size} processes but --ngpu is {ngpu}; "
                           "use --nproc_per_node equal to --ngpu (or --ngpu 0 on the CPU)")
    ctx = DistContext(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", 0)))
    if ngpu > 0:
        torch.cuda.set_device(ctx.local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if ngpu > 0 else "gloo")
    if not ctx.is_main:
        logging.getLogger().setLevel(logging.WARNING)
    return ctx


class ShardedBatches:
    """This rank's share of every global batch: items ``rank, rank + world, ...``.

    A final global batch with fewer items than processes is dropped, so that no process
    gets an empty batch.
    """

    def __init__(self, batches: Iterable[List[int]], ctx: DistContext):
        self.batches = batches
        self.ctx = ctx

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[List[int]]:
        for batch in self.batches:
            if len(batch) >= self.ctx.world_size:
                yield batch[self.ctx.rank::self.ctx.world_size]


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    if ctx.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def leave_distributed() -> None:
    """Once every process is done, leave the process group. A gloo group still open when
    the interpreter exits can abort its process ("terminate called without an active
    exception": its worker threads outlive the interpreter), which torchrun reports as a
    failed rank although training finished."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
