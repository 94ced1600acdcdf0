"""Stacked time-frequency maps into MobileFaceNet: the backbone shared by TASTgram
(Choi & Choi, ICASSP 2024) and OS-SCL (Huang, Fang, He).

The waveform gives a log-mel spectrogram (Slaney mel, n_fft = win = 2048, hop 512,
constant padding; each method keeps its own log compression,
:attr:`FeatureStackMFN.log_compression`) and, as the model's ``inputs`` list says, any of

* ``mel``: the log-mel itself;
* ``tgram``: the TgramNet of STgram-MFN (window 1024, hop 512; Liu et al., ICASSP 2022);
* ``tagram``: the parameter-free temporal attention of the log-mel
  (:mod:`asd_lib.frontends.tagram`);
* ``tfgram``: the TFgramNet of OS-SCL (:mod:`asd_lib.frontends.tfgram`);

stacked as channels in the listed order and embedded by MobileFaceNet (Liu_8 table).

Mixup (``mix`` from the trainer, :class:`asd_lib.data.step.Mix`) follows both public
codes: the log-mel is computed from the clean clip and then mixed, the learnable
front-ends (Tgram, TFgram) see the mixed waveform, and the TAgram is the attention of the
mixed log-mel; one ``lam`` and one permutation for all of them.
"""
from typing import Optional, Sequence

import torch
from torch import nn

from asd_lib.frontends.mel import LogMel, to_float_waveform
from asd_lib.frontends.tagram import TemporalAttention
from asd_lib.frontends.tfgram import TFgramNet
from asd_lib.frontends.tgram import TgramNet
from asd_lib.models.mobilefacenet import MobileFaceNet

FEATURES = ("mel", "tgram", "tagram", "tfgram")

# Mel spectrogram of both public codes (torchaudio MelSpectrogram with n_fft 2048, the
# window defaulting to n_fft, hop 512, constant padding, Slaney scale and norm).
SLANEY_MEL = {
    "n_fft": 2048, "win_length": 2048, "hop_length": 512, "n_mels": 128,
    "pad_mode": "constant", "mel_scale": "slaney", "norm": "slaney",
}


class FeatureStackMFN(nn.Module):
    """Waveform ``[B, num_samples]`` -> embedding ``[B, embedding_dim]``.

    ``mel_conf`` overrides :data:`SLANEY_MEL` plus the subclass's :attr:`log_compression`
    (``LogMel`` arguments); ``tgram_conf`` overrides the TgramNet window / hop (1024 / 512).
    """

    log_compression: dict = {}
    """The method's ``LogMel`` ``log`` / ``offset`` arguments, set by each subclass."""

    def __init__(
        self,
        num_samples: int,
        sample_rate: int = 16000,
        inputs: Sequence[str] = ("mel",),
        embedding_dim: int = 128,
        table: str = "liu8",
        mel_conf: Optional[dict] = None,
        tgram_conf: Optional[dict] = None,
    ):
        super().__init__()
        self.inputs = list(inputs)
        unknown = sorted(set(self.inputs) - set(FEATURES))
        if not self.inputs or unknown or len(set(self.inputs)) != len(self.inputs):
            raise ValueError(
                f"{type(self).__name__}: inputs must be a non-empty list of distinct names "
                f"from {list(FEATURES)}; got {self.inputs}"
            )
        mel_conf = {**SLANEY_MEL, **self.log_compression, **(mel_conf or {})}
        if "sample_rate" in mel_conf:
            raise ValueError(
                f"{type(self).__name__}: set sample_rate on the model, not inside mel_conf"
            )
        self.num_samples = num_samples
        self.embedding_dim = embedding_dim
        self.mel = LogMel(sample_rate=sample_rate, **mel_conf)
        frames = self.mel.num_frames(num_samples)
        if "tgram" in self.inputs:
            tgram_conf = {"win_length": 1024, "hop_length": 512, **(tgram_conf or {})}
            self.tgram = TgramNet(num_samples, channels=self.mel.n_mels, **tgram_conf)
            if self.tgram.num_frames != frames:
                raise ValueError(
                    f"{type(self).__name__}: log-mel gives {frames} frames but TgramNet gives "
                    f"{self.tgram.num_frames}; use the same hop for both"
                )
        if "tagram" in self.inputs:
            self.temporal_attention = TemporalAttention()
        if "tfgram" in self.inputs:
            self.tfgram = TFgramNet(num_samples, frames, channels=self.mel.n_mels)
        self.backbone = MobileFaceNet(
            in_channels=len(self.inputs),
            embedding_dim=embedding_dim,
            table=table,
            input_hw=(self.mel.n_mels, frames),
        )

    def features(self, wave: torch.Tensor, mix=None) -> torch.Tensor:
        """Backbone input ``[B, len(inputs), n_mels, frames]`` in the order of ``inputs``."""
        wave = to_float_waveform(wave)
        if wave.dim() != 2 or wave.shape[1] != self.num_samples:
            raise ValueError(
                f"{type(self).__name__} expects waveforms [B, {self.num_samples}]; got shape "
                f"{tuple(wave.shape)} (crop or pad clips to the configured length)"
            )
        log_mel = self.mel(wave)
        if mix is not None:
            wave, log_mel = mix.apply(wave), mix.apply(log_mel)
        maps = {"mel": lambda: log_mel,
                "tgram": lambda: self.tgram(wave),
                "tagram": lambda: self.temporal_attention(log_mel),
                "tfgram": lambda: self.tfgram(wave)}
        return torch.stack([maps[name]() for name in self.inputs], dim=1)

    def forward(self, wave: torch.Tensor, mix=None) -> torch.Tensor:
        return self.backbone(self.features(wave, mix))
