"""Wall-time estimate of a full STgram-MFN schedule on one GPU, from counted per-step costs.

Per training clip we count, on PyTorch's ``meta`` device (shapes only, no arithmetic):

* FLOPs: the forward pass with ``torch.utils.flop_counter.FlopCounterMode``, times 3 for
  forward + backward (the backward of a layer costs about twice its forward; the
  counter's own backward figure for grouped convolutions counts every group as a full
  convolution and would overstate MobileFaceNet's depthwise layers about ninefold);
* memory traffic: the bytes of every tensor that a forward + backward pass writes
  (views excluded), times 2, since each is read back at least once.

The time per clip is the roofline bound ``max(FLOPs / peak FLOP/s, bytes / bandwidth)``
for fp32 and for bf16 (half the bytes), divided by an assumed achieved fraction of it
(``efficiency``). Defaults describe an NVIDIA H100 SXM5 (datasheet: 67 TFLOP/s FP32,
989 TFLOP/s dense BF16 tensor, 3.35 TB/s HBM3).
"""
from dataclasses import asdict, dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

from asd_lib.models import MODELS

BACKWARD_FACTOR = 3.0  # forward + backward = 3 x forward FLOPs


@dataclass(frozen=True)
class GpuSpec:
    """Peak throughputs of the GPU the estimate is for."""

    name: str = "H100 SXM5"
    fp32_tflops: float = 67.0
    bf16_tflops: float = 989.0
    bandwidth_tbs: float = 3.35
    efficiency: float = 0.25


@dataclass(frozen=True)
class Schedule:
    """The training run to estimate (DCASE 2020 STgram-MFN, public code's 300 epochs)."""

    clips: int = 40000
    epochs: int = 300
    batch_size: int = 128
    clip_sec: float = 10.0
    sample_rate: int = 16000


class _WrittenBytes(TorchDispatchMode):
    """Counts the bytes of every non-view tensor an operator returns."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not func.is_view:
            self.total += sum(t.numel() * t.element_size() for t in tree_leaves(out)
                              if isinstance(t, torch.Tensor))
        return out


def step_costs(num_samples: int, sample_rate: int, batch_size: int):
    """(FLOPs, bytes of memory traffic) per clip of an fp32 STgram-MFN training step."""
    model = MODELS.build("stgram_mfn", num_samples=num_samples, sample_rate=sample_rate)
    model = model.to("meta")
    wave = torch.empty(batch_size, num_samples, dtype=torch.int16, device="meta")
    counter = FlopCounterMode(display=False)
    with counter:
        model(wave)
    written = _WrittenBytes()
    with written:
        model(wave).square().sum().backward()
    return (BACKWARD_FACTOR * counter.get_total_flops() / batch_size,
            2.0 * written.total / batch_size)


def roofline(flops: float, traffic: float, schedule: Schedule, gpu: GpuSpec) -> dict:
    """Clips/s and hours of ``schedule`` for ``flops`` and ``traffic`` (bytes, fp32) per
    training clip: the roofline bound and the planning figure (bound x efficiency)."""
    total_clips = schedule.clips * schedule.epochs
    result = {}
    for precision, tflops, bytes_scale in (("fp32", gpu.fp32_tflops, 1.0),
                                           ("bf16", gpu.bf16_tflops, 0.5)):
        compute = flops / (tflops * 1e12)
        memory = bytes_scale * traffic / (gpu.bandwidth_tbs * 1e12)
        seconds = max(compute, memory)
        result[f"{precision}_limit"] = "memory" if memory >= compute else "compute"
        result[f"{precision}_bound_clips_per_s"] = 1.0 / seconds
        result[f"{precision}_bound_hours"] = total_clips * seconds / 3600.0
        result[f"{precision}_planning_clips_per_s"] = gpu.efficiency / seconds
        result[f"{precision}_planning_hours"] = total_clips * seconds / gpu.efficiency / 3600.0
    return result


def check_inputs(schedule: Schedule, gpu: GpuSpec) -> None:
    """ValueError for a non-positive size or throughput, or an efficiency above 1."""
    for name, value in list(asdict(schedule).items()) + list(asdict(gpu).items())[1:]:
        if value <= 0:
            raise ValueError(f"schedule estimate: {name}={value}; it must be positive")
    if gpu.efficiency > 1:
        raise ValueError(f"schedule estimate: efficiency={gpu.efficiency}; it is a fraction <= 1")


def estimate_schedule(schedule: Schedule = Schedule(), gpu: GpuSpec = GpuSpec()) -> dict:
    """Counted costs per clip and the :func:`roofline` figures of ``schedule`` on ``gpu``."""
    check_inputs(schedule, gpu)
    num_samples = int(round(schedule.clip_sec * schedule.sample_rate))
    flops, traffic = step_costs(num_samples, schedule.sample_rate, schedule.batch_size)
    return dict(schedule=asdict(schedule), gpu=asdict(gpu), gflop_per_clip=flops / 1e9,
                traffic_mb_per_clip=traffic / 1e6, **roofline(flops, traffic, schedule, gpu))
