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

from asd_lib.backends.base import DOMAINS, Backend, cosine_distances, masked_distances, positive_int
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)


@BACKENDS.register("knn")
class CosineKNN(Backend):
    """``k``: neighbours averaged per domain (usually searched over 1, 2, 4, 8, 16, 32)."""

    def __init__(self, k: int = 1):
        self.k = positive_int(k, "k", "knn")
        self.banks = {}

    def _fit(self, x, domains, classes):
        self.banks = {d: x[domains == d] for d in DOMAINS if (domains == d).any()}
        self.bank_rows = {d: np.flatnonzero(domains == d) for d in self.banks}
        for domain, bank in self.banks.items():
            if len(bank) < self.k:
                logger.info("knn: %s domain has %d clips < k=%d; averaging over all of them",
                            domain, len(bank), self.k)

    def _score(self, x, exclude):
        per_domain = []
        for domain, bank in self.banks.items():
            distances = masked_distances(cosine_distances(x, bank), self.bank_rows[domain],
                                         exclude)
            usable = np.isfinite(distances).sum(axis=1)
            k = min(self.k, len(bank))
            nearest = np.sort(distances, axis=1)[:, :k]
            # a bank left with fewer than k neighbours averages over those it has
            counts = np.minimum(usable, k)
            total = np.where(np.isfinite(nearest), nearest, 0.0).sum(axis=1)
            per_domain.append(np.where(counts > 0, total / np.maximum(counts, 1), np.inf))
        return np.min(per_domain, axis=0)
