"""Speed perturbation of the training waveforms (a stage augmentation, ``speed_perturb``).

Kim et al., "Anomalous sound detection based on pre-trained models with different audio
representations", DCASE 2024 Task 2 technical report, Sec. 3.1: the speed of a recording
is altered without changing its pitch. Two ways to play a clip ``f`` times as fast:

* ``method: stretch`` (default, the report's): a phase-vocoder time stretch. STFT with a
  Hann window of ``n_fft`` samples every ``hop_length``, ``torchaudio.functional.
  phase_vocoder`` at rate ``f``, inverse STFT: about ``T / f`` samples, every frequency
  kept. The frames whose window reaches past either end of the clip (into the STFT's
  reflect padding) are dropped first: the vocoder accumulates phases from its first
  frame, and a padded first frame would leave the bins of one partial out of phase (a
  steady tone would come out at two thirds of its amplitude).
* ``method: resample``: Ko et al., "Audio augmentation for speech recognition",
  Interspeech 2015 (the technique the report cites): resampling by ``f = p / q``
  (``torchaudio.functional.resample`` from ``p`` to ``q`` Hz), which changes the duration
  by 1 / f and shifts every frequency by f.

Each clip of the batch gets one factor drawn uniformly from ``factors`` (e.g.
0.9 / 1.0 / 1.1) and is brought back to the batch's length: a longer clip is cropped at a
random offset, a shorter one zero-padded at its end. The result is a float waveform in
[-1, 1) (int16 input is scaled by 1 / 32768).

Registered in :data:`asd_lib.augment.AUGMENTS`; random numbers come from torch's
global CPU generator, which the trainer reseeds every epoch.
"""
import math
from fractions import Fraction
from typing import Sequence

import torch
import torchaudio

from asd_lib.augment.registry import AUGMENTS
from asd_lib.data.step import Step
from asd_lib.frontends.mel import to_float_waveform

MAX_DENOMINATOR = 1000  # factors are used as p / q with q <= 1000 (0.9 -> 9 / 10)
METHODS = ("stretch", "resample")


def fit_length(x: torch.Tensor, length: int) -> torch.Tensor:
    """``x`` ``[N, L]`` cropped (each row at a random offset) or zero-padded to ``length``."""
    if x.shape[1] < length:
        return torch.nn.functional.pad(x, (0, length - x.shape[1]))
    offsets = torch.randint(0, x.shape[1] - length + 1, (x.shape[0],))
    index = offsets[:, None].to(x.device) + torch.arange(length, device=x.device)
    return x.gather(1, index)


def change_speed(x: torch.Tensor, factor: float) -> torch.Tensor:
    """``x`` ``[N, T]`` played ``factor`` times as fast by resampling (about ``T / factor``
    samples, the pitch shifted by ``factor``)."""
    ratio = Fraction(factor).limit_denominator(MAX_DENOMINATOR)
    if ratio == 1:
        return x
    return torchaudio.functional.resample(x, ratio.numerator, ratio.denominator)


def time_stretch(x: torch.Tensor, factor: float, n_fft: int = 1024,
                 hop_length: int = 256) -> torch.Tensor:
    """``x`` ``[N, T]`` played ``factor`` times as fast with its pitch kept (phase vocoder):
    about ``(T - 2 e hop_length) / factor`` samples, ``e = ceil(n_fft / 2 / hop_length)``
    frames being dropped at each end (see the module docstring)."""
    if factor == 1:
        return x
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    spec = torch.stft(x, n_fft, hop_length, window=window, return_complex=True)
    edge = math.ceil(n_fft / 2 / hop_length)
    if spec.shape[-1] <= 2 * edge + 1:
        raise ValueError(f"speed_perturb: clips of {x.shape[1]} samples are too short for a "
                         f"time stretch with n_fft {n_fft} and hop {hop_length}")
    spec = spec[..., edge:spec.shape[-1] - edge]
    advance = torch.linspace(0, math.pi * hop_length, n_fft // 2 + 1, device=x.device,
                             dtype=x.dtype)[:, None]
    stretched = torchaudio.functional.phase_vocoder(spec, factor, advance)
    return torch.istft(stretched, n_fft, hop_length, window=window)


@AUGMENTS.register("speed_perturb")
class SpeedPerturb:
    """One speed factor per clip, drawn uniformly from ``factors``; ``method`` ``stretch``
    (pitch kept; ``n_fft`` / ``hop_length`` of its STFT) or ``resample`` (pitch shifted)."""

    def __init__(self, factors: Sequence[float] = (0.9, 1.0, 1.1), method: str = "stretch",
                 n_fft: int = 1024, hop_length: int = 256):
        factors = [float(f) for f in factors]
        if not factors or not all(math.isfinite(f) and f > 0 for f in factors):
            raise ValueError(f"speed_perturb: factors must be a non-empty list of positive "
                             f"numbers, got {factors}")
        if method not in METHODS:
            raise ValueError(f"speed_perturb: method must be one of {METHODS}, got {method!r}")
        if not 0 < hop_length <= n_fft // 2:
            raise ValueError(f"speed_perturb: need 0 < hop_length <= n_fft / 2, got "
                             f"{hop_length} and {n_fft}")
        self.factors = factors
        self.method = method
        self.n_fft, self.hop_length = n_fft, hop_length

    def change(self, x: torch.Tensor, factor: float) -> torch.Tensor:
        if self.method == "resample":
            return change_speed(x, factor)
        return time_stretch(x, factor, self.n_fft, self.hop_length)

    def __call__(self, step: Step) -> Step:
        x = to_float_waveform(step.wave)
        choice = torch.randint(len(self.factors), (x.shape[0],))
        out = x.clone()
        for k, factor in enumerate(self.factors):
            rows = (choice == k).nonzero().flatten().to(x.device)
            if len(rows):
                out[rows] = fit_length(self.change(x[rows], factor), x.shape[1])
        step.wave = out
        return step
