"""Anomaly score of an ID classifier: the negative log-probability of the clip's own class.

score = -log softmax(z)[y], with z the head's logits for the clip and y its true class
(machine ID / section). STgram-MFN (Liu et al., ICASSP 2022) and its public code compute z
with the ArcFace margin applied at y; ``margin=False`` gives the margin-free variant.
"""
import torch


def neg_log_prob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """-log p(labels | logits) per row: [B, C], [B] -> [B]."""
    return -torch.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
