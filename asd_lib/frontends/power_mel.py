"""Mel spectrogram as the DCASE 2020 Task 2 baseline computes it, split in two steps.

The official baseline (Koizumi et al., DCASE 2020 Task 2; public code
``dcase2020_task2_baseline``, ``common.file_to_vector_array``) takes
``librosa.feature.melspectrogram`` (Hann window of ``n_fft`` samples, centred frames with
reflect padding, Slaney mel scale with Slaney area normalisation, 0 Hz to Nyquist) and
compresses it as ``20 / power * log10(S + eps)``, ``eps = sys.float_info.epsilon``.

:meth:`PowerMel.forward` returns the power (``power = 2``) mel spectrogram ``S``, and
:meth:`PowerMel.log` the compression, so a model can act between the two: the
self-supervised classifier of Giri et al. (DCASE 2020) mixes clips either before the log
(power spectrograms) or after it. An optional :class:`~asd_lib.frontends.spectral_warp.SpectralWarp`
warps each item's linear-frequency spectrogram before the mel filterbank (folded into the
filterbank: ``mel = (M_alpha^T F)^T S``).
"""
import sys
from typing import Optional

import torch
import torchaudio
from torch import nn

from asd_lib.frontends.mel import power_spectrogram, to_float_waveform
from asd_lib.frontends.spectral_warp import SpectralWarp, warp_matrix

LOG_EPS = sys.float_info.epsilon  # the baseline's offset inside the log


class PowerMel(nn.Module):
    """Waveform ``[B, T]`` -> power mel spectrogram ``[B, n_mels, frames]`` (librosa's
    defaults, as used by the DCASE 2020 baseline)."""

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 128,
        power: float = 2.0,
        center: bool = True,
        pad_mode: str = "reflect",
        f_min: float = 0.0,
        f_max: Optional[float] = None,
        mel_scale: str = "slaney",
        norm: Optional[str] = "slaney",
    ):
        super().__init__()
        if power <= 0:
            raise ValueError(f"PowerMel: power must be > 0, got {power}")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.power = power
        self.center = center
        self.spectrogram = torchaudio.transforms.Spectrogram(
            n_fft=n_fft, hop_length=hop_length, power=power, center=center, pad_mode=pad_mode)
        fbanks = torchaudio.functional.melscale_fbanks(
            n_freqs=n_fft // 2 + 1, f_min=f_min, f_max=f_max or sample_rate / 2,
            n_mels=n_mels, sample_rate=sample_rate, norm=norm, mel_scale=mel_scale)
        self.register_buffer("fbanks", fbanks, persistent=False)  # [n_freq, n_mels]

    def num_frames(self, num_samples: int) -> int:
        """Frames of a clip of ``num_samples`` samples."""
        if self.center:
            return 1 + num_samples // self.hop_length
        if num_samples < self.n_fft:
            raise ValueError(f"PowerMel: a clip of {num_samples} samples is shorter than "
                             f"n_fft={self.n_fft}")
        return 1 + (num_samples - self.n_fft) // self.hop_length

    def forward(self, wave: torch.Tensor, warp: Optional[SpectralWarp] = None) -> torch.Tensor:
        if wave.dim() != 2:
            raise ValueError(f"PowerMel expects waveforms [B, T]; got shape {tuple(wave.shape)}")
        spec = power_spectrogram(self.spectrogram, to_float_waveform(wave))  # [B, n_freq, frames]
        if warp is None:
            return torch.matmul(spec.transpose(1, 2), self.fbanks).transpose(1, 2)
        if warp.group.shape != (spec.shape[0],):
            raise ValueError(f"PowerMel: {spec.shape[0]} clips but {tuple(warp.group.shape)} "
                             "warp groups")
        n_freq = spec.shape[1]
        banks = [self.fbanks] + [warp_matrix(n_freq, a, spec.device, spec.dtype).T @ self.fbanks
                                 for a in warp.alphas]
        per_item = torch.stack(banks)[warp.group.to(spec.device)]  # [B, n_freq, n_mels]
        return torch.einsum("bft,bfm->bmt", spec, per_item)

    def log(self, power_mel: torch.Tensor) -> torch.Tensor:
        """``20 / power * log10(S + eps)``: decibels, as the DCASE 2020 baseline."""
        return 20.0 / self.power * torch.log10(power_mel + LOG_EPS)
