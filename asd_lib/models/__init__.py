"""Backbones that map a waveform or feature map to an embedding.

Importing the package imports every module in it, which registers its models in ``MODELS``.
"""
from asd_lib.models.registry import MODELS
from asd_lib.utils.plugins import import_all

import_all(__name__, __path__)

__all__ = ["MODELS"]
