"""Gaussian mixture scorer on standardised embeddings.

The embeddings of a group's training clips (all domains) are standardised per dimension
(``StandardScaler`` fitted on them), a ``GaussianMixture`` is fitted by EM, and the anomaly
score is the negative log-likelihood ``-log p(z)`` of the standardised embedding z. One
component with full covariance is the "GMM on embeddings" back-end of the DCASE 2020
systems; ``n_components`` (e.g. 1, 2, 4, ..., 32) is an option for later years. The
likelihood is of z, not of the raw embedding: the two differ by a constant per group (the
log-Jacobian of the scaling), which changes neither the ranking nor the per-group threshold.
"""
import logging

from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from asd_lib.backends.base import Backend, positive_int
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@BACKENDS.register("gmm")
class GaussianMixtureBackend(Backend):
    """``n_components`` (capped at the number of clips), ``covariance_type``, ``reg_covar``
    (added to the covariance diagonals, scikit-learn's default 1e-6) and the EM ``seed``."""

    def __init__(self, n_components: int = 1, covariance_type: str = "full",
                 reg_covar: float = 1e-6, seed: int = 0):
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"gmm: covariance_type must be one of {COVARIANCE_TYPES}, "
                             f"got {covariance_type!r}")
        if not reg_covar >= 0:
            raise ValueError(f"gmm: reg_covar must be >= 0, got {reg_covar!r}")
        self.n_components = positive_int(n_components, "n_components", "gmm")
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.seed = int(seed)
        self.scaler = self.mixture = None

    def _fit(self, x, domains, classes):
        n_components = min(self.n_components, len(x))
        if n_components < self.n_components:
            logger.info("gmm: %d training clips; n_components capped from %d to %d",
                        len(x), self.n_components, n_components)
        self.scaler = StandardScaler().fit(x)
        self.mixture = GaussianMixture(n_components=n_components,
                                       covariance_type=self.covariance_type,
                                       reg_covar=self.reg_covar, random_state=self.seed)
        self.mixture.fit(self.scaler.transform(x))

    def _score(self, x):
        return -self.mixture.score_samples(self.scaler.transform(x))
