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
"""
import logging

import numpy as np
from sklearn.cluster import KMeans

from asd_lib.backends.base import (Backend, cosine_distances, l2_normalise, masked_distances,
                                   positive_int)
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
            self.centres, self.centre_rows = target, target_rows
            return
        if self.centres_kind == "per_class":
            source_classes = classes[is_source]
            names = sorted(set(source_classes))
            centres = np.stack([source[source_classes == c].mean(axis=0) for c in names])
        else:
            n_clusters = min(self.n_clusters, len(source))
            if n_clusters < self.n_clusters:
                logger.info("kmeans_membank: %d source clips; n_clusters capped from %d to %d",
                            len(source), self.n_clusters, n_clusters)
            kmeans = KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=self.seed)
            centres = kmeans.fit(source).cluster_centers_
        self.centres = np.concatenate([l2_normalise(centres), target])
        # a source centre summarises many clips; a bank entry is one clip's own row
        self.centre_rows = np.concatenate([np.full(len(centres), -1), target_rows])

    def _score(self, x, exclude):
        distances = cosine_distances(x, self.centres)
        return masked_distances(distances, self.centre_rows, exclude).min(axis=1)
