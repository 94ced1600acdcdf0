"""Selective Mahalanobis scorer of the DCASE 2022-2024 Task 2 autoencoder baseline.

The official baseline (github.com/nttcslab/dcase2023_task2_baseline_ae, ``--score MAHALA``)
estimates, after training, one covariance matrix per domain from the training clips'
reconstruction-error vectors (sum of centred outer products divided by n - 1), inverts
each, and scores a test vector e by the squared Mahalanobis distance
``d_d(e) = e^T S_d^{-1} e`` to each domain d, keeping ``min(d_source, d_target)``; when
there are no target clips the target covariance is the source one.

Here the vectors are embeddings, which unlike reconstruction errors do not have mean zero,
so each domain also gets its mean: ``d_d(x) = (x - mu_d)^T P_d (x - mu_d)`` with mu_d and
the sample covariance S_d (denominator n - 1) of that domain's training embeddings, and
score ``min_d d_d(x)`` over the domains present (one domain in DCASE 2020: the plain
Mahalanobis distance). Domains with fewer than 2 clips have no covariance and are left
out (logged).

Singular covariances: with few clips (10 target clips per section) or collinear
dimensions S_d is singular, so ``P_d = pinv(S_d + ridge * tr(S_d) / E * I)``: a ridge
proportional to the mean variance, then the pseudo-inverse (equal to the inverse whenever
the ridged matrix is regular). A tiny ridge keeps the baseline's estimator but makes
directions outside a few-shot domain's span very costly, so that domain rarely wins the
minimum; ``covariance: ledoit_wolf`` instead shrinks S_d towards a scaled identity with
the Ledoit-Wolf intensity (scikit-learn ``LedoitWolf``, maximum-likelihood S_d), which
suits the few target clips better.
"""
import logging

import numpy as np
from sklearn.covariance import LedoitWolf

from asd_lib.backends.base import DOMAINS, Backend
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)

COVARIANCES = ("sample", "ledoit_wolf")


@BACKENDS.register("mahalanobis")
class SelectiveMahalanobis(Backend):
    """``ridge`` (relative to the mean variance) and the ``covariance`` estimator."""

    def __init__(self, ridge: float = 1e-6, covariance: str = "sample"):
        if covariance not in COVARIANCES:
            raise ValueError(f"mahalanobis: covariance must be one of {COVARIANCES}, "
                             f"got {covariance!r}")
        if not ridge >= 0:
            raise ValueError(f"mahalanobis: ridge must be >= 0, got {ridge!r}")
        self.ridge = float(ridge)
        self.covariance = covariance
        self.means, self.precisions = {}, {}

    def _fit(self, x, domains, classes):
        self.means, self.precisions = {}, {}
        for domain in DOMAINS:
            rows = x[domains == domain]
            if len(rows) < 2:
                if len(rows):
                    logger.warning("mahalanobis: 1 %s clip cannot give a covariance; the %s "
                                   "domain is left out", domain, domain)
                continue
            self.means[domain] = rows.mean(axis=0)
            self.precisions[domain] = self._precision(rows)
        if not self.means:
            raise ValueError("mahalanobis: needs at least 2 training clips of one domain, "
                             f"got {len(x)}")

    def _precision(self, rows: np.ndarray) -> np.ndarray:
        if self.covariance == "ledoit_wolf":
            cov = LedoitWolf().fit(rows).covariance_
        else:
            cov = np.cov(rows, rowvar=False, ddof=1).reshape(rows.shape[1], rows.shape[1])
        scale = np.trace(cov) / len(cov)
        cov = cov + self.ridge * (scale if scale > 0 else 1.0) * np.eye(len(cov))
        return np.linalg.pinv(cov, hermitian=True)

    def _score(self, x, exclude):
        distances = []
        for domain, mean in self.means.items():
            diff = x - mean
            distances.append(np.einsum("ij,jk,ik->i", diff, self.precisions[domain], diff))
        return np.min(distances, axis=0)
