"""Feature Perturbation Head (FPH) of OS-SCL.

Huang, Fang, He, "Noise supervised contrastive learning and feature-perturbed for anomalous
sound detection", Sec. II-A (public code huangswt/OS-SCL, ``BasicHead`` / ``LeakyReLUHead``):
the first encoder layer and the last decoder layer of an autoencoder, without a
reconstruction loss, on the embedding,

    Linear(E, R), act, BN(R), Linear(R, E), act, BN(E), then L2-normalise,

with E = 128 and R = 64 (Sec. III-A; Table VI tries 4 to 128); act = ReLU for TFSTgram
and LeakyReLU (slope 0.01, the code's) for the mel-only model (Sec. III-A). The layer
order inside each half (Linear, activation, BatchNorm) is the public code's choice, which we
follow: the paper gives only the two sizes.
"""
import torch
import torch.nn.functional as F
from torch import nn

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
