"""Cosine k-nearest-neighbour scorer, with one neighbour bank per domain.

Score of a clip x: for each domain d present in the training clips, the mean cosine
distance ``1 - cos(x, y)`` to its k nearest training embeddings y of domain d; the score
is the minimum over domains (the 2022-2024 domain-generalisation rule used by Wilkinghoff's
and ASDKit's kNN back-ends). With a single domain (DCASE 2020: all ``source``) it is the
mean distance to the k nearest training embeddings; k = 1 is the nearest-neighbour
distance. A domain with fewer than k clips (e.g. 10 target clips) uses all of them.
"""
import logging

import numpy as np

from asd_lib.backends.base import DOMAINS, Backend, cosine_distances, positive_int
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)


@BACKENDS.register("knn")
class CosineKNN(Backend):
    """``k``: neighbours averaged per domain (e.g. 1, 2, 4, ..., 32)."""

    def __init__(self, k: int = 1):
        self.k = positive_int(k, "k", "knn")
        self.banks = {}

    def _fit(self, x, domains, classes):
        self.banks = {d: x[domains == d] for d in DOMAINS if (domains == d).any()}
        for domain, bank in self.banks.items():
            if len(bank) < self.k:
                logger.info("knn: %s domain has %d clips < k=%d; averaging over all of them",
                            domain, len(bank), self.k)

    def _score(self, x):
        per_domain = []
        for bank in self.banks.values():
            k = min(self.k, len(bank))
            nearest = np.partition(cosine_distances(x, bank), k - 1, axis=1)[:, :k]
            per_domain.append(nearest.mean(axis=1))
        return np.min(per_domain, axis=0)
