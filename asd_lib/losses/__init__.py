"""Classifier heads and losses.

Importing the package registers every head in ``HEADS``.
"""
from asd_lib.losses.registry import HEADS
from asd_lib.losses.arcface import ArcMarginHead

__all__ = ["ArcMarginHead", "HEADS"]
