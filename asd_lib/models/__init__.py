"""Backbones that map a waveform or feature map to an embedding.

Importing the package registers every model in ``MODELS``.
"""
from asd_lib.models.registry import MODELS
from asd_lib.models.mobilefacenet import BOTTLENECK_TABLES, MobileFaceNet
from asd_lib.models.stgram_mfn import STgramMFN

__all__ = ["BOTTLENECK_TABLES", "MODELS", "MobileFaceNet", "STgramMFN"]
