"""How the tests train: a :class:`~asd_lib.train.config.TrainConfig` built from a YAML
file or a mapping, then trained as stage 3 does (:func:`asd_lib.train.run.train`)."""
from pathlib import Path

from asd_lib.train.config import TrainConfig, load_train_config
from asd_lib.train.run import train


def train_config(config=None, **values) -> TrainConfig:
    """The configuration of ``config`` (a YAML file, a mapping of its keys, or None for the
    defaults) with ``values`` overriding its keys; paths are given as text."""
    values = {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
    if config is None or isinstance(config, dict):
        return load_train_config(None, {**(config or {}), **values})
    return load_train_config(config, values)


def train_with(config=None, **values) -> TrainConfig:
    """Train the configuration :func:`train_config` builds; returns it."""
    built = train_config(config, **values)
    train(built)
    return built
