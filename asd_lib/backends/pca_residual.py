"""Squared residual of an embedding outside the principal subspace of the training clips.

Source: the "PCA-subspace reconstruction residual" back-end of Zhou and Wang, "Scoring
backends matter more than pooling: a systematic study of training-free anomalous sound
detection under domain shift", arXiv:2606.19269, 2026; the statistic is the squared
prediction error (Q statistic) of PCA monitoring, Jackson and Mudholkar, "Control
procedures for residuals associated with principal component analysis", Technometrics,
1979. With the section's training embeddings x_1..x_N (L2-normalised first when
``normalise``), their mean mu and the first n right singular vectors V_n of the centred
matrix (the principal axes, by explained variance)::

    score(x) = || (x - mu) - V_n V_n^T (x - mu) ||^2

Normal clips lie near the subspace the training clips span; an anomaly adds energy in
directions they did not use.

asd_lib's choices (neither source fixes them here):

* one PCA per section over all its training clips, source and target together: ten target
  clips alone give at most nine axes, too few to fit a subspace of their own;
* ``normalise: true`` by default, so that the subspace is fitted to the embeddings'
  directions, as the cosine back-ends compare them, and a clip's embedding norm does not
  dominate its residual;
* ``n_components`` 16 by default; an integer >= 1 keeps that many axes, a number in (0, 1)
  the fewest whose explained-variance share exceeds it (scikit-learn's ``PCA`` rule). It
  is capped at min(N - 1, E - 1), the most axes that leave a residual to score (logged).

Leave-one-out: the PCA summarises its training clips, so training clips are scored as
fitted (``exclude`` is ignored, like ``gmm`` and ``mahalanobis``); their residuals are
smaller than a new clip's, the more so the closer ``n_components`` is to N - 1.
"""
import logging
from typing import Union

import numpy as np

from asd_lib.backends.base import Backend, l2_normalise
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)


@BACKENDS.register("pca_residual")
class PCAResidual(Backend):
    """``n_components`` (axes kept: a count, or a share of the variance) and
    ``normalise`` (L2-normalise embeddings first)."""

    def __init__(self, n_components: Union[int, float] = 16, normalise: bool = True):
        self.n_components = _components(n_components)
        if not isinstance(normalise, bool):
            raise ValueError(f"pca_residual: backend_conf normalise must be true or false, "
                             f"got {normalise!r}")
        self.normalise = normalise
        self.mean = self.axes = None

    def _fit(self, x, domains, classes):
        x = l2_normalise(x) if self.normalise else x
        self.mean = x.mean(axis=0)
        _, singular, axes = np.linalg.svd(x - self.mean, full_matrices=False)
        variance = singular ** 2
        if isinstance(self.n_components, float):
            share = np.cumsum(variance) / variance.sum() if variance.sum() > 0 else np.ones(1)
            wanted = int(np.searchsorted(share, self.n_components, side="right") + 1)
        else:
            wanted = self.n_components
        cap = min(len(x) - 1, x.shape[1] - 1)
        count = min(wanted, cap)
        if count < wanted:
            logger.info("pca_residual: %d training clips of size %d; n_components capped from "
                        "%d to %d", len(x), x.shape[1], wanted, count)
        self.axes = axes[:count]

    def _score(self, x, exclude):
        centred = (l2_normalise(x) if self.normalise else x) - self.mean
        residual = centred - (centred @ self.axes.T) @ self.axes
        return np.einsum("ij,ij->i", residual, residual)


def _components(value) -> Union[int, float]:
    """``n_components`` as an int >= 1 or a float in (0, 1), or a ValueError."""
    if not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1:
        return int(value)
    if isinstance(value, float) and 0 < value < 1:
        return value
    raise ValueError("pca_residual: backend_conf n_components must be an integer >= 1 (axes "
                     f"kept) or a number in (0, 1) (share of the variance), got {value!r}")
