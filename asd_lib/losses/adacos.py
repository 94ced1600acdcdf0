"""Sub-cluster AdaCos: a classifier head and its loss with mixup (soft) targets.

Wilkinghoff, "Sub-cluster AdaCos: learning representations for anomalous sound
detection", IJCNN 2021, used with 16 sub-clusters by Wilkinghoff, "Self-supervised
learning for anomalous sound detection", ICASSP 2024 (public code wilkinghoff/ssl4asd,
wilkinghoff/dcase2024_task2, ``SCAdaCos``).

Every class c owns K centres w_ck (sub-clusters). With the L2-normalised embedding x and
centres, ``cos_bck = x_b . w_ck`` and the class probability sums the softmax over all
C*K scaled cosines:

    p(c | x_b) = sum_k exp(s cos_bck) / sum_{c', k'} exp(s cos_bc'k'),

so the class logit ``logsumexp_k(s cos_bck)`` gives exactly these probabilities under a
softmax. The loss is the cross-entropy with soft targets q (one-hot, or the mixup blend
``lam onehot(y) + (1 - lam) onehot(y[perm])``).

Scale s: it starts at the fixed AdaCos scale ``sqrt(2) log(C K - 1)`` (Zhang et al.,
"AdaCos", CVPR 2019) and, with ``adaptive_scale`` (the default: the dynamic scale of
sub-cluster AdaCos), is re-estimated on every training batch before the loss, without
gradient:

    s <- log(B_avg) / cos(min(pi / 4, theta_med)),
    B_avg = mean_b sum_{c,k} exp(s_old cos_bck)         (all C*K logits, target included),
    theta_med = median_b of n_b * sum_c q_bc sum_k theta_bck,

theta = arccos of the cosines clamped to [-1 + eps, 1 - eps] and n_b the number of
classes with non-zero target weight (1, or 2 for a mixed clip). ``theta_med`` is the
quantity of the public code (``theta_class``; torch's median, the lower middle value for
an even batch); summed over 16 sub-clusters it exceeds pi / 4, so the denominator is then
cos(pi / 4). ``adaptive_scale: false`` keeps the fixed scale.

Centres: Glorot-uniform, not trained (``trainable_centers: false``, the public code's
choice; a buffer then) or trained. With ``feature_exchange: true`` the head also holds
the 3C-class classifier of the feature-exchange task (``asd_lib.losses.feature_exchange``)
with its own centres and scale.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.losses.registry import HEADS


def fixed_scale(num_logits: int) -> float:
    """AdaCos' fixed scale ``sqrt(2) log(M - 1)`` for M logits (M >= 3)."""
    if num_logits < 3:
        raise ValueError(f"sub-cluster AdaCos: needs at least 3 centres in all, got {num_logits}; "
                         "use more classes or sub_clusters")
    return math.sqrt(2.0) * math.log(num_logits - 1)


def soft_targets(labels: torch.Tensor, mix, num_classes: int) -> torch.Tensor:
    """``[B, num_classes]`` targets: one-hot labels, blended as mixup blended the inputs
    (``mix``: :class:`asd_lib.data.step.Mix` or ``None``)."""
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"sub-cluster AdaCos: labels must lie in [0, {num_classes - 1}]; got "
                         f"{labels.min().item()}..{labels.max().item()}")
    targets = F.one_hot(labels.long(), num_classes).float()
    if mix is None:
        return targets
    lam = mix.lam.to(targets.device, targets.dtype)
    lam = lam.expand(len(labels)).unsqueeze(1)
    return lam * targets + (1 - lam) * targets[mix.perm.to(targets.device)]


def adaptive_scale(scale: torch.Tensor, cos: torch.Tensor, targets: torch.Tensor,
                   eps: float = 1e-7) -> torch.Tensor:
    """The re-estimated scale (module docstring) from ``cos [B, C, K]`` and ``targets
    [B, C]`` at the current ``scale``."""
    batch = cos.shape[0]
    log_b_avg = torch.logsumexp((scale * cos).reshape(-1), dim=0) - math.log(batch)
    theta = torch.acos(cos.clamp(-1.0 + eps, 1.0 - eps))
    mixed = (targets > 0).sum(dim=1).to(theta.dtype)
    theta_class = (targets.unsqueeze(2) * theta).sum(dim=(1, 2)) * mixed
    theta_med = theta_class.median().clamp(max=math.pi / 4)
    return log_b_avg / torch.cos(theta_med)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-sum_c q_c log softmax(logits)_c``."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


class SubClusterAdaCos(nn.Module):
    """Sub-cluster centres, the scale and the loss of one classification task."""

    def __init__(self, embedding_dim: int, num_classes: int, sub_clusters: int = 16,
                 adaptive_scale: bool = True, trainable_centers: bool = False,
                 eps: float = 1e-7):
        super().__init__()
        if sub_clusters < 1:
            raise ValueError(f"sub-cluster AdaCos: sub_clusters must be >= 1, got {sub_clusters}")
        self.num_classes = num_classes
        self.sub_clusters = sub_clusters
        self.adaptive = adaptive_scale
        self.eps = eps
        centers = torch.empty(num_classes * sub_clusters, embedding_dim)  # class-major rows
        nn.init.xavier_uniform_(centers)
        if trainable_centers:
            self.centers = nn.Parameter(centers)
        else:
            self.register_buffer("centers", centers)
        self.register_buffer("scale", torch.tensor(fixed_scale(num_classes * sub_clusters)))

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """Cosines to every centre, ``[B, num_classes, sub_clusters]``."""
        cos = F.linear(F.normalize(embedding, dim=1), F.normalize(self.centers, dim=1))
        return cos.view(-1, self.num_classes, self.sub_clusters)

    def class_logits(self, cos: torch.Tensor) -> torch.Tensor:
        """``logsumexp_k(s cos_bck)`` ``[B, num_classes]``."""
        return torch.logsumexp(self.scale * cos, dim=2)

    def loss(self, embedding: torch.Tensor,
             targets: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(soft cross-entropy, class logits); in training with ``adaptive_scale`` the
        scale is re-estimated on this batch first."""
        if targets.shape != (embedding.shape[0], self.num_classes):
            raise ValueError(f"sub-cluster AdaCos: targets of shape {tuple(targets.shape)} for "
                             f"{embedding.shape[0]} embeddings and {self.num_classes} classes")
        cos = self.cosine(embedding)
        if self.training and self.adaptive:
            with torch.no_grad():
                self.scale.copy_(adaptive_scale(self.scale, cos.detach(), targets, self.eps))
        logits = self.class_logits(cos)
        return soft_cross_entropy(logits, targets), logits


@HEADS.register("subcluster_adacos")
class SubClusterAdaCosHead(SubClusterAdaCos):
    """Embedding ``[B, E]`` -> class logits ``[B, num_classes]`` (no margin: ``labels``
    are accepted for the common head signature and ignored)."""

    def __init__(self, embedding_dim: int, num_classes: int, sub_clusters: int = 16,
                 adaptive_scale: bool = True, trainable_centers: bool = False,
                 feature_exchange: bool = False, eps: float = 1e-7):
        super().__init__(embedding_dim, num_classes, sub_clusters, adaptive_scale,
                         trainable_centers, eps)
        self.exchange = (SubClusterAdaCos(embedding_dim, 3 * num_classes, sub_clusters,
                                          adaptive_scale, trainable_centers, eps)
                         if feature_exchange else None)

    def forward(self, embedding: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.class_logits(self.cosine(embedding))


def adacos_head(head, objective: str) -> SubClusterAdaCosHead:
    """``head`` checked to be a sub-cluster AdaCos head."""
    if not isinstance(head, SubClusterAdaCosHead):
        raise ValueError(f"{objective}: needs head: subcluster_adacos, got "
                         f"{type(head).__name__ if head is not None else 'none'}")
    return head


@OBJECTIVES.register("subcluster_adacos")
class SubClusterAdaCosLoss:
    """``objective(step, head) -> (soft cross-entropy, class logits)`` with the mixup
    targets of the step (Wilkinghoff's ``mixupLoss`` on the ``SCAdaCos`` output)."""

    def __call__(self, step, head):
        head = adacos_head(head, "subcluster_adacos")
        targets = soft_targets(step.labels, step.mix, head.num_classes)
        return head.loss(step.embedding, targets)
