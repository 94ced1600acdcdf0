"""A trained model rearranged for inference: the same function, computed faster.

- Every Conv2d directly followed by its BatchNorm2d inside an ``nn.Sequential`` (the
  ConvBlock of MobileFaceNet, the convolution stacks of the other CNNs) becomes one Conv2d
  whose weights and bias absorb the frozen normalisation: ``w' = w * g / sqrt(v + eps)``,
  ``b' = (b - m) * g / sqrt(v + eps) + beta`` (eval mode only; Ioffe & Szegedy, 2015,
  Algorithm 2, whose inference transform is affine). One pass over each activation
  instead of two.
- Weights in channels-last (NHWC) layout, so that oneDNN on the CPU and cuDNN run the
  convolutions without reordering their input and output at every layer.
- A one-channel Conv1d whose kernel spans a whole number ``k`` of strides (TgramNet's
  waveform framing: kernel 1024, stride 512) becomes one matrix product over the padded
  waveform cut into stride-long chunks, ``P = chunks @ [W_1; ...; W_k]^T``, and the sum of
  ``k`` shifted slices of ``P`` (:class:`ChunkedFramingConv`): frame ``t`` is chunks
  ``t .. t+k-1``, so ``y_t = sum_j chunk_{t+j} W_j^T``. The arithmetic is the
  convolution's, in a shape the matrix-product kernel runs at full rate.
- A TgramNet computed with time as the leading axis, ``[B, frames, channels]``
  (:class:`TimeMajorTgram`): the framing product above already yields that layout, each
  LayerNorm over time becomes a reduction over the leading axis, and each 3-tap Conv1d one
  matrix product ``Q = Z [V_1 V_2 V_3]`` followed by the sum of three shifted slices,
  ``y_t = sum_j Q_{t+j-1, j}`` (zero beyond the ends, the convolution's padding). The
  channel-major map the backbone reads is formed once, at the end.
- Every mel filterbank (torchaudio's ``MelScale``, a product with the filterbank matrix
  ``[n_freq, n_mels]``) multiplies, for each group of 16 adjacent mel bands, only the
  frequency rows where one of them is non-zero (:class:`BandedMelScale`): a triangular
  filter covers a few bins, so the rows skipped hold zeros only. With the STgram settings
  (513 bins, 128 HTK bands) this is 13 % of the dense product's multiply-adds.
- On the CPU, the layers of a MobileFaceNet that work at half the input resolution (the
  stem and the first bottleneck) take the clips of a batch one at a time
  (:class:`OneClipAtATime`). Their activations are the model's largest, about 5 MB per
  10 s clip after the first expansion (128 x 64 x 157 floats), so a batch of 4 no longer
  fits the last-level cache between the 1x1 expansion and the depthwise convolution that
  reads it; one clip does. The later layers, on maps 16 times smaller, keep the batch.
- With ``compile: true`` in the inference configuration, the model compiled by
  ``torch.compile`` with its weights frozen as constants (TorchInductor's ``freezing``),
  which fuses the element-wise layers (PReLU, residual additions) into fewer passes and
  lets oneDNN pre-pack the convolution weights; on the CPU, with a C++ wrapper
  (``cpp_wrapper``) that calls the kernels without a Python call per layer. Compilation
  happens at the first batch of each shape.

Embeddings change by float rounding only (a test holds them to 1e-4 against the model as
trained).
"""
import warnings
from typing import Callable

import torch
import torch._inductor.config as inductor_config
import torch.nn.functional as F
import torchaudio
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from asd_lib.frontends.mel import to_float_waveform
from asd_lib.frontends.tgram import TgramNet, check_waveforms
from asd_lib.models.mobilefacenet import MobileFaceNet


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


class ChunkedFramingConv(nn.Module):
    """A one-channel ``nn.Conv1d`` (zero padding, no dilation, kernel = k x stride) as one
    matrix product over stride-long chunks of the padded input (module docstring)."""

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        if not is_chunkable(conv):
            raise ValueError(f"{conv} is not a one-channel framing convolution")
        self.stride, self.padding = conv.stride[0], conv.padding[0]
        self.parts = conv.kernel_size[0] // self.stride
        weight = conv.weight.detach()[:, 0]  # [C, k * stride]
        self.register_buffer("chunk_weights", torch.cat(weight.split(self.stride, dim=1)).T
                             .contiguous())  # [stride, k * C]: W_1 .. W_k side by side
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.time_major(x).transpose(1, 2)

    def time_major(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution of ``x`` ``[B, 1, L]`` as ``[B, frames, C]``."""
        padded = F.pad(x[:, 0], (self.padding, self.padding))
        frames = (padded.shape[1] - self.parts * self.stride) // self.stride + 1
        chunks = padded[:, :(frames + self.parts - 1) * self.stride].unflatten(1, (-1, self.stride))
        products = chunks @ self.chunk_weights  # [B, frames + k - 1, k * C]
        out = shifted_sum(products, self.parts, frames)
        return out if self.bias is None else out + self.bias


def shifted_sum(products: torch.Tensor, parts: int, frames: int) -> torch.Tensor:
    """``y_t = sum_j P[t + j, j-th block of columns]`` for ``t < frames``, the ``parts``
    blocks of ``products`` ``[B, rows, parts * C]`` side by side."""
    c = products.shape[2] // parts
    return sum(products[:, j:j + frames, j * c:(j + 1) * c] for j in range(parts))


class TimeMajorTgram(nn.Module):
    """A :class:`~asd_lib.frontends.tgram.TgramNet` computed time-major (module docstring):
    waveform ``[B, num_samples]`` -> Tgram ``[B, channels, frames]``."""

    def __init__(self, tgram: TgramNet):
        super().__init__()
        self.num_samples = tgram.num_samples
        self.framing = ChunkedFramingConv(tgram.extractor)
        self.eps, self.slopes, self.kernel_sizes = [], [], []
        for i, (norm, activation, conv) in enumerate(tgram.encoder):
            self.eps.append(norm.eps)
            self.slopes.append(activation.negative_slope)
            self.kernel_sizes.append(conv.kernel_size[0])
            # LayerNorm weights over time as columns [frames, 1]; kernel taps side by side
            self.register_buffer(f"norm_weight{i}", norm.weight.detach()[:, None].clone())
            self.register_buffer(f"norm_bias{i}", norm.bias.detach()[:, None].clone())
            self.register_buffer(f"taps{i}", conv.weight.detach().permute(1, 2, 0)
                                 .flatten(1).contiguous())  # [C_in, k * C_out]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        check_waveforms(wave, self.num_samples)
        y = self.framing.time_major(to_float_waveform(wave).unsqueeze(1))  # [B, T, C]
        frames = y.shape[1]
        for i, (eps, slope, k) in enumerate(zip(self.eps, self.slopes, self.kernel_sizes)):
            var, mean = torch.var_mean(y, dim=1, keepdim=True, unbiased=False)
            z = (y - mean) * torch.rsqrt(var + eps) * getattr(self, f"norm_weight{i}") \
                + getattr(self, f"norm_bias{i}")
            products = F.leaky_relu(z, slope) @ getattr(self, f"taps{i}")  # [B, T, k * C]
            pad = k // 2
            y = shifted_sum(F.pad(products, (0, 0, pad, pad)), k, frames)
        return y.transpose(1, 2)


def is_time_major_ready(module: nn.Module) -> bool:
    """Whether ``module`` is a TgramNet that :class:`TimeMajorTgram` computes: a chunkable
    framing convolution and blocks of (LayerNorm, LeakyReLU, odd-kernel "same" Conv1d
    without bias)."""
    if not isinstance(module, TgramNet) or not is_chunkable(module.extractor):
        return False
    for block in module.encoder:
        norm, activation, conv = block
        if not (isinstance(norm, nn.LayerNorm) and norm.weight is not None
                and norm.bias is not None and isinstance(activation, nn.LeakyReLU)
                and isinstance(conv, nn.Conv1d)):
            return False
        k = conv.kernel_size[0]
        if (k % 2 == 0 or conv.padding != (k // 2,) or conv.stride != (1,) or conv.bias is not None
                or conv.groups != 1 or conv.dilation != (1,) or conv.padding_mode != "zeros"):
            return False
    return True


def time_major_tgrams(model: nn.Module) -> int:
    """Replace every TgramNet of ``model`` that :class:`TimeMajorTgram` computes by it, in
    place; the number replaced."""
    return replace_modules(model, is_time_major_ready, TimeMajorTgram)


def is_chunkable(conv: nn.Module) -> bool:
    """Whether ``conv`` is a Conv1d that :class:`ChunkedFramingConv` computes."""
    return (isinstance(conv, nn.Conv1d) and conv.in_channels == 1 and conv.groups == 1
            and conv.dilation == (1,) and conv.padding_mode == "zeros"
            and isinstance(conv.padding, tuple) and conv.stride[0] > 1
            and conv.kernel_size[0] % conv.stride[0] == 0)


def replace_modules(model: nn.Module, matches: Callable[[nn.Module], bool],
                    rebuild: Callable[[nn.Module], nn.Module]) -> int:
    """Replace every submodule of ``model`` for which ``matches`` holds by ``rebuild`` of
    it, in place; the number replaced."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if matches(child):
                setattr(parent, name, rebuild(child))
                replaced += 1
    return replaced


def chunk_framing_convs(model: nn.Module) -> int:
    """Replace every chunkable Conv1d of ``model`` by its :class:`ChunkedFramingConv`, in
    place; the number replaced."""
    return replace_modules(model, is_chunkable, ChunkedFramingConv)


class BandedMelScale(nn.Module):
    """torchaudio's ``MelScale`` as one product per group of ``bands_per_group`` adjacent
    mel bands over the frequency rows the group's filters touch (module docstring):
    ``[..., n_freq, frames]`` -> ``[..., n_mels, frames]``."""

    def __init__(self, mel_scale: torchaudio.transforms.MelScale, bands_per_group: int = 16):
        super().__init__()
        filterbank = mel_scale.fb.detach()  # [n_freq, n_mels]
        self.rows = []
        for i, start in enumerate(range(0, filterbank.shape[1], bands_per_group)):
            group = filterbank[:, start:start + bands_per_group]
            touched = group.ne(0).any(dim=1).nonzero()[:, 0].tolist() or [0]  # all-zero filters
            first, last = touched[0], touched[-1] + 1
            self.rows.append((first, last))
            self.register_buffer(f"group{i}", group[first:last].contiguous())

    def forward(self, spectrogram: torch.Tensor) -> torch.Tensor:
        power = spectrogram.transpose(-1, -2)  # [..., frames, n_freq]
        parts = [power[..., first:last] @ getattr(self, f"group{i}")
                 for i, (first, last) in enumerate(self.rows)]
        return torch.cat(parts, dim=-1).transpose(-1, -2)


def band_mel_filterbanks(model: nn.Module) -> int:
    """Replace every torchaudio ``MelScale`` of ``model`` by its :class:`BandedMelScale`,
    in place; the number replaced."""
    return replace_modules(model, lambda m: isinstance(m, torchaudio.transforms.MelScale),
                           BandedMelScale)


class OneClipAtATime(nn.Module):
    """``module`` applied to each clip of the batch in turn, the outputs stacked again."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.module(clip) for clip in x.split(1)])


def split_high_resolution_layers(model: nn.Module) -> int:
    """Run the stem and first bottleneck of every MobileFaceNet in ``model`` one clip at a
    time (in place); the number of backbones changed."""
    backbones = [m for m in model.modules() if isinstance(m, MobileFaceNet)]
    for backbone in backbones:
        backbone.stem = OneClipAtATime(nn.Sequential(backbone.stem, backbone.blocks[0]))
        backbone.blocks[0] = nn.Identity()
    return len(backbones)


def for_inference(model: nn.Module, compile_model: bool = False) -> nn.Module:
    """``model`` (in eval mode) with its batch norms folded, its TgramNets time-major, its
    framing convolutions as matrix products, banded mel filterbanks, channels-last
    weights, its high-resolution layers one clip at a time on the CPU, compiled in place
    when ``compile_model``."""
    fold_batch_norms(model)
    time_major_tgrams(model)
    chunk_framing_convs(model)
    band_mel_filterbanks(model)
    model.to(memory_format=torch.channels_last)
    on_cpu = all(t.device.type == "cpu" for t in [*model.parameters(), *model.buffers()])
    if on_cpu:
        split_high_resolution_layers(model)
    if compile_model:
        # The log-mel STFT is complex: inductor hands it to ATen's FFT, as eager does.
        warnings.filterwarnings("ignore", message="Torchinductor does not support code "
                                "generation for complex operators")
        inductor_config.freezing = True  # this process only infers: weights are constants
        model.compile(dynamic=False, options={"cpp_wrapper": on_cpu})
    return model
