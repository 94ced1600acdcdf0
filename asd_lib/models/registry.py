"""The model registry: YAML ``model: stgram_mfn`` names a class registered here."""
from asd_lib.utils.registry import Registry

MODELS = Registry("model")
