"""Cosine nearest-neighbour distance normalised by the neighbour's local density.

Source: the K-NN variant (A^K-NN_scaled) of the local density-based anomaly score
normalisation of Wilkinghoff, Yang, Ebbers, Germain, Wichern and Le Roux, "Local
density-based anomaly score normalization for domain generalization", arXiv:2509.10951,
2025, used as the "locally density-normalized kNN" back-end by Zhou and Wang, "Scoring
backends matter more than pooling: a systematic study of training-free anomalous sound
detection under domain shift", arXiv:2606.19269, 2026. Normal clips of a sparse domain
(the few target clips) lie far from their nearest training clips; dividing by the
neighbour's own spacing puts the domains on one scale, so that one decision threshold
serves both.

Score of a clip x, per domain bank B (one per domain present, as in
:mod:`asd_lib.backends.knn`)::

    y = argmin_{b in B} d(x, b)                 d = cosine distance 1 - cos
    rho(y) = mean of d(y, b) over the k nearest b in B other than y
    score_B(x) = d(x, y) / max(rho(y), floor)

and the score is ``min_B score_B(x)``. This definition follows the papers' abstracts and
summaries; it has not been compared with the equation of arXiv:2509.10951 term by term,
and that paper's GWRP-weighted variant is not implemented. asd_lib's choices: the cosine
distance of the other back-ends; the density taken within the neighbour's own domain
bank; ``k`` = 4 by default; and ``floor`` (default 1e-6), which keeps a neighbour whose k
nearest clips coincide with it (duplicate embeddings, rho = 0) from dividing by zero. A
domain with one clip has no density and is left out (logged); a bank whose clips have
fewer than k others averages over the others it has; of equally near neighbours the
first fitted one is taken.

Leave-one-out (``score(x, exclude)``): the fitted row ``exclude[i]`` is neither x's
nearest neighbour nor one of the k clips that give any neighbour's density; a bank left
with no usable neighbour or density gives no score for that row (infinity, so another
domain's score is kept).
"""
import logging

import numpy as np

from asd_lib.backends.base import DOMAINS, Backend, cosine_distances, positive_int
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)


@BACKENDS.register("knn_ldn")
class LocalDensityKNN(Backend):
    """``k``: clips whose mean distance is the neighbour's density; ``floor``: the
    smallest density distance divided by."""

    def __init__(self, k: int = 4, floor: float = 1e-6):
        self.k = positive_int(k, "k", "knn_ldn")
        if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not floor > 0:
            raise ValueError(f"knn_ldn: backend_conf floor must be a number > 0, got {floor!r}")
        self.floor = float(floor)
        self.banks = {}

    def _fit(self, x, domains, classes):
        self.banks, self.bank_rows, self.neighbours, self.neighbour_distances = {}, {}, {}, {}
        for domain in DOMAINS:
            rows = np.flatnonzero(domains == domain)
            if len(rows) == 1:
                logger.warning("knn_ldn: 1 %s clip has no local density; the %s domain is "
                               "left out", domain, domain)
            if len(rows) < 2:
                continue
            bank = x[rows]
            within = cosine_distances(bank, bank)
            np.fill_diagonal(within, np.inf)
            # k + 1 nearest others, so that k remain when one of them is left out
            order = np.argsort(within, axis=1, kind="stable")[:, :min(self.k + 1, len(rows) - 1)]
            self.banks[domain], self.bank_rows[domain] = bank, rows
            self.neighbours[domain] = order
            self.neighbour_distances[domain] = np.take_along_axis(within, order, axis=1)
            if len(rows) - 1 < self.k:
                logger.info("knn_ldn: %s domain has %d clips, fewer than k=%d others each; "
                            "densities average over all of them", domain, len(rows), self.k)
        if not self.banks:
            raise ValueError(f"knn_ldn: needs at least 2 training clips of one domain, got "
                             f"{len(x)}")

    def _score(self, x, exclude):
        per_domain = [self._score_bank(x, exclude, domain) for domain in self.banks]
        return np.min(per_domain, axis=0)

    def _score_bank(self, x, exclude, domain):
        rows = self.bank_rows[domain]
        # the left-out row's index within this bank, -1 where it is not in the bank
        left_out = np.full(len(x), -1)
        if exclude is not None:
            position = np.searchsorted(rows, exclude)
            inside = (position < len(rows)) & (rows[np.minimum(position, len(rows) - 1)]
                                               == exclude)
            left_out = np.where(inside, position, -1)
        distances = cosine_distances(x, self.banks[domain])
        masked = np.where(np.arange(len(rows))[None, :] == left_out[:, None], np.inf,
                          distances)
        nearest = np.argmin(masked, axis=1)
        to_nearest = masked[np.arange(len(x)), nearest]
        neighbours = self.neighbours[domain][nearest]
        usable = neighbours != left_out[:, None]
        used = usable & (np.cumsum(usable, axis=1) <= self.k)
        counts = used.sum(axis=1)
        total = np.where(used, self.neighbour_distances[domain][nearest], 0.0).sum(axis=1)
        density = np.maximum(total / np.maximum(counts, 1), self.floor)
        valid = np.isfinite(to_nearest) & (counts > 0)
        return np.where(valid, to_nearest / density, np.inf)
