"""Frequency attention on a spectrogram: one learned weight in (0, 1) per frequency bin.

System-3 of Tian et al. (DCASE 2024 Task 2 technical report, Sec. 2.2) adds an attention
module in the frequency dimension, citing Zhang et al. (INTERSPEECH 2023), to enhance the
important frequency components; the report gives neither its form nor its sizes. Our
choice is a light-weight form of such an attention (the channel-pooling design of CBAM,
Woo et al., ECCV 2018, applied along the frequency axis): pool the spectrogram over time
by mean and by max, convolve the two pooled profiles along frequency, squash with a
sigmoid and rescale every bin,

    a = sigmoid(conv1d([mean_t X; max_t X]))    (2 -> 1 channels, kernel k, 'same'),
    Y[b, f, t] = a[b, f] * X[b, f, t],

with 2 k + 1 parameters. The weights depend on the clip, so the network can emphasise
the bands where a machine's sound lives.
"""
import torch
from torch import nn


class FrequencyAttention(nn.Module):
    """``[B, F, T]`` -> ``[B, F, T]``, each frequency bin scaled by its attention weight."""

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"FrequencyAttention: kernel_size must be odd and >= 1, "
                             f"got {kernel_size}")
        self.conv = nn.Conv1d(2, 1, kernel_size, padding=kernel_size // 2)

    def weights(self, spec: torch.Tensor) -> torch.Tensor:
        """The attention weights ``[B, F]``."""
        pooled = torch.stack([spec.mean(dim=2), spec.amax(dim=2)], dim=1)  # [B, 2, F]
        return torch.sigmoid(self.conv(pooled)).squeeze(1)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if spec.dim() != 3:
            raise ValueError(f"FrequencyAttention expects [B, F, T]; got {tuple(spec.shape)}")
        return spec * self.weights(spec).unsqueeze(2)
