"""Training and inference steps of STgram-MFN as the trainer runs them, and their rates.

The training step is the trainer's (``asd_lib.train.trainer``): a :class:`Step` through
STgram-MFN (Liu et al., ICASSP 2022), the ArcFace head with margin cross-entropy (m 0.7,
s 30), Adam, and the running loss / sample count kept on the device.
"""
import copy
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from asd_lib.bench.timing import interleaved_rates, synchronize
from asd_lib.data.step import Step, forward
from asd_lib.inference.fast_model import for_inference
from asd_lib.losses import HEADS
from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.models import MODELS
from asd_lib.train.precision import autocast, set_memory_format

Batch = Tuple[torch.Tensor, torch.Tensor]
Rates = Dict[str, List[float]]  # items/s of each variant, one per repeat


@dataclass
class TrainSetup:
    """Model, head, objective and optimiser on one device, with the step's options."""

    model: nn.Module
    head: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    bf16: bool = False

    def __post_init__(self):
        self.objective = OBJECTIVES.build("margin_cross_entropy")
        self.totals = torch.zeros(2, dtype=torch.float64, device=self.device)  # loss, count

    def step(self, wave: torch.Tensor, label: torch.Tensor) -> int:
        """One optimiser step on a batch (moved to the device without blocking)."""
        step = Step(wave.to(self.device, non_blocking=True),
                    label.to(self.device, non_blocking=True))
        with autocast(self.device, "bf16" if self.bf16 else "fp32"):
            forward(self.model, step)
            loss, _ = self.objective(step, self.head)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.totals[0] += loss.detach() * len(step.labels)
        self.totals[1] += len(step.labels)
        return len(step.labels)


def build_setup(num_samples: int, sample_rate: int, num_classes: int, device: torch.device,
                seed: int = 0) -> TrainSetup:
    """STgram-MFN (paper table, 128-d) + ArcFace + Adam 1e-4, as conf/train_stgram_mfn.yaml."""
    torch.manual_seed(seed)
    model = MODELS.build("stgram_mfn", num_samples=num_samples, sample_rate=sample_rate).to(device)
    head = HEADS.build("arcface", embedding_dim=model.embedding_dim, num_classes=num_classes,
                       margin=0.7, scale=30.0).to(device)
    params = list(model.parameters()) + list(head.parameters())
    return TrainSetup(model, head, torch.optim.Adam(params, lr=1e-4), device)


def bf16_channels_last(setup: TrainSetup) -> TrainSetup:
    """A copy of ``setup`` whose step runs under bf16 autocast with channels-last weights."""
    model = set_memory_format(copy.deepcopy(setup.model), channels_last=True)
    head = copy.deepcopy(setup.head)
    params = list(model.parameters()) + list(head.parameters())
    lr = setup.optimizer.param_groups[0]["lr"]
    return TrainSetup(model, head, torch.optim.Adam(params, lr=lr), setup.device, bf16=True)


def run_epoch(setup: TrainSetup, batches) -> int:
    """Train on every batch of ``batches`` (a loader or a list); samples processed."""
    setup.model.train()
    setup.head.train()
    count = sum(setup.step(batch[0], batch[1]) for batch in batches)
    synchronize(setup.device)
    return count


def resident_batches(loader, device: torch.device) -> List[Batch]:
    """One epoch of the loader's batches, already on the device."""
    return [(wave.to(device), label.to(device)) for wave, label, _ in loader]


def train_rates(setup: TrainSetup, loader, batches: List[Batch], repeats: int) -> Rates:
    """Samples/s of whole epochs fed by ``loader`` (``loader``) and of the same steps on
    ``batches``, one epoch of that loader already on the device (``model_only``),
    interleaved. Each loader epoch is timed from the creation of its iterator, so the
    wait for its first batches counts."""
    run_epoch(setup, batches[:1])  # warm-up: allocator, kernel selection
    return interleaved_rates({"loader": lambda: run_epoch(setup, loader),
                              "model_only": lambda: run_epoch(setup, batches)}, repeats)


def precision_rates(setup: TrainSetup, batches: List[Batch], repeats: int) -> Rates:
    """Samples/s of the model-only step in fp32 and with bf16 autocast + channels-last."""
    fast = bf16_channels_last(setup)
    run_epoch(fast, batches[:1])
    return interleaved_rates({"fp32": lambda: run_epoch(setup, batches),
                              "bf16": lambda: run_epoch(fast, batches)}, repeats)


@torch.no_grad()
def infer(setup: TrainSetup, waves: torch.Tensor, labels: torch.Tensor, batch_size: int) -> int:
    """Embeddings and margin logits of every clip in batches of ``batch_size``; clips done."""
    setup.model.eval()
    setup.head.eval()
    for start in range(0, waves.shape[0], batch_size):
        stop = start + batch_size
        setup.head(setup.model(waves[start:stop]), labels[start:stop])
    synchronize(setup.device)
    return waves.shape[0]


def inference_setup(setup: TrainSetup, compile_model: bool) -> TrainSetup:
    """A copy of ``setup`` whose model is in eval mode and rearranged as stage 4 does
    (:func:`~asd_lib.inference.fast_model.for_inference`; ``compile: true``)."""
    model = for_inference(copy.deepcopy(setup.model).eval(), compile_model)
    return TrainSetup(model, setup.head, setup.optimizer, setup.device)


def inference_rates(setup: TrainSetup, batches: List[Batch], batch_size: int, repeats: int,
                    compile_model: bool) -> Rates:
    """Clips/s of stage 4's inference in batches of ``batch_size`` (``batched``: folded,
    channels-last, compiled when ``compile_model``) and of the trained model one clip at
    a time (``single``, eager, as the papers' code scores), over the same clips, on the
    device, in eval mode without gradients; with the device's matmul FLOP/s (``peak``,
    :func:`matmuls`) in the same rounds, so that the ceiling on their ratio is measured
    in the state the device was in for them. Clips beyond the last whole batch are left
    out, so the compiled model sees one shape."""
    setup.model.eval()
    stage4 = inference_setup(setup, compile_model)
    waves = torch.cat([w for w, _ in batches])
    labels = torch.cat([lab for _, lab in batches])
    whole = waves.shape[0] // batch_size * batch_size
    waves, labels = waves[:whole], labels[:whole]
    infer(stage4, waves[:batch_size], labels[:batch_size], batch_size)  # warm-up, compile
    infer(setup, waves[:1], labels[:1], 1)
    peak = matmuls(setup.device)
    peak()
    # Batched in the middle of every round: beside both rates it is compared with.
    return interleaved_rates({"single": lambda: infer(setup, waves, labels, 1),
                              "batched": lambda: infer(stage4, waves, labels, batch_size),
                              "peak": peak}, repeats)


def inference_flops(setup: TrainSetup, batches: List[Batch]) -> int:
    """FLOPs of one clip's inference (model and head), counted by ``FlopCounterMode``."""
    wave, label = batches[0]
    with FlopCounterMode(display=False) as counter:
        infer(setup, wave[:1], label[:1], 1)
    return counter.get_total_flops()


def matmuls(device: torch.device) -> Callable[[], int]:
    """A run of fp32 square matmuls, large enough to run at the device's practical peak
    (no batch size can make inference do its arithmetic faster); it returns the FLOPs
    done, so that timing it gives FLOP/s."""
    size, count = (8192, 20) if device.type == "cuda" else (2048, 2)
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)

    def run() -> int:
        for _ in range(count):
            torch.mm(a, b)
        synchronize(device)
        return 2 * size ** 3 * count
    return run
