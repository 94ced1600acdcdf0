"""Common interface of the anomaly scorers on embeddings, and the cosine helpers they share.

A back-end is fitted once per group (machine type, section) on the normal training clips
of that group and then scores any clip of the group; a higher score means more anomalous.
A training clip is scored as a test clip would be: ``score(x, exclude)`` leaves the fitted
row ``exclude[i]`` out of what the back-end memorises (the neighbours of kNN, the target
memory bank), so a clip is never its own nearest neighbour. Back-ends that summarise
their training clips (cluster centres, a Gaussian mixture, a covariance) score them as
fitted.
DCASE 2020 groups hold one domain (all ``source``); DCASE 2022-2024 groups hold many
``source`` clips and a few ``target`` clips, and ``classes`` carries each clip's training
class (e.g. machine type + attributes) for back-ends that use it.
"""
import abc
from typing import Optional, Sequence

import numpy as np

DOMAINS = ("source", "target")
_NORM_FLOOR = 1e-12


class Backend(abc.ABC):
    """``fit(embeddings [N, E], domains [N], classes [N])`` then ``score(embeddings [M, E])``.

    Subclasses implement ``_fit`` and ``_score`` on validated float64 arrays; this class
    checks shapes, values and the fitted state so every back-end reports bad input alike.
    """

    dim = None  # embedding size seen by fit; None until fitted

    def fit(self, embeddings, domains: Sequence[str], classes: Sequence[str]) -> "Backend":
        x = _as_matrix(embeddings, "training embeddings")
        domains = np.asarray(list(domains), dtype=object)
        classes = np.asarray(list(classes), dtype=object)
        if len(domains) != len(x) or len(classes) != len(x):
            raise ValueError(
                f"{type(self).__name__}.fit: {len(x)} embeddings but {len(domains)} domains "
                f"and {len(classes)} classes; give one domain and one class per clip"
            )
        unknown = sorted(set(domains) - set(DOMAINS))
        if unknown:
            raise ValueError(f"{type(self).__name__}.fit: unknown domains {unknown}; "
                             f"use {' or '.join(DOMAINS)} (utt2domain)")
        self._fit(x, domains, classes)
        self.dim = x.shape[1]
        return self

    def score(self, embeddings, exclude=None) -> np.ndarray:
        """Anomaly score per row, float64 ``[M]``; higher is more anomalous. ``exclude``
        ``[M]`` (int, -1 for none) names the fitted row each row leaves out (leave one out)."""
        if self.dim is None:
            raise ValueError(f"{type(self).__name__}: score called before fit")
        x = _as_matrix(embeddings, "embeddings to score")
        if x.shape[1] != self.dim:
            raise ValueError(f"{type(self).__name__}: embeddings of size {x.shape[1]}, but "
                             f"the back-end was fitted on size {self.dim}")
        if exclude is not None:
            exclude = np.asarray(exclude, dtype=np.int64).reshape(len(x))
        return np.asarray(self._score(x, exclude), dtype=np.float64).reshape(len(x))

    @abc.abstractmethod
    def _fit(self, x: np.ndarray, domains: np.ndarray, classes: np.ndarray) -> None:
        """Fit on ``x`` [N, E] (float64) with ``domains`` and ``classes`` (object arrays)."""

    @abc.abstractmethod
    def _score(self, x: np.ndarray, exclude: Optional[np.ndarray]) -> np.ndarray:
        """Scores [M] of ``x`` [M, E] (float64), each row without the fitted row
        ``exclude[i]`` where the back-end memorises rows (``exclude`` may be None)."""


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (an all-zero row stays zero: cosine 0 to everything)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, _NORM_FLOOR)


def cosine_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``1 - cos(x_i, y_j)`` for rows of ``x`` [M, E] and ``y`` [N, E] -> [M, N]."""
    return 1.0 - l2_normalise(x) @ l2_normalise(y).T


def positive_int(value, name: str, owner: str) -> int:
    """``value`` as an int >= 1, or a ValueError naming the ``backend_conf`` key."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: backend_conf {name} must be an integer >= 1, got {value!r}")
    return int(value)


def _as_matrix(embeddings, what: str) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{what}: expected a non-empty [N, E] array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{what}: NaN or infinite values; check the model's outputs")
    return x


def masked_distances(distances: np.ndarray, bank_rows: np.ndarray,
                     exclude: Optional[np.ndarray]) -> np.ndarray:
    """``distances`` ``[M, N]`` to a bank whose column j is fitted row ``bank_rows[j]``, with
    the column of fitted row ``exclude[i]`` set to infinity in row i."""
    if exclude is None:
        return distances
    return np.where(bank_rows[None, :] == exclude[:, None], np.inf, distances)
