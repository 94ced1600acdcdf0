"""Two-branch embedding model of Wilkinghoff's self-supervised ASD system.

Wilkinghoff, "Self-supervised learning for anomalous sound detection", ICASSP 2024
(public code wilkinghoff/ssl4asd ``model_emb_cnn``, also
wilkinghoff/dcase2024_task2). The raw (mixup-blended) waveform feeds two branches whose
``branch_dim``-d embeddings (128) are concatenated:

* FFT branch: magnitude of the FFT of the whole clip (the first T / 2 bins), then
  Conv1d(128, kernel 256, stride 64), Conv1d(128, 64, 32), Conv1d(128, 16, 4), each with
  Keras 'same' padding and ReLU, flattened, 4 x [Dense(128), BN, ReLU], Dense(128).
* Spectrogram branch: STFT magnitude (Hann window 1024, hop 512, no centring: 374 frames
  x 513 bins for 12 s at 16 kHz), minus its mean over time, batch-normalised per
  frequency bin, then a ResNet on [time, frequency]: Conv2d(16, 7x7, stride 2), BN,
  ReLU, max-pool 3 stride 2; four stages of two pre-activation residual blocks with 16,
  32, 64, 128 channels (stages 2-4 halve both axes; their shortcut is 2x2 max-pooling
  and a 1x1 convolution); max over time, flatten (frequency x channels), BN,
  Dense(128).

All convolutions and dense layers are bias-free, as in the code. The residual blocks
are the code's layout in one uniform form: every block batch-normalises its input x, the
branch is conv3x3(ReLU(BN(conv3x3(ReLU(x))))) and the shortcut starts from the
normalised x (the code skips that first BN in the very first block and swaps one
ReLU/BN pair). The code pools 18 frames over time, which covers all 12 remaining frames
of a 12 s clip; here the pooling is a global max over time for any length.

Options for System-3 of Tian et al. (DCASE 2024 Task 2 technical report, Sec. 2.2):
``freq_attention`` puts :class:`~asd_lib.models.freq_attention.FrequencyAttention` on
the normalised spectrogram; ``attribute_text: {dim, buckets}`` appends the embedding of
the clip's attribute text (:mod:`asd_lib.models.attr_text`), passed as
``attributes=[...]`` (one descriptive text per clip, :func:`asd_lib.models.attr_text.describe`;
the model then declares ``conditioning = "attribute_text"``, :mod:`asd_lib.models.traits`,
and inference scores a test clip with every text of its section). Without ``attributes``
the text part is zero (no attribute information), with a warning in training.

``forward(wave, mix=None, attributes=None) -> {"embedding": cat(parts), "parts":
[e_fft, e_spec(, e_text)]}``; the parts feed the feature-exchange loss.
"""
import logging
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from asd_lib.frontends.mel import to_float_waveform
from asd_lib.models.attr_text import AttributeTextEmbedding
from asd_lib.models.freq_attention import FrequencyAttention
from asd_lib.models.registry import MODELS

logger = logging.getLogger(__name__)

FFT_CONVS = ((128, 256, 64), (128, 64, 32), (128, 16, 4))  # (channels, kernel, stride)
RESNET_CHANNELS = (16, 32, 64, 128)


def pad_same(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Keras 'same' padding of the last axis: ``ceil(L / stride)`` outputs, the extra
    padding sample (if the total is odd) on the right."""
    length = x.shape[-1]
    total = max((math.ceil(length / stride) - 1) * stride + kernel - length, 0)
    return F.pad(x, (total // 2, total - total // 2))


def dense_bn_relu(in_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, out_dim, bias=False), nn.BatchNorm1d(out_dim), nn.ReLU())


class FFTBranch(nn.Module):
    """Waveform ``[B, T]`` -> embedding of the clip's FFT magnitude ``[B, dim]``."""

    def __init__(self, num_samples: int, dim: int, convs: Sequence[Sequence[int]],
                 dense_layers: int = 4):
        super().__init__()
        self.specs = [tuple(int(v) for v in spec) for spec in convs]
        if not self.specs or any(len(spec) != 3 for spec in self.specs):
            raise ValueError(f"ssl_two_branch: fft_convs must be [channels, kernel, stride] "
                             f"triples, got {convs!r}")
        layers, channels, length = [], 1, num_samples // 2
        for out_channels, kernel, stride in self.specs:
            layers.append(nn.Conv1d(channels, out_channels, kernel, stride=stride, bias=False))
            channels, length = out_channels, math.ceil(length / stride)
        self.convs = nn.ModuleList(layers)
        widths = [channels * length] + [dim] * dense_layers
        self.dense = nn.Sequential(*[dense_bn_relu(a, b) for a, b in zip(widths[:-1], widths[1:])],
                                   nn.Linear(widths[-1], dim, bias=False))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        h = torch.fft.rfft(wave).abs()[:, : wave.shape[1] // 2].unsqueeze(1)
        for conv, (_, kernel, stride) in zip(self.convs, self.specs):
            h = F.relu(conv(pad_same(h, kernel, stride)))
        return self.dense(h.flatten(1))


class ResidualBlock(nn.Module):
    """Pre-activation residual block; ``stride`` 2 halves both axes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.norm_in = nn.BatchNorm2d(in_channels)
        self.branch = nn.Sequential(
            nn.ReLU(), nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False))
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.MaxPool2d(stride, stride, ceil_mode=True),
                                          nn.Conv2d(in_channels, out_channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm_in(x)
        return (x if self.shortcut is None else self.shortcut(x)) + self.branch(x)


class SpectrogramBranch(nn.Module):
    """Waveform ``[B, T]`` -> embedding of its STFT magnitude ``[B, dim]``."""

    def __init__(self, num_samples: int, dim: int, n_fft: int, hop_length: int,
                 channels: Sequence[int], freq_attention: bool, freq_attention_kernel: int):
        super().__init__()
        if num_samples < n_fft:
            raise ValueError(f"ssl_two_branch: clips of {num_samples} samples are shorter "
                             f"than n_fft={n_fft}")
        self.n_fft, self.hop_length = n_fft, hop_length
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        bins = n_fft // 2 + 1
        frames = 1 + (num_samples - n_fft) // hop_length
        self.input_norm = nn.BatchNorm1d(bins)
        self.attention = FrequencyAttention(freq_attention_kernel) if freq_attention else None
        self.stem = nn.Sequential(nn.Conv2d(1, channels[0], 7, 2, 3, bias=False),
                                  nn.BatchNorm2d(channels[0]), nn.ReLU(), nn.MaxPool2d(3, 2))
        t, f = [(math.ceil(n / 2) - 3) // 2 + 1 for n in (frames, bins)]
        if t < 1 or f < 1:
            raise ValueError(f"ssl_two_branch: a {frames} x {bins} spectrogram is too small "
                             "for the ResNet stem; use longer clips or a larger n_fft")
        blocks, previous = [], channels[0]
        for i, width in enumerate(channels):
            stride = 1 if i == 0 else 2
            blocks += [ResidualBlock(previous, width, stride), ResidualBlock(width, width, 1)]
            previous = width
            f = math.ceil(f / stride)
        self.stages = nn.Sequential(*blocks)
        self.out_norm = nn.BatchNorm1d(previous * f)
        self.proj = nn.Linear(previous * f, dim, bias=False)

    def spectrogram(self, wave: torch.Tensor) -> torch.Tensor:
        """Normalised (and attended) magnitude spectrogram ``[B, bins, frames]``."""
        spec = torch.stft(wave, self.n_fft, self.hop_length, window=self.window,
                          center=False, return_complex=True).abs()
        spec = self.input_norm(spec - spec.mean(dim=2, keepdim=True))
        return spec if self.attention is None else self.attention(spec)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(self.spectrogram(wave).transpose(1, 2).unsqueeze(1)))
        return self.proj(self.out_norm(h.amax(dim=2).flatten(1)))


@MODELS.register("ssl_two_branch")
class SSLTwoBranch(nn.Module):
    """Waveform ``[B, num_samples]`` -> ``{"embedding": [B, embedding_dim], "parts": [...]}``."""

    def __init__(self, num_samples: int, sample_rate: int = 16000, branch_dim: int = 128,
                 fft_convs: Sequence[Sequence[int]] = FFT_CONVS, fft_dense_layers: int = 4,
                 n_fft: int = 1024, hop_length: int = 512,
                 resnet_channels: Sequence[int] = RESNET_CHANNELS, freq_attention: bool = False,
                 freq_attention_kernel: int = 7, attribute_text: Optional[dict] = None):
        super().__init__()
        if len(resnet_channels) < 1:
            raise ValueError("ssl_two_branch: resnet_channels needs at least one stage width")
        self.num_samples = num_samples
        self.sample_rate = sample_rate  # the rate the clips were dumped at
        self.fft = FFTBranch(num_samples, branch_dim, fft_convs, fft_dense_layers)
        self.spec = SpectrogramBranch(num_samples, branch_dim, n_fft, hop_length,
                                      [int(c) for c in resnet_channels], freq_attention,
                                      freq_attention_kernel)
        self.text = AttributeTextEmbedding(**attribute_text) if attribute_text else None
        self.conditioning = "attribute_text" if self.text is not None else None
        self.embedding_dim = 2 * branch_dim + (self.text.dim if self.text is not None else 0)
        self._warned_no_attributes = False

    def _text_part(self, attributes: Optional[Sequence[str]], batch: int, like: torch.Tensor):
        if attributes is None:
            if self.training and not self._warned_no_attributes:
                logger.warning("ssl_two_branch: attribute_text is on but no attributes were "
                               "passed; the text embedding is zero")
                self._warned_no_attributes = True
            return like.new_zeros(batch, self.text.dim)
        if len(attributes) != batch:
            raise ValueError(f"ssl_two_branch: {len(attributes)} attribute texts for a batch "
                             f"of {batch} clips")
        return self.text(attributes)

    def forward(self, wave: torch.Tensor, mix=None, attributes: Optional[Sequence[str]] = None):
        wave = to_float_waveform(wave)
        if wave.dim() != 2 or wave.shape[1] != self.num_samples:
            raise ValueError(f"ssl_two_branch expects waveforms [B, {self.num_samples}]; got "
                             f"shape {tuple(wave.shape)} (dump clips at the configured length)")
        if mix is not None:
            wave = mix.apply(wave)
        parts = [self.fft(wave), self.spec(wave)]
        if self.text is not None:
            parts.append(self._text_part(attributes, wave.shape[0], parts[0]))
        return {"embedding": torch.cat(parts, dim=1), "parts": parts}
