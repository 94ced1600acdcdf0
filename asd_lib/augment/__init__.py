"""Batch augmentations a training stage lists by name (``augments: [{name, conf}]``).

Each is called as ``augment(step) -> step`` on the device batch
(:class:`asd_lib.data.step.Step`) and draws its random numbers from torch's global
generator, which the trainer reseeds every epoch, so a resumed run repeats them exactly.
Augmentations run in training only, never on the held-out split or at inference.

Importing the package imports every module in it, which registers its augmentations in
``AUGMENTS``.
"""
from asd_lib.augment.registry import AUGMENTS
from asd_lib.utils.plugins import import_all

import_all(__name__, __path__)

__all__ = ["AUGMENTS"]
