"""Additive angular margin (ArcFace) classifier head.

Deng et al., "ArcFace: Additive angular margin loss for deep face recognition", CVPR 2019,
Eq. 3: the target logit is ``s * cos(theta_y + m)``, every other logit ``s * cos(theta_j)``,
where ``cos(theta_j)`` is the cosine between the embedding and the class weight ``W_j``.
Sub-centres (Deng et al., "Sub-center ArcFace", ECCV 2020): each class has K weight vectors
and its cosine is the largest of the K.

As in the insightface / STgram-MFN code (``ArcMarginProduct``), ``cos(theta + m)`` is used
only while ``theta + m < pi`` (i.e. ``cos(theta) > cos(pi - m)``); beyond that the target
logit falls back to ``cos(theta) - m * sin(m)`` so it keeps decreasing with theta.  With
``easy_margin`` the margin applies only where ``cos(theta) > 0``.  Cosines are clamped to
``[-1 + eps, 1 - eps]`` before ``sqrt(1 - cos^2)`` so gradients stay finite.

STgram-MFN uses m = 0.7, s = 30 (Liu et al., ICASSP 2022).
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from asd_lib.losses.registry import HEADS


@HEADS.register("arcface")
class ArcMarginHead(nn.Module):
    """Embedding ``[B, embedding_dim]`` (+ labels ``[B]``) -> logits ``[B, num_classes]``.

    With ``labels`` the margin is applied at each row's label (training, and the
    published anomaly score); without, the logits are ``scale * cos(theta)``.
    """

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        margin: float = 0.7,
        scale: float = 30.0,
        easy_margin: bool = False,
        sub_centers: int = 1,
        eps: float = 1e-7,
    ):
        super().__init__()
        if sub_centers < 1:
            raise ValueError(f"ArcMarginHead: sub_centers must be >= 1, got {sub_centers}")
        self.num_classes = num_classes
        self.sub_centers = sub_centers
        self.margin = margin
        self.scale = scale
        self.easy_margin = easy_margin
        self.eps = eps
        # rows are class-major: class c owns rows c * K ... c * K + K - 1
        self.weight = nn.Parameter(torch.empty(num_classes * sub_centers, embedding_dim))
        nn.init.xavier_uniform_(self.weight)
        self.cos_m = math.cos(margin)
        self.sin_m = math.sin(margin)
        self.threshold = math.cos(math.pi - margin)
        self.fallback_shift = math.sin(math.pi - margin) * margin

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """Clamped cosine to each class ``[B, num_classes]`` (max over sub-centres)."""
        cos = F.linear(F.normalize(embedding, dim=1), F.normalize(self.weight, dim=1))
        if self.sub_centers > 1:
            cos = cos.view(-1, self.num_classes, self.sub_centers).amax(dim=2)
        return cos.clamp(-1.0 + self.eps, 1.0 - self.eps)

    def forward(
        self, embedding: torch.Tensor, labels: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        cos = self.cosine(embedding)
        if labels is None:
            return self.scale * cos
        if labels.shape != (cos.shape[0],):
            raise ValueError(
                f"ArcMarginHead: labels must have shape [{cos.shape[0]}], got {tuple(labels.shape)}"
            )
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"ArcMarginHead: labels must lie in [0, {self.num_classes - 1}]; got "
                f"{labels.min().item()}..{labels.max().item()} (check num_classes in the config)"
            )
        sin = torch.sqrt(1.0 - cos * cos)
        phi = cos * self.cos_m - sin * self.sin_m  # cos(theta + m)
        if self.easy_margin:
            phi = torch.where(cos > 0, phi, cos)
        else:
            phi = torch.where(cos > self.threshold, phi, cos - self.fallback_shift)
        is_target = F.one_hot(labels.long(), self.num_classes).bool()
        return self.scale * torch.where(is_target, phi, cos)
