"""Supervised contrastive loss (SupCon), single view with labels.

Khosla et al., "Supervised contrastive learning", NeurIPS 2020, Eq. 2 (L_out): with
L2-normalised embeddings ``z``, anchors ``i`` (every item of the batch), ``A(i)`` all other
items and ``P(i)`` those of ``A(i)`` with the anchor's label,

    L = mean_i  -(tau / tau_base) / |P(i)| * sum_{p in P(i)}
                 log( exp(z_i . z_p / tau) / sum_{a in A(i)} exp(z_i . z_a / tau) ).

``tau_base`` (``base_temperature``) only rescales the loss; it defaults to ``tau`` (Eq. 2
as printed); the authors' code uses 0.07.  An anchor without positives contributes 0 and
still counts in the mean, as in that code (a batch of one item gives 0).

Uses here: CLP-SCF pretraining (Guan et al., ICASSP 2023, Eq. 2: machine-ID labels,
tau 0.05, 6 clips of every ID per batch) and the "noisy" SupCon of OS-SCL (Huang, Fang, He,
Eq. 1: tau 0.02 on the FPH output, no base-temperature factor; their code's
``SupConLoss`` multiplies by tau / 0.07, ``base_temperature: 0.07``): under mixup the
positives are defined by the labels ``y_a`` of the mixed clips (``step.labels``). Both
papers write the loss as a sum over anchors; it is averaged here, as in both public codes,
so that its weight against the classification term does not grow with the batch.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from asd_lib.losses.objectives import OBJECTIVES


def supcon_loss(features: torch.Tensor, labels: torch.Tensor, temperature: float,
                base_temperature: Optional[float] = None) -> torch.Tensor:
    """L_out of Khosla et al. (Eq. 2) for L2-normalised ``features [B, E]``, ``labels [B]``."""
    if features.dim() != 2 or labels.shape != (features.shape[0],):
        raise ValueError(
            f"supcon: expected features [B, E] and labels [B]; got {tuple(features.shape)} "
            f"and {tuple(labels.shape)}"
        )
    base_temperature = temperature if base_temperature is None else base_temperature
    n = features.shape[0]
    if n < 2:  # no pair to contrast: zero, with a graph so backward() still works
        return features.sum() * 0.0
    self_pair = torch.eye(n, dtype=torch.bool, device=features.device)
    similarity = features @ features.T / temperature
    log_denominator = torch.logsumexp(similarity.masked_fill(self_pair, float("-inf")), dim=1)
    log_prob = similarity - log_denominator[:, None]
    positive = (labels[:, None] == labels[None, :]) & ~self_pair
    num_positive = positive.sum(1).clamp(min=1)
    log_prob_positive = torch.where(positive, log_prob, torch.zeros_like(log_prob))
    mean_log_prob = log_prob_positive.sum(1) / num_positive
    return -(temperature / base_temperature) * mean_log_prob.mean()


class SupConTerm(nn.Module):
    """Shared set-up of the SupCon objectives: temperatures and the held-out switch.

    ``held_out`` false leaves the term out of the held-out loss that picks the best epoch
    (returns 0 outside training), as the OS-SCL code selects by the classification loss
    alone.  Being an ``nn.Module``, the term sees the trainer's train / eval switch.
    """

    def __init__(self, temperature: float, base_temperature: Optional[float] = None,
                 held_out: bool = True):
        super().__init__()
        if temperature <= 0 or (base_temperature is not None and base_temperature <= 0):
            raise ValueError(f"supcon: temperatures must be > 0, got {temperature}, "
                             f"{base_temperature}")
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.held_out = held_out

    def contrast(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if not self.training and not self.held_out:
            return features.new_zeros(())
        return supcon_loss(F.normalize(features, dim=1), labels, self.temperature,
                           self.base_temperature)


@OBJECTIVES.register("supcon")
class SupCon(SupConTerm):
    """SupCon on a model output (L2-normalised here) with ``step.labels``.

    ``output`` names the output: ``embedding`` (what the head reads), or another key of a
    model that returns a dict, e.g. CLP-SCF's ``projection`` (its projector output ``z_i``).
    """

    def __init__(self, temperature: float = 0.05, base_temperature: Optional[float] = None,
                 held_out: bool = True, output: str = "embedding"):
        super().__init__(temperature, base_temperature, held_out)
        self.output = output

    def forward(self, step, head):
        if self.output not in step.out:
            raise ValueError(f"supcon: the model has no output {self.output!r} (it gives "
                             f"{sorted(step.out)}); set the term's output to one of them")
        return self.contrast(step.out[self.output], step.labels), None
