"""A trained model rearranged for inference: the same function, computed faster.

- Every Conv2d directly followed by its BatchNorm2d inside an ``nn.Sequential`` (the
  ConvBlock of MobileFaceNet, the convolution stacks of the other CNNs) becomes one Conv2d
  whose weights and bias absorb the frozen normalisation: ``w' = w * g / sqrt(v + eps)``,
  ``b' = (b - m) * g / sqrt(v + eps) + beta`` (eval mode only; Ioffe & Szegedy, 2015,
  Algorithm 2, whose inference transform is affine). One pass over each activation
  instead of two.
- Weights in channels-last (NHWC) layout, so that oneDNN on the CPU and cuDNN run the
  convolutions without reordering their input and output at every layer.
- With ``compile: true`` in the inference configuration, the model compiled by
  ``torch.compile`` with its weights frozen as constants (TorchInductor's ``freezing``),
  which fuses the element-wise layers (PReLU, residual additions) into fewer passes and
  lets oneDNN pre-pack the convolution weights. Compilation happens at the first batch of
  each shape.

Scores change by float rounding only (a test holds them to 1e-5 against the model as
trained).
"""
import torch
import torch._inductor.config as inductor_config
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batch_norms(model: nn.Module) -> int:
    """Fold every (Conv2d, BatchNorm2d) pair of consecutive ``nn.Sequential`` members into
    the convolution, in place (the BatchNorm becomes an Identity); the number folded."""
    if model.training:
        raise ValueError("folding batch norms needs a model in eval mode (frozen statistics)")
    folded = 0
    for module in model.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            conv, norm = module[i], module[i + 1]
            if (isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d)
                    and norm.track_running_stats and conv.out_channels == norm.num_features):
                module[i] = fuse_conv_bn_eval(conv, norm)
                module[i + 1] = nn.Identity()
                folded += 1
    return folded


def for_inference(model: nn.Module, compile_model: bool = False) -> nn.Module:
    """``model`` (in eval mode) with its batch norms folded and channels-last weights,
    compiled in place when ``compile_model``."""
    fold_batch_norms(model)
    model.to(memory_format=torch.channels_last)
    if compile_model:
        inductor_config.freezing = True  # this process only infers: weights are constants
        model.compile(dynamic=False)
    return model
