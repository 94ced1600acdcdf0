"""The classifier-head registry: YAML ``head: arcface`` names a class registered here."""
from asd_lib.utils.registry import Registry

HEADS = Registry("head")
