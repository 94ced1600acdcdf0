"""TgramNet: a learnable temporal front-end (Liu et al., "Anomalous sound detection using
spectral-temporal information fusion", ICASSP 2022, Sec. 2.1 and Fig. 2).

A large-kernel strided Conv1d plays the role of the STFT (kernel = window length,
stride = hop, padding = window / 2 so the frame count equals that of a centred
spectrogram), followed by ``num_layers`` blocks of LayerNorm over the time axis,
LeakyReLU(0.2) and a 3-tap Conv1d.  With 128 channels its output stacks with the
128-band log-mel: 10 s at 16 kHz -> 128 x 313.
"""
import torch
from torch import nn

from asd_lib.frontends.mel import to_float_waveform


class TgramNet(nn.Module):
    """Waveform ``[B, num_samples]`` -> Tgram ``[B, channels, frames]``.

    ``num_samples`` is fixed because the LayerNorm normalises over the time axis, whose
    length (``self.num_frames``) is part of the layer's shape.
    """

    def __init__(
        self,
        num_samples: int,
        channels: int = 128,
        win_length: int = 1024,
        hop_length: int = 512,
        num_layers: int = 3,
    ):
        super().__init__()
        self.num_samples = num_samples
        padding = win_length // 2
        self.num_frames = (num_samples + 2 * padding - win_length) // hop_length + 1
        if self.num_frames < 1:
            raise ValueError(
                f"TgramNet: num_samples={num_samples} is too short for win_length={win_length}"
            )
        self.extractor = nn.Conv1d(
            1, channels, win_length, stride=hop_length, padding=padding, bias=False
        )
        self.encoder = nn.Sequential(
            *[
                nn.Sequential(
                    nn.LayerNorm(self.num_frames),
                    nn.LeakyReLU(0.2),
                    nn.Conv1d(channels, channels, 3, stride=1, padding=1, bias=False),
                )
                for _ in range(num_layers)
            ]
        )

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        check_waveforms(wave, self.num_samples)
        return self.encoder(self.extractor(to_float_waveform(wave).unsqueeze(1)))


def check_waveforms(wave: torch.Tensor, num_samples: int) -> None:
    """Refuse anything but a batch of ``num_samples``-long waveforms ``[B, num_samples]``."""
    if wave.dim() != 2 or wave.shape[1] != num_samples:
        raise ValueError(
            f"TgramNet expects waveforms [B, {num_samples}]; got shape "
            f"{tuple(wave.shape)} (crop or pad clips to the configured length)"
        )
