"""TFgramNet: a learnable time-frequency front-end on the raw waveform (TFgram).

Huang, Fang, He, "Noise supervised contrastive learning and feature-perturbed for anomalous
sound detection" (OS-SCL; public code huangswt/OS-SCL, ``model/waveq.py``): the
pre-convolution part of the PANNs Wavegram branch (Kong et al., IEEE/ACM TASLP 2020), only
these layers:

* Conv1d(1, 64, kernel 11, stride 5, padding 5, no bias) + BatchNorm + ReLU;
* block(64 -> 64), max-pool 4;
* block(64 -> 128), adaptive max-pool to ``2 * frames`` (626 for a 10 s clip);
* block(128 -> 128), adaptive max-pool to ``frames`` (313),

The second block's 64 -> 128 channels are the public code's choice, which we follow: the
paper's Table I gives that block 64 channels, but its Table V parameter count (1.38 M for
TFSTgram) matches the code's 128.

each block being Conv1d(3, padding 1) + BN + ReLU, then Conv1d(3, dilation 2, padding 2)
+ BN + ReLU, every conv without bias.  The output ``[B, 128, frames]`` stacks with the
log-mel and the Tgram.  Initialisation as the public code: Xavier-uniform convolutions,
BatchNorm weight 1 and bias 0.
"""
import torch
from torch import nn

from asd_lib.frontends.mel import to_float_waveform

STEM_KERNEL, STEM_STRIDE, POOL = 11, 5, 4


class DilatedWaveBlock(nn.Sequential):
    """Conv1d(3) + BN + ReLU, dilated Conv1d(3, d=2) + BN + ReLU (PANNs ConvPreWavBlock)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv1d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm1d(c_out),
            nn.ReLU(),
            nn.Conv1d(c_out, c_out, 3, padding=2, dilation=2, bias=False),
            nn.BatchNorm1d(c_out),
            nn.ReLU(),
        )


class TFgramNet(nn.Module):
    """Waveform ``[B, num_samples]`` -> TFgram ``[B, channels, num_frames]``."""

    def __init__(self, num_samples: int, num_frames: int, channels: int = 128,
                 stem_channels: int = 64):
        super().__init__()
        self.num_samples = num_samples
        self.num_frames = num_frames
        stem_length = (num_samples + 2 * (STEM_KERNEL // 2) - STEM_KERNEL) // STEM_STRIDE + 1
        if stem_length // POOL < 2 * num_frames:
            raise ValueError(
                f"TFgramNet: {num_samples} samples give {stem_length // POOL} steps after the "
                f"first block, fewer than the {2 * num_frames} the adaptive pooling needs"
            )
        self.stem = nn.Sequential(
            nn.Conv1d(1, stem_channels, STEM_KERNEL, stride=STEM_STRIDE,
                      padding=STEM_KERNEL // 2, bias=False),
            nn.BatchNorm1d(stem_channels),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(
            DilatedWaveBlock(stem_channels, stem_channels),
            nn.MaxPool1d(POOL),
            DilatedWaveBlock(stem_channels, channels),
            nn.AdaptiveMaxPool1d(2 * num_frames),
            DilatedWaveBlock(channels, channels),
            nn.AdaptiveMaxPool1d(num_frames),
        )
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.xavier_uniform_(module.weight)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.dim() != 2 or wave.shape[1] != self.num_samples:
            raise ValueError(
                f"TFgramNet expects waveforms [B, {self.num_samples}]; got shape "
                f"{tuple(wave.shape)} (crop or pad clips to the configured length)"
            )
        return self.blocks(self.stem(to_float_waveform(wave).unsqueeze(1)))
