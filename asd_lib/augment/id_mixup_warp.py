"""The augmentations of the self-supervised ID classifier of Giri et al. (DCASE 2020).

Giri et al., "Self-supervised classification for detecting anomalous sounds", DCASE 2020
Task 2 technical report: (a) mixup of two clips of different machine IDs, the network
predicting the mixing proportions (loss ``mixup_kl``), the clips mixed before the log
(power spectrograms) or after it; (b) spectral warping ``f -> f_max (f / f_max)^alpha``,
alpha 0.95 and 1.05, each warp of an ID being a new class.

Both are stage augmentations (``augments: [{name, conf}]``, registered in
``asd_lib.augment.AUGMENTS``): they only decide, per batch, who is mixed with whom and
which clip is warped, and hand that to the model as keyword arguments (``mix`` and
``mix_domain``, ``warp``), since mixing before the log and warping the frequency axis
happen inside the model's front-end. Being stage entries, they can differ per machine
type through ``split_overrides`` (the paper's per-type choices). Random numbers come from
torch's global CPU generator, which the trainer reseeds every epoch.
"""
from typing import Sequence

import torch

from asd_lib.augment.registry import AUGMENTS
from asd_lib.frontends.spectral_warp import SpectralWarp, check_alphas
from asd_lib.data.step import Mix, Step

MIX_DOMAINS = ("pre_log", "post_log")


def different_id_partners(labels: torch.Tensor) -> torch.Tensor:
    """For every item, a uniformly drawn item of the batch with another label (itself when
    the batch holds no other label)."""
    different = labels[:, None] != labels[None, :]
    weights = different.float()
    alone = (~different.any(1)).nonzero().flatten()
    weights[alone, alone] = 1.0
    return torch.multinomial(weights, 1).squeeze(1)


@AUGMENTS.register("id_mixup")
class IdMixup:
    """Mix each clip with a clip of another machine ID, proportion ``lam ~ Beta(alpha,
    alpha)`` drawn per clip (``alpha = 1``: uniform on [0, 1]); with probability
    ``1 - prob`` a clip stays unmixed (``lam = 1``). ``domain``: ``pre_log`` mixes power
    mel spectrograms, ``post_log`` log-mel spectrograms."""

    def __init__(self, alpha: float = 1.0, prob: float = 1.0, domain: str = "post_log"):
        if alpha <= 0:
            raise ValueError(f"id_mixup: alpha must be > 0, got {alpha}")
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"id_mixup: prob must lie in [0, 1], got {prob}")
        if domain not in MIX_DOMAINS:
            raise ValueError(f"id_mixup: domain must be one of {MIX_DOMAINS}, got {domain!r}")
        self.beta = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))
        self.prob = prob
        self.domain = domain

    def __call__(self, step: Step) -> Step:
        if step.mix is not None:
            raise ValueError("id_mixup: the batch is already mixed; list one mixup augmentation")
        labels = step.labels.cpu()
        lam = self.beta.sample((len(labels),))
        lam = torch.where(torch.rand(len(labels)) < self.prob, lam, torch.ones_like(lam))
        partners = different_id_partners(labels)
        device = step.labels.device
        step.mix = Mix(lam=lam.to(device), perm=partners.to(device))
        step.model_kwargs["mix"] = step.mix
        step.model_kwargs["mix_domain"] = self.domain
        return step


@AUGMENTS.register("spectral_warp")
class SpectralWarpClasses:
    """Every clip of the batch plus one warped copy per ``alphas`` entry (the batch grows
    ``1 + len(alphas)`` times), so each epoch sees the augmented training set once: the
    originals and every warped copy. The copies keep the real ID in ``step.labels``; their
    synthetic classes (``id + group * num_ids``) are formed by the loss
    (``mixup_kl``), whose head needs ``head_conf: {class_multiplier: 1 + len(alphas)}``.
    List it before ``id_mixup`` so that warped copies are mixed too."""

    def __init__(self, alphas: Sequence[float] = (0.95, 1.05)):
        self.alphas = check_alphas(alphas)

    def __call__(self, step: Step) -> Step:
        if step.mix is not None or "warp" in step.model_kwargs:
            raise ValueError("spectral_warp: list it once and before any mixup augmentation "
                             "(it enlarges the batch)")
        groups = 1 + len(self.alphas)
        count = len(step.labels)
        step.wave = step.wave.repeat(groups, 1)
        step.labels = step.labels.repeat(groups)
        group = torch.arange(groups, device=step.labels.device).repeat_interleave(count)
        step.model_kwargs["warp"] = SpectralWarp(group=group, alphas=self.alphas)
        return step
