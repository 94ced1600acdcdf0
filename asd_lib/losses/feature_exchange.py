"""Feature exchange (FeatEx): self-supervision by swapping branch embeddings between clips.

Wilkinghoff, "Self-supervised learning for anomalous sound detection", ICASSP 2024
(public code wilkinghoff/ssl4asd and wilkinghoff/dcase2024_task2, ``AugLayer``): the model
embeds each clip with two branches, ``e = [e_fft, e_spec]``. For a clip i and its partner
j (the batch in reverse order, as in the code), the exchanged embedding
``[e_fft(i), e_spec(j)]`` is a sample of a new class, so a classifier over 3C classes
learns whether the two halves belong together:

    kept clip i:       [e_fft(i), e_spec(i)]  target [q_i, 0, 0]
    exchanged clip i:  [e_fft(i), e_spec(j)]  target [0, q_i / 2, q_j / 2]

with q the clip's (mixup) target over the C classes. Each clip is exchanged with
probability ``prob`` (0.5 in the paper) during training; on the held-out split nothing is
exchanged (Keras' ``in_train_phase``). Further parts of the embedding (e.g. the attribute
text of System-3, Tian et al.) stay with clip i. The 3C-class task is the
``feature_exchange`` classifier of the ``subcluster_adacos`` head
(``head_conf: {feature_exchange: true}``).

The model returns ``{"embedding": cat(parts), "parts": [e_fft, e_spec, ...]}``
(``asd_lib.models.ssl_two_branch``).
"""
from typing import Sequence

import torch

from asd_lib.losses.adacos import adacos_head, soft_targets
from asd_lib.losses.objectives import OBJECTIVES


def reversed_partners(batch: int, device=None) -> torch.Tensor:
    """The partner of every item: the batch in reverse order."""
    return torch.arange(batch - 1, -1, -1, device=device)


def exchange_embedding(parts: Sequence[torch.Tensor], exchanged: torch.Tensor,
                       partner: torch.Tensor) -> torch.Tensor:
    """``cat(parts)`` with the second part taken from the partner where ``exchanged``."""
    swapped = torch.where(exchanged.unsqueeze(1), parts[1][partner], parts[1])
    return torch.cat([parts[0], swapped, *parts[2:]], dim=1)


def exchange_targets(targets: torch.Tensor, exchanged: torch.Tensor,
                     partner: torch.Tensor) -> torch.Tensor:
    """``[B, 3C]`` targets: ``[q_i, 0, 0]`` kept, ``[0, q_i / 2, q_partner / 2]`` exchanged."""
    zeros = torch.zeros_like(targets)
    kept = torch.cat([targets, zeros, zeros], dim=1)
    swapped = torch.cat([zeros, 0.5 * targets, 0.5 * targets[partner]], dim=1)
    return torch.where(exchanged.unsqueeze(1), swapped, kept)


@OBJECTIVES.register("feature_exchange")
class FeatureExchange:
    """``objective(step, head) -> (3C-class sub-cluster AdaCos loss, None)``."""

    def __init__(self, prob: float = 0.5):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"feature_exchange: prob must lie in [0, 1], got {prob}")
        self.prob = prob

    def __call__(self, step, head):
        head = adacos_head(head, "feature_exchange")
        if head.exchange is None:
            raise ValueError("feature_exchange: set head_conf feature_exchange: true so the "
                             "head holds the 3C-class classifier")
        parts = step.out.get("parts")
        if parts is None or len(parts) < 2:
            raise ValueError("feature_exchange: the model returns no 'parts' (two branch "
                             "embeddings); use a two-branch model such as ssl_two_branch")
        batch = parts[0].shape[0]
        device = parts[0].device
        if head.exchange.training:
            exchanged = (torch.rand(batch) < self.prob).to(device)
        else:
            exchanged = torch.zeros(batch, dtype=torch.bool, device=device)
        partner = reversed_partners(batch, device)
        targets = soft_targets(step.labels, step.mix, head.num_classes)
        loss, _ = head.exchange.loss(exchange_embedding(parts, exchanged, partner),
                                     exchange_targets(targets, exchanged, partner))
        return loss, None
