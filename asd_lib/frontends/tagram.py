"""Parameter-free temporal attention over a log-mel spectrogram (TAgram).

Choi & Choi, "Noisy-ArcMix: Additive noisy angular margin loss combined with mixup for
anomalous sound detection", ICASSP 2024 (public code soonhyeon/Noisy-ArcMix,
``Temporal_Attention``): every frame ``t`` of the log-mel ``X`` (dB, ``[n_mels, frames]``)
is weighted by

    w_t = sigmoid(max_f X[f, t] + mean_f X[f, t]),    TAgram[f, t] = w_t * X[f, t].

The weights see the raw dB values (no normalisation), so loud frames pass almost
unchanged and quiet ones are pushed towards zero.
"""
import torch
from torch import nn


class TemporalAttention(nn.Module):
    """Log-mel ``[B, n_mels, frames]`` -> temporally attended log-mel, same shape."""

    def frame_weights(self, log_mel: torch.Tensor) -> torch.Tensor:
        """``w_t`` per clip and frame: ``[B, frames]``."""
        return torch.sigmoid(log_mel.amax(dim=1) + log_mel.mean(dim=1))

    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        if log_mel.dim() != 3:
            raise ValueError(
                f"TemporalAttention expects log-mels [B, n_mels, frames]; got shape "
                f"{tuple(log_mel.shape)}"
            )
        return self.frame_weights(log_mel).unsqueeze(1) * log_mel
