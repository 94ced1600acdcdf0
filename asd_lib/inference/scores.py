"""Anomaly scores read off the forward pass, for a clip given a candidate training class.

A class-conditional score rates how badly a clip fits class ``c``:

- ``neg_log_prob``: ``-log softmax(z)[c]``, z the head's logits; with ``score_margin`` the
  logits carry the head's margin at c, as the STgram-MFN code scores (Liu, Guan, Zhu, Wang,
  ICASSP 2022);
- ``neg_prob``: ``-softmax(z)[c]`` (Giri et al., "Self-supervised classification for
  detecting anomalous sounds", DCASE 2020 workshop, Sec. 3.1: the softmax score at the
  true ID), averaged over the clip's patches (ours: the paper does not say how patches
  combine);

and ``model_score`` is the model's own per-clip ``score`` output (an autoencoder's
reconstruction error), which needs no class.

A test clip's class is not known at test time: only its machine type and section are
(the official evaluation names hide the domain and attributes). Inference therefore scores
a clip with every training class of its section and keeps the smallest score, the
best-matching class, as the DCASE 2022-2024 attribute-classifier systems do. Where a
section has one class (the machine IDs of DCASE 2020), that is the clip's own class.
"""
from dataclasses import dataclass
from typing import Callable, Dict, Optional

import torch


def _neg_log_prob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return -torch.log_softmax(logits, dim=-1).gather(-1, labels[:, None]).squeeze(-1)


def _neg_prob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return -torch.softmax(logits, dim=-1).gather(-1, labels[:, None]).squeeze(-1)


@dataclass(frozen=True)
class ForwardScore:
    """A score of the forward pass: ``per_class(logits [N, C], labels [N]) -> [N]``, or
    (``per_class`` None) the model's own ``score`` output."""

    name: str
    per_class: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]

    @property
    def needs_class(self) -> bool:
        return self.per_class is not None


FORWARD_SCORES: Dict[str, ForwardScore] = {
    "neg_log_prob": ForwardScore("neg_log_prob", _neg_log_prob),
    "neg_prob": ForwardScore("neg_prob", _neg_prob),
    "model_score": ForwardScore("model_score", None),
}


def class_scores(score: ForwardScore, head, embedding: torch.Tensor, candidates: torch.Tensor,
                 margin: bool) -> torch.Tensor:
    """Scores ``[B, K]`` of each clip for each of its candidate classes ``[B, K]``.

    ``embedding`` is ``[B, E]``, or ``[B, P, E]`` for patch embeddings, whose scores are
    averaged over the P patches. With ``margin`` the head sees each candidate as the label
    (its margin applies there), so it runs once per candidate column.
    """
    if head is None:
        raise ValueError(f"the {score.name} score needs the class logits of a head; this "
                         "model has none (head: none): use model_score or an embedding "
                         "back-end in the inference config")
    batch, count = candidates.shape
    positions = embedding.shape[1] if embedding.dim() == 3 else 1
    flat = embedding.reshape(batch * positions, embedding.shape[-1])
    flat_candidates = candidates.repeat_interleave(positions, dim=0)
    logits = None if margin else head(flat, None).float()
    columns = []
    for k in range(count):
        labels = flat_candidates[:, k]
        column_logits = head(flat, labels).float() if margin else logits
        columns.append(score.per_class(column_logits, labels))
    scores = torch.stack(columns, dim=1)  # [B * P, K]
    return scores.view(batch, positions, count).mean(dim=1)


def model_score(score: ForwardScore, out: Dict[str, torch.Tensor]) -> torch.Tensor:
    """The model's own ``score`` output as ``[B, 1]``."""
    if "score" not in out:
        raise ValueError(f"the {score.name} score reads the model's own 'score' output, which "
                         "this model does not return; use neg_log_prob or an embedding "
                         "back-end in the inference config")
    return out["score"].float().view(-1, 1)
