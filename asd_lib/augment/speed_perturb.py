"""Speed perturbation of the training waveforms (a stage augmentation, ``speed_perturb``).

Ko et al., "Audio augmentation for speech recognition", Interspeech 2015: playing a clip
at speed factor f changes its duration by 1 / f and shifts every frequency by f. Kim et al.
(DCASE 2024 Task 2 technical report, METHODS.md 9) train their wav2vec 2.0 + AST system with
it. Each clip of the batch gets one factor drawn uniformly from ``factors`` (e.g.
0.9 / 1.0 / 1.1), is resampled by ``f = p / q`` (``torchaudio.functional.resample`` from
``p`` to ``q`` Hz, so T samples become about ``T q / p = T / f``) and brought back to the
batch's length: a longer clip is cropped at a random offset, a shorter one zero-padded at
its end. The result is a float waveform in [-1, 1) (int16 input is scaled by 1 / 32768).

Registered in :data:`asd_lib.augment.AUGMENTS`; random numbers come from torch's
global CPU generator, which the trainer reseeds every epoch.
"""
import math
from fractions import Fraction
from typing import Sequence

import torch
import torchaudio

from asd_lib.augment.registry import AUGMENTS
from asd_lib.frontends.mel import to_float_waveform
from asd_lib.data.step import Step

MAX_DENOMINATOR = 1000  # factors are used as p / q with q <= 1000 (0.9 -> 9 / 10)


def fit_length(x: torch.Tensor, length: int) -> torch.Tensor:
    """``x`` ``[N, L]`` cropped (each row at a random offset) or zero-padded to ``length``."""
    if x.shape[1] < length:
        return torch.nn.functional.pad(x, (0, length - x.shape[1]))
    offsets = torch.randint(0, x.shape[1] - length + 1, (x.shape[0],))
    index = offsets[:, None].to(x.device) + torch.arange(length, device=x.device)
    return x.gather(1, index)


def change_speed(x: torch.Tensor, factor: float) -> torch.Tensor:
    """``x`` ``[N, T]`` played ``factor`` times as fast (about ``T / factor`` samples)."""
    ratio = Fraction(factor).limit_denominator(MAX_DENOMINATOR)
    if ratio == 1:
        return x
    return torchaudio.functional.resample(x, ratio.numerator, ratio.denominator)


@AUGMENTS.register("speed_perturb")
class SpeedPerturb:
    """One speed factor per clip, drawn uniformly from ``factors``."""

    def __init__(self, factors: Sequence[float] = (0.9, 1.0, 1.1)):
        factors = [float(f) for f in factors]
        if not factors or not all(math.isfinite(f) and f > 0 for f in factors):
            raise ValueError(f"speed_perturb: factors must be a non-empty list of positive "
                             f"numbers, got {factors}")
        self.factors = factors

    def __call__(self, step: Step) -> Step:
        x = to_float_waveform(step.wave)
        choice = torch.randint(len(self.factors), (x.shape[0],))
        out = x.clone()
        for k, factor in enumerate(self.factors):
            rows = (choice == k).nonzero().flatten().to(x.device)
            if len(rows):
                out[rows] = fit_length(change_speed(x[rows], factor), x.shape[1])
        step.wave = out
        return step
