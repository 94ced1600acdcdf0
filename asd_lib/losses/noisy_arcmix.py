"""Noisy-ArcMix: additive angular margin on the original label of a mixed clip.

Choi & Choi, "Noisy-ArcMix: Additive noisy angular margin loss combined with mixup for
anomalous sound detection", ICASSP 2024 (public code soonhyeon/Noisy-ArcMix,
``noisy_arcmix_criterion``): for a clip mixed as ``lam * x_a + (1 - lam) * x_b`` the head's
logits ``z`` carry the ArcFace margin at ``y_a`` only, and

    L = lam * CE(z, y_a) + (1 - lam) * CE(z, y_b).

The margin at ``y_a`` alone is the "noise": when ``lam`` is small the clip is mostly ``x_b``
but still gets the margin at ``y_a``.  Without mixup (held-out batches, inference) this is
the plain margin cross-entropy, the code's held-out criterion.  OS-SCL (Huang et al.) uses
the same term next to its noisy SupCon.
"""
import torch
import torch.nn.functional as F

from asd_lib.losses.objectives import OBJECTIVES


@OBJECTIVES.register("noisy_arcmix")
class NoisyArcMix:
    """``(loss, logits)`` from the head's margin logits at ``step.labels`` (``y_a``)."""

    def __call__(self, step, head):
        logits = head(step.embedding, step.labels)
        if step.mix is None:
            return F.cross_entropy(logits, step.labels), logits
        lam = step.mix.lam.to(logits.device, logits.dtype)
        ce_a = F.cross_entropy(logits, step.labels, reduction="none")
        ce_b = F.cross_entropy(logits, step.labels_b, reduction="none")
        return torch.mean(lam * ce_a + (1 - lam) * ce_b), logits
