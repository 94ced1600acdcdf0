"""Embedding back-ends, fitted on embeddings per (machine type, section), and the decision
threshold. The forward-pass scores (a classifier's negative log-probability) are
:mod:`asd_lib.inference.scores`.

Importing the package registers every embedding back-end in ``BACKENDS``
(``BACKENDS.build("knn", k=4).fit(embeddings, domains, classes).score(test)``).
"""
from asd_lib.backends.base import Backend
from asd_lib.backends.fusion import ScoreFusion
from asd_lib.backends.gmm import GaussianMixtureBackend
from asd_lib.backends.kmeans import KMeansMemoryBank
from asd_lib.backends.knn import CosineKNN
from asd_lib.backends.knn_ldn import LocalDensityKNN
from asd_lib.backends.lof import LocalOutlierFactorBackend
from asd_lib.backends.mahalanobis import SelectiveMahalanobis
from asd_lib.backends.pca_residual import PCAResidual
from asd_lib.backends.registry import BACKENDS

__all__ = [
    "BACKENDS",
    "Backend",
    "CosineKNN",
    "GaussianMixtureBackend",
    "KMeansMemoryBank",
    "LocalDensityKNN",
    "LocalOutlierFactorBackend",
    "PCAResidual",
    "ScoreFusion",
    "SelectiveMahalanobis",
]
