"""Attentive statistics pooling: frame-level features -> one utterance-level vector.

Okabe, Koshinaka and Shinoda, "Attentive statistics pooling for deep speaker embedding",
Interspeech 2018. For frames ``h_t`` (t = 1..T) of dimension D, a small MLP gives one
scalar score per frame, the scores are normalised over time, and the weighted mean and
weighted standard deviation are concatenated (paper Eqs. 7-10)::

    e_t     = v^T f(W h_t + b) + k                       (Eq. 7, f = tanh or ReLU)
    alpha_t = exp(e_t) / sum_tau exp(e_tau)              (Eq. 8)
    mu      = sum_t alpha_t h_t                          (Eq. 9)
    sigma   = sqrt(sum_t alpha_t h_t * h_t - mu * mu)    (Eq. 10, element-wise)
    output  = [mu; sigma]                                (2 D values)

The variance under the square root is floored at ``eps`` (it can round to a tiny negative
number, and the square root's gradient is unbounded at 0).
"""
import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def weighted_mean_std(x: torch.Tensor, weights: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``[mu; sigma]`` ``[B, 2 D]`` of frames ``x`` ``[B, T, D]`` under per-frame weights
    ``[B, T]`` that sum to 1 over T (Eqs. 9-10)."""
    if x.dim() != 3 or weights.shape != x.shape[:2]:
        raise ValueError(f"weighted_mean_std: frames [B, T, D] and weights [B, T] expected, "
                         f"got {tuple(x.shape)} and {tuple(weights.shape)}")
    w = weights.unsqueeze(-1)
    mean = (w * x).sum(dim=1)
    variance = (w * x * x).sum(dim=1) - mean * mean
    return torch.cat([mean, variance.clamp(min=eps).sqrt()], dim=1)


class AttentiveStatsPooling(nn.Module):
    """``[B, T, D]`` -> ``[B, 2 D]``: attention-weighted mean and standard deviation.

    ``attention_dim`` is the hidden size of the scoring MLP (W: D -> attention_dim,
    v: attention_dim -> 1), ``activation`` its non-linearity f.
    """

    def __init__(self, in_dim: int, attention_dim: int = 128, activation: str = "tanh",
                 eps: float = 1e-6):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"AttentiveStatsPooling: activation must be one of "
                             f"{sorted(ACTIVATIONS)}, got {activation!r}")
        self.attention = nn.Sequential(nn.Linear(in_dim, attention_dim),
                                       ACTIVATIONS[activation](),
                                       nn.Linear(attention_dim, 1))
        self.eps = eps
        self.out_dim = 2 * in_dim

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention weights alpha ``[B, T]`` (Eqs. 7-8)."""
        return torch.softmax(self.attention(x).squeeze(-1), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return weighted_mean_std(x, self.weights(x), self.eps)
