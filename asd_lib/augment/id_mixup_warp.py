"""The augmentations of the self-supervised ID classifier of Giri et al.

Giri, Tenneti, Cheng, Helwani, Isik, Krishnaswamy, "Self-supervised classification for
detecting anomalous sounds", DCASE 2020 Workshop: (a) Sec. 3.1.1, randomised linear
combinations of clips of two different machine IDs, added as synthetic IDs apart from the
provided clips (Sec. 2), the network predicting the mixing proportions (loss
``mixup_kl``), the clips combined before the log (power spectrograms) or after it;
(b) Sec. 3.1.2, spectral warping ``f -> f_max (f / f_max)^alpha`` (Eq. 1), alpha 0.95 and
1.05, each warp of an ID being a new class.

Both are stage augmentations (``augments: [{name, conf}]``, registered in
``asd_lib.augment.AUGMENTS``) that enlarge the batch with their synthetic items and keep
the originals: they decide who is mixed with whom and which item is warped, and hand that
to the model as keyword arguments (``mix`` and ``mix_domain``, ``warp``), since combining
before the log and warping the frequency axis happen inside the model's front-end. Being
stage entries, they can differ per machine type through ``split_overrides`` (the paper's
Table 3). Random numbers come from torch's global CPU generator, which the trainer
reseeds every epoch.
"""
from typing import Sequence

import torch

from asd_lib.augment.registry import AUGMENTS
from asd_lib.data.step import Mix, Step
from asd_lib.frontends.spectral_warp import SpectralWarp, check_alphas

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
    """Mixtures added to the batch apart from its original clips (Giri et al., Sec. 2).

    For each clip of the batch, ``mixtures`` new items: the clip combined with a clip of
    another machine ID drawn from the batch, ``lam * x_a + (1 - lam) * x_b`` with
    ``lam ~ Beta(alpha, alpha)`` per item (``alpha = 1``: uniform on [0, 1]). The originals
    stay first and unmixed (``lam = 1``), so the batch grows ``1 + mixtures`` times and each
    epoch sees every provided clip once plus its mixtures. ``domain``: ``pre_log`` combines
    power mel spectrograms, ``post_log`` log-mel spectrograms. Spectral-warp groups (list
    ``spectral_warp`` first) are repeated for the mixtures, so warped items are mixed too.

    The paper gives neither the number of mixtures nor the distribution of the proportions;
    one uniform mixture per clip is our choice.
    """

    def __init__(self, alpha: float = 1.0, mixtures: int = 1, domain: str = "post_log"):
        if alpha <= 0:
            raise ValueError(f"id_mixup: alpha must be > 0, got {alpha}")
        if isinstance(mixtures, bool) or not isinstance(mixtures, int) or mixtures < 1:
            raise ValueError(f"id_mixup: mixtures must be an integer >= 1, got {mixtures!r}")
        if domain not in MIX_DOMAINS:
            raise ValueError(f"id_mixup: domain must be one of {MIX_DOMAINS}, got {domain!r}")
        self.beta = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))
        self.mixtures = mixtures
        self.domain = domain

    def __call__(self, step: Step) -> Step:
        if step.mix is not None:
            raise ValueError("id_mixup: the batch is already mixed; list one mixup augmentation")
        count = len(step.labels)
        copies = 1 + self.mixtures
        labels = step.labels.cpu()
        partners = torch.cat([different_id_partners(labels) for _ in range(self.mixtures)])
        lam = torch.cat([torch.ones(count), self.beta.sample((count * self.mixtures,))])
        perm = torch.cat([torch.arange(count), partners])
        step.wave = step.wave.repeat(copies, 1)
        step.labels = step.labels.repeat(copies)
        warp = step.model_kwargs.get("warp")
        if warp is not None:
            step.model_kwargs["warp"] = SpectralWarp(group=warp.group.repeat(copies),
                                                     alphas=warp.alphas)
        device = step.labels.device
        step.mix = Mix(lam=lam.to(device), perm=perm.to(device))
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
