"""Corpus-specific code: official constants, layouts, downloads, synthetic corpora.

One module per corpus (``dcase2020``, ``dcase2024``), each exposing ``MACHINE_TYPES``,
``parse_machines``, ``remote_files``, ``validators`` and ``prepare_data``.
"""
import importlib
from types import ModuleType

DATASETS = ("dcase2020", "dcase2024")


def get_dataset(name: str) -> ModuleType:
    """The corpus module for a ``--dataset`` name."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return importlib.import_module(f"asd_lib.corpus.{name}")
