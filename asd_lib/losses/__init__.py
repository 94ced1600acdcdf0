"""Classifier heads and training objectives.

Importing the package imports every module in it, which registers its heads in ``HEADS``
and its loss terms in ``OBJECTIVES``.
"""
from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.losses.registry import HEADS
from asd_lib.utils.plugins import import_all

import_all(__name__, __path__)

__all__ = ["HEADS", "OBJECTIVES"]
