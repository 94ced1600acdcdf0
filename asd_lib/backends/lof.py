"""Local outlier factor scorer on standardised embeddings.

Breunig et al., "LOF: identifying density-based local outliers", SIGMOD 2000. The
embeddings of a group's training clips (all domains) are standardised per dimension, a
``LocalOutlierFactor(novelty=True)`` is fitted on them, and the anomaly score of a clip is
its local outlier factor, i.e. scikit-learn's ``-score_samples`` (about 1 for inliers,
larger for outliers). ``n_neighbors`` (e.g. 1, 2, 4, ..., 32) is capped at the number
of training clips minus one.
"""
import logging

from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from asd_lib.backends.base import Backend, positive_int
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)


@BACKENDS.register("lof")
class LocalOutlierFactorBackend(Backend):
    """``n_neighbors``: the k of the k-distance (scikit-learn's default 20)."""

    def __init__(self, n_neighbors: int = 20):
        self.n_neighbors = positive_int(n_neighbors, "n_neighbors", "lof")
        self.scaler = self.lof = None

    def _fit(self, x, domains, classes):
        if len(x) < 2:
            raise ValueError(f"lof: needs at least 2 training clips, got {len(x)}")
        n_neighbors = min(self.n_neighbors, len(x) - 1)
        if n_neighbors < self.n_neighbors:
            logger.info("lof: %d training clips; n_neighbors capped from %d to %d",
                        len(x), self.n_neighbors, n_neighbors)
        self.scaler = StandardScaler().fit(x)
        self.lof = LocalOutlierFactor(n_neighbors=n_neighbors, novelty=True)
        self.lof.fit(self.scaler.transform(x))

    def _score(self, x):
        return -self.lof.score_samples(self.scaler.transform(x))
