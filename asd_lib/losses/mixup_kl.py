"""Mixup with the mixing proportions as the target: KL divergence to a two-class mixture.

Giri et al., "Self-supervised classification for detecting anomalous sounds", DCASE 2020
Workshop, Sec. 3.1.1: two clips of different machine IDs ``y_a``, ``y_b`` are mixed with
proportion ``lam`` and the network must predict the proportions, i.e. the target is
``q = lam * onehot(y_a) + (1 - lam) * onehot(y_b)`` and the loss is

    KL(q || p) = sum_c q_c (log q_c - log p_c),   p = softmax(logits),

averaged over patches and clips (``0 log 0 = 0``). Without mixing (``lam = 1``) it is the
cross-entropy at the clip's class. Where the mixing happened (before or after the log) is
the model's business; the loss is the same.

With spectral warping (``asd_lib.frontends.spectral_warp``) the classes are synthetic:
item ``i`` of warp group ``g_i`` has class ``y_i + g_i * N`` (``N`` = the head's
``num_classes``, the real IDs), so the head needs ``(1 + len(alphas)) * N`` outputs.
"""
import torch
import torch.nn.functional as F

from asd_lib.losses.objectives import OBJECTIVES


def mixture_target(index_a: torch.Tensor, index_b: torch.Tensor, lam: torch.Tensor,
                   num_outputs: int) -> torch.Tensor:
    """``q [B, num_outputs]``: ``lam`` at ``index_a``, ``1 - lam`` at ``index_b`` (summed
    where they coincide)."""
    lam = lam.to(torch.float32).expand(index_a.shape[0]).unsqueeze(1)
    return (lam * F.one_hot(index_a, num_outputs) + (1 - lam) * F.one_hot(index_b, num_outputs))


def kl_to_target(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over every leading position of ``KL(target || softmax(logits))``; ``target``
    ``[B, C]`` applies to all patches of ``logits`` ``[B, ..., C]``."""
    target = target.view(target.shape[0], *([1] * (logits.dim() - 2)), target.shape[1])
    log_p = F.log_softmax(logits.float(), dim=-1)
    kl = (torch.xlogy(target, target) - target * log_p).sum(-1)
    return kl.mean()


@OBJECTIVES.register("mixup_kl")
class MixupKL:
    """``objective(step, head) -> (KL loss, per-ID logits)``.

    The returned logits (for the accuracy statistic) are summed over warp groups in
    probability (log-sum-exp), so a warped clip counts as correct when its real ID wins.
    """

    def __call__(self, step, head):
        logits = head(step.embedding, step.labels)
        num_ids = head.num_classes
        width = logits.shape[-1]
        warp = step.model_kwargs.get("warp")
        groups = 1 if warp is None else warp.num_groups
        if width % num_ids or width < groups * num_ids:
            raise ValueError(f"mixup_kl: the head has {width} outputs for {num_ids} IDs but "
                             f"{groups} spectral-warp group(s) need {groups * num_ids}; set "
                             f"head_conf class_multiplier: {groups}")
        perm = None if step.mix is None else step.mix.perm
        if warp is None:
            index_a, index_b = step.labels, step.labels_b
        else:
            index_a = warp.class_index(step.labels, num_ids)
            index_b = index_a if perm is None else warp.class_index(step.labels, num_ids, perm)
        lam = torch.ones((), device=logits.device) if step.mix is None \
            else step.mix.lam.to(logits.device)
        loss = kl_to_target(logits, mixture_target(index_a, index_b, lam, width))
        per_id = logits.unflatten(-1, (width // num_ids, num_ids)).logsumexp(-2)
        return loss, per_id
