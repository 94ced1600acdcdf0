"""The device a process computes on: the CPU, or its CUDA device."""
import os

import torch


def select_device(ngpu: int, num_threads: int = 0, world_size: int = 1, local_rank: int = 0,
                  distributed: bool = False) -> torch.device:
    """CPU for ``ngpu`` 0 (using ``num_threads`` threads, 0 = every core this process may
    use, shared among ``world_size`` processes, since path.sh sets OMP_NUM_THREADS=1 for the
    parallel data jobs), else the CUDA device of this process (one per process under
    torchrun, ``local_rank``)."""
    if ngpu == 0:
        cores = len(os.sched_getaffinity(0))
        torch.set_num_threads(num_threads or max(1, cores // world_size))
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("--ngpu > 0 but CUDA is not available; use --ngpu 0 for the CPU")
    if ngpu > 1 and not distributed:
        raise RuntimeError(
            f"--ngpu {ngpu} needs one process per GPU: launch with "
            f"'torchrun --standalone --nproc_per_node {ngpu} -m asd_lib.bin.train ...' "
            "(asd.sh does this for --ngpu > 1)")
    return torch.device("cuda", local_rank)
