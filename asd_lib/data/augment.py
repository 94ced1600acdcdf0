"""Batch augmentations a training stage lists by name (``augments: [{name, conf}]``).

Each is called as ``augment(step) -> step`` on the device batch (:class:`asd_lib.train.step.Step`)
and draws its random numbers from torch's global generator, which the trainer reseeds every
epoch, so a resumed run repeats them exactly. Augmentations run in training only, never on
the held-out split or at inference.
"""
import torch

from asd_lib.train.step import Mix, Step
from asd_lib.utils.registry import Registry

AUGMENTS = Registry("augment")


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


# Augmentations of other modules register themselves when imported; importing them here
# makes every one available wherever AUGMENTS is.
from asd_lib.data import speed_perturb, ssl_augment  # noqa: E402,F401  pylint: disable=C0413
