"""Mixup of whole batches, the mixing applied by the model (Zhang et al., ICLR 2018)."""
import torch

from asd_lib.augment.registry import AUGMENTS
from asd_lib.data.step import Mix, Step


@AUGMENTS.register("mixup")
class Mixup:
    """Mixup (Zhang et al., ICLR 2018) with ``lam ~ Beta(alpha, alpha)``, one per batch.

    Only the mixing state is drawn here; the model mixes its inputs with it (waveform and
    log-mel alike, as Noisy-ArcMix does) and the loss weights the two labels by ``lam``.
    ``prob`` < 1 leaves a batch unmixed with probability ``1 - prob``.
    """

    def __init__(self, alpha: float = 0.5, prob: float = 1.0):
        if alpha <= 0:
            raise ValueError(f"mixup: alpha must be > 0, got {alpha}")
        self.beta = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))
        self.prob = prob

    def __call__(self, step: Step) -> Step:
        lam = self.beta.sample()
        perm = torch.randperm(len(step.labels))
        if self.prob < 1.0 and torch.rand(()) >= self.prob:
            return step
        step.mix = Mix(lam=lam, perm=perm.to(step.labels.device))
        step.model_kwargs["mix"] = step.mix
        return step

