"""The device a process computes on: the CPU, or its CUDA device."""
import torch

from asd_lib.utils.cpu import keep_freed_memory, usable_cores


def select_device(ngpu: int, num_threads: int = 0, world_size: int = 1, local_rank: int = 0,
                  distributed: bool = False) -> torch.device:
    """CPU for ``ngpu`` 0 (using ``num_threads`` threads, 0 = the cores this process may
    use (:func:`~asd_lib.utils.cpu.usable_cores`) shared among ``world_size`` processes,
    since path.sh sets OMP_NUM_THREADS=1 for the parallel data jobs; freed memory is kept
    for reuse, :func:`~asd_lib.utils.cpu.keep_freed_memory`), else the CUDA device of this
    process (one per process under torchrun, ``local_rank``)."""
    if ngpu == 0:
        keep_freed_memory()
        torch.set_num_threads(num_threads or max(1, usable_cores() // world_size))
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("--ngpu > 0 but CUDA is not available; use --ngpu 0 for the CPU")
    if ngpu > 1 and not distributed:
        raise RuntimeError(
            f"--ngpu {ngpu} needs one process per GPU: launch with "
            f"'torchrun --standalone --nproc_per_node {ngpu} -m asd_lib.bin.train ...' "
            "(asd.sh does this for --ngpu > 1)")
    return torch.device("cuda", local_rank)
