"""Feature Perturbation Head (FPH) and the noisy SupCon term of OS-SCL.

Huang, Fang, He, "Noise supervised contrastive learning and feature-perturbed for anomalous
sound detection" (public code huangswt/OS-SCL, ``BasicHead`` / ``LeakyReLUHead``): an
encoder-decoder bottleneck on the embedding,

    Linear(E, R), act, BN(R), Linear(R, E), act, BN(E), then L2-normalise,

with E = 128, R = 64 and act = ReLU (``leaky_relu``: LeakyReLU(0.01), the code's choice
for the mel-only model).  ``fph_supcon`` owns the head and applies SupCon (temperature
0.02, base temperature 0.07) with the labels ``y_a`` to the perturbed embeddings of the
mixed clips; the classifier (Noisy-ArcMix) reads the embedding itself.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.losses.supcon import SupConTerm

ACTIVATIONS = ("relu", "leaky_relu")


class FeaturePerturbationHead(nn.Module):
    """Embedding ``[B, E]`` -> perturbed, L2-normalised embedding ``[B, E]``."""

    def __init__(self, embedding_dim: int = 128, hidden_dim: int = 64,
                 activation: str = "relu", negative_slope: float = 0.01):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"FeaturePerturbationHead: unknown activation {activation!r}; "
                             f"choose one of {ACTIVATIONS}")

        def act():
            return nn.ReLU() if activation == "relu" else nn.LeakyReLU(negative_slope)

        self.layers = nn.Sequential(
            nn.Linear(embedding_dim, hidden_dim), act(), nn.BatchNorm1d(hidden_dim),
            nn.Linear(hidden_dim, embedding_dim), act(), nn.BatchNorm1d(embedding_dim),
        )

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.layers(embedding), dim=1)


@OBJECTIVES.register("fph_supcon")
class FPHSupCon(SupConTerm):
    """Noisy SupCon on FPH-perturbed embeddings (OS-SCL); the head trains with the model.

    ``held_out`` defaults to false: the OS-SCL code picks the best epoch by the held-out
    classification loss alone.
    """

    def __init__(self, embedding_dim: int = 128, hidden_dim: int = 64,
                 activation: str = "relu", temperature: float = 0.02,
                 base_temperature: Optional[float] = 0.07, held_out: bool = False):
        super().__init__(temperature, base_temperature, held_out)
        self.head = FeaturePerturbationHead(embedding_dim, hidden_dim, activation)

    def forward(self, step, head):
        return self.contrast(self.head(step.embedding), step.labels), None
