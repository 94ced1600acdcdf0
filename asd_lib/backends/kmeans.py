"""k-means centres of the source domain plus a memory bank of every target clip.

Wilkinghoff, "Self-supervised learning for anomalous sound detection", ICASSP 2024 (and
the ``kmeans`` back-end of ASDKit, its default), and Kim et al., "Anomalous sound detection
based on pre-trained models with different audio representations", DCASE 2024 Task 2
technical report (Sec. 3.4-3.5, Fig. 1): embeddings are L2-normalised, k-means (16
clusters) is run on the source training embeddings, every target training embedding is
kept as an extra centre (the memory bank), and the anomaly score is the smallest cosine
distance ``1 - cos(x, c)`` to any centre c. Because target clips are few (10 per section
in DCASE 2022-2024), each is its own centre instead of being clustered. Like every
back-end here it is fitted per (machine type, section); Kim et al. cluster the source
embeddings of all machine types together (one cluster per machine type, they say).

``centres="per_class"`` is an asd_lib option, from neither paper: one centre per training
class, the mean of that class's L2-normalised source embeddings, plus the same target
memory bank.

The number of clusters is capped at the number of source clips; ``KMeans`` is seeded
(``seed``) so the centres, hence the scores, are reproducible.

A training clip left out (``score(x, exclude)``, how training clips are scored for the
decision thresholds) is removed from what it helped build: its own bank entry, or its
source centre, recomputed as the mean of the centre's other clips (a centre of that clip
alone is dropped). With few clips per centre a clip would otherwise be scored against
itself.
"""
import logging

import numpy as np
from sklearn.cluster import KMeans

from asd_lib.backends.base import (
    Backend,
    cosine_distances,
    l2_normalise,
    masked_distances,
    positive_int,
)
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)

CENTRES = ("kmeans", "per_class")


@BACKENDS.register("kmeans_membank")
class KMeansMemoryBank(Backend):
    """``n_clusters`` source centres (``centres: kmeans``) or one per class (``per_class``)."""

    def __init__(self, n_clusters: int = 16, centres: str = "kmeans", n_init: int = 10,
                 seed: int = 0):
        if centres not in CENTRES:
            raise ValueError(f"kmeans_membank: centres must be one of {CENTRES}, "
                             f"got {centres!r}")
        self.n_clusters = positive_int(n_clusters, "n_clusters", "kmeans_membank")
        self.n_init = positive_int(n_init, "n_init", "kmeans_membank")
        self.centres_kind = centres
        self.seed = int(seed)
        self.centres = None

    def _fit(self, x, domains, classes):
        x = l2_normalise(x)
        is_source = domains == "source"
        source, target = x[is_source], x[~is_source]
        target_rows = np.flatnonzero(~is_source)
        if not len(source):
            logger.warning("kmeans_membank: no source clips; scoring against the %d target "
                           "clips only", len(target))
            members = np.empty(0, dtype=int)
            sums, counts = np.empty((0, x.shape[1])), np.empty(0)
        else:
            members = self._assign(source, classes[is_source])
            count = members.max() + 1
            sums = np.zeros((count, x.shape[1]))
            np.add.at(sums, members, source)
            counts = np.bincount(members, minlength=count).astype(float)
        self.centres = np.concatenate([l2_normalise(sums / np.maximum(counts, 1)[:, None]),
                                       target])
        # a source centre summarises its clips; a bank entry is one clip's own row
        self.centre_rows = np.concatenate([np.full(len(sums), -1), target_rows])
        self.source_centre = np.full(len(x), -1)  # fitted row -> its source centre
        self.source_centre[np.flatnonzero(is_source)] = members
        self.x, self.sums, self.counts = x, sums, counts

    def _assign(self, source: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """The centre of every source clip: its class, or its k-means cluster."""
        if self.centres_kind == "per_class":
            names = sorted(set(classes))
            return np.array([names.index(c) for c in classes])
        n_clusters = min(self.n_clusters, len(source))
        if n_clusters < self.n_clusters:
            logger.info("kmeans_membank: %d source clips; n_clusters capped from %d to %d",
                        len(source), self.n_clusters, n_clusters)
        kmeans = KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=self.seed)
        labels = kmeans.fit(source).labels_
        return np.unique(labels, return_inverse=True)[1]  # empty clusters dropped

    def _score(self, x, exclude):
        distances = masked_distances(cosine_distances(x, self.centres), self.centre_rows,
                                     exclude)
        if exclude is not None:
            for i in np.flatnonzero(exclude >= 0):
                centre = self.source_centre[exclude[i]]
                if centre < 0:
                    continue
                rest = self.counts[centre] - 1
                if rest == 0:
                    distances[i, centre] = np.inf
                    continue
                mean = (self.sums[centre] - self.x[exclude[i]]) / rest
                distances[i, centre] = cosine_distances(x[i:i + 1], mean[None])[0, 0]
        return distances.min(axis=1)
