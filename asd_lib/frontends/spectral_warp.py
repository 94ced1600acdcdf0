"""Spectral warping: new synthetic classes made by bending the frequency axis.

Giri et al., "Self-supervised classification for detecting anomalous sounds", DCASE 2020
Workshop, Sec. 3.1.2: a spectrogram is warped by (Eq. 1)

    f  ->  f_max * (f / f_max) ** alpha,

with alpha 0.95 and 1.05, and each warp of a machine ID's clips is trained as a class of
its own; the network must tell the real ID from its warped copies.

On a linear-frequency spectrogram with bins ``0 .. B`` (``B`` = the Nyquist bin, ``f_max``)
the content at bin ``b`` moves to ``B * (b / B) ** alpha``: output bin ``g`` reads the
input at ``s(g) = B * (g / B) ** (1 / alpha)``, linearly interpolated between the two
neighbouring bins. That is a fixed ``[F, F]`` matrix per alpha (:func:`warp_matrix`), which
the mel front-end folds into its filterbank (:class:`asd_lib.frontends.power_mel.PowerMel`).

Warping the linear STFT before the mel filterbank is our choice: the paper warps the
spectrogram image with OpenCV's geometric image transformations (Sec. 3.1.2) and does not
say on which frequency scale; warping the linear bins follows Eq. 1's ``f`` literally and
needs no image library.
"""
import dataclasses
from typing import Optional, Sequence, Tuple

import torch


def warp_frequency(freq, alpha: float, f_max: float):
    """Where content at ``freq`` lands after the warp: ``f_max * (freq / f_max) ** alpha``."""
    return f_max * (freq / f_max) ** alpha


def warp_matrix(n_freq: int, alpha: float, device=None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``M`` ``[n_freq, n_freq]`` with ``(M @ S)[g] = S`` interpolated at ``s(g)``.

    ``S`` is a linear-frequency spectrogram whose last bin is the Nyquist frequency (an
    STFT's ``n_fft // 2 + 1`` bins). Each row holds the two linear-interpolation weights
    of the source position ``s(g) = B * (g / B) ** (1 / alpha)``, ``B = n_freq - 1``.
    ``alpha = 1`` gives the identity.
    """
    if alpha <= 0:
        raise ValueError(f"spectral warp: alpha must be > 0, got {alpha}")
    if n_freq < 2:
        raise ValueError(f"spectral warp: need at least 2 frequency bins, got {n_freq}")
    top = n_freq - 1
    out_bins = torch.arange(n_freq, device=device, dtype=torch.float64)
    source = warp_frequency(out_bins, 1.0 / alpha, float(top)).clamp(0, top)
    low = source.floor().long().clamp(max=top - 1)
    frac = source - low
    matrix = torch.zeros(n_freq, n_freq, device=device, dtype=torch.float64)
    rows = torch.arange(n_freq, device=device)
    matrix[rows, low] = 1.0 - frac
    matrix[rows, low + 1] += frac
    return matrix.to(dtype)


@dataclasses.dataclass
class SpectralWarp:
    """Which warp each item of a batch gets: group 0 is the original spectrogram, group
    ``k >= 1`` the warp ``alphas[k - 1]``; the synthetic class of an item with ID ``y`` is
    ``y + group * num_ids`` (set by the ``spectral_warp`` augmentation,
    ``asd_lib.augment.id_mixup_warp``)."""

    group: torch.Tensor  # [B] long
    alphas: Tuple[float, ...]

    @property
    def num_groups(self) -> int:
        return 1 + len(self.alphas)

    def class_index(self, labels: torch.Tensor, num_ids: int,
                    perm: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Synthetic class of every item (of ``labels[perm]`` with the partners' groups
        when ``perm`` is given)."""
        group = self.group.to(labels.device)
        if perm is not None:
            perm = perm.to(labels.device)
            labels, group = labels[perm], group[perm]
        return labels + group * num_ids


def check_alphas(alphas: Sequence[float]) -> Tuple[float, ...]:
    """The warp factors as a tuple; each must be positive and not 1 (1 is the original)."""
    alphas = tuple(float(a) for a in alphas)
    if not alphas or any(a <= 0 or a == 1.0 for a in alphas) or len(set(alphas)) != len(alphas):
        raise ValueError(f"spectral warp: alphas must be distinct positive numbers other than "
                         f"1 (the original spectrogram), got {list(alphas)}")
    return alphas
