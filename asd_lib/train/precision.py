"""Step options: mixed precision, memory layout and compilation.

``precision: bf16`` runs each step's forward pass and loss terms under ``torch.autocast``
with bfloat16: matrix products and convolutions run in bf16, precision-sensitive ops
(log, exp, softmax, norms, losses) stay fp32 by autocast's own lists, and weights,
gradients and optimiser state stay fp32. bf16 keeps fp32's exponent range, so unlike
fp16 it needs no loss scaling. Inference (stage 4) always runs in fp32, so the official
scores do not depend on how a model was trained.

``channels_last: true`` stores 4-D weights as NHWC and activations follow the weights.
cuDNN then picks its tensor-core convolution kernels without layout transposes, and on a
CPU oneDNN runs convolutions, batch norm and their gradients on NHWC without reordering
to its blocked layout and back at every layer (``make bench``, README "Performance", has
the measured gain).

``compile: true`` compiles the model with ``torch.compile`` (TorchInductor) in place, so
checkpoints keep their parameter names. The first step takes minutes to compile; the
README's Performance section says where it pays off.

bf16 is for CUDA; on a CPU it runs but is slower unless it has bf16 units.
"""
import torch
from torch import nn

PRECISIONS = ("fp32", "bf16")


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """The autocast context of one training step for ``precision`` (fp32: disabled)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; choose one of {PRECISIONS}")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def set_memory_format(module: nn.Module, channels_last: bool) -> nn.Module:
    """``module`` with its 4-D weights in channels-last layout when asked (in place)."""
    return module.to(memory_format=torch.channels_last) if channels_last else module


def compile_module(module: nn.Module, enabled: bool) -> nn.Module:
    """``module`` compiled in place with ``torch.compile`` when ``enabled``."""
    if enabled:
        module.compile()
    return module
