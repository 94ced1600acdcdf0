"""Optimisers and per-epoch learning-rate schedules by name."""
import math

import torch

from asd_lib.utils.registry import Registry

OPTIMIZERS = Registry("optimizer")
OPTIMIZERS.register("adam")(torch.optim.Adam)
OPTIMIZERS.register("adamw")(torch.optim.AdamW)
OPTIMIZERS.register("sgd")(torch.optim.SGD)

SCHEDULERS = Registry("scheduler")


@SCHEDULERS.register("constant")
def constant_schedule(optimizer, epochs):
    """The learning rate never changes."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


@SCHEDULERS.register("cosine")
def cosine_schedule(optimizer, epochs, start_epoch=0, t_max=None, min_lr_ratio=0.0):
    """Cosine annealing stepped once per epoch, starting after ``start_epoch`` epochs.

    lr(e) = lr0 for e < start_epoch, else
    lr(e) = eta_min + (lr0 - eta_min) * (1 + cos(pi * (e - start_epoch) / t_max)) / 2,
    eta_min = min_lr_ratio * lr0 and t_max defaulting to the stage's epochs. STgram-MFN
    (Liu et al., 2022, public code): start_epoch 20, t_max = epochs, eta_min = 0.1 lr.
    """
    t_max = t_max or epochs

    def factor(epoch):
        if epoch < start_epoch:
            return 1.0
        t = min(epoch - start_epoch, t_max)
        return min_lr_ratio + (1.0 - min_lr_ratio) * (1.0 + math.cos(math.pi * t / t_max)) / 2.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
