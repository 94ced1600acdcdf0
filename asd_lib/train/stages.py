"""Staged training plans: a list of stages, each with its own losses, sampler, batch size,
optimiser, schedule and number of epochs (CLP-SCF pretrains with SupCon, then fine-tunes
with ArcFace; STgram-MFN has a single stage).

A stage in YAML::

    stages:
      - name: arcface
        epochs: 300
        batch_size: 128
        losses: [{name: margin_cross_entropy, weight: 1.0}]
        optim: adam
        optim_conf: {lr: 1.0e-4}
        scheduler: cosine
        scheduler_conf: {start_epoch: 20, t_max: 300, min_lr_ratio: 0.1}
"""
import dataclasses
from typing import Any, Dict, List

from asd_lib.utils.config import ConfigError
from asd_lib.utils.yamlread import shown


@dataclasses.dataclass
class LossTerm:
    """One weighted loss term of a stage (a name from the OBJECTIVES registry)."""

    name: str
    weight: float = 1.0
    conf: Dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Stage:
    """Everything that may change from one training stage to the next."""

    name: str
    epochs: int
    losses: List[LossTerm]
    batch_size: int = 128
    sampler: str = "random"
    sampler_conf: Dict[str, Any] = dataclasses.field(default_factory=dict)
    augments: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
    optim: str = "adam"
    optim_conf: Dict[str, Any] = dataclasses.field(default_factory=lambda: {"lr": 1e-4})
    scheduler: str = "constant"
    scheduler_conf: Dict[str, Any] = dataclasses.field(default_factory=dict)


def _check_keys(where: str, given: Dict[str, Any], cls) -> None:
    allowed = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _numeric_conf(where: str, conf: Any) -> Dict[str, Any]:
    """Optimiser or scheduler arguments: text is read as a number (YAML 1.1 reads ``1e-4``,
    written without a dot, as text) or is an error naming the key."""
    if not isinstance(conf, dict):
        raise ConfigError(f"{where}: expected a mapping, got {shown(conf)}")
    checked = {}
    for key, value in conf.items():
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{where}.{key} must be a number, got {shown(value)}") from None
        checked[key] = value
    return checked


def parse_stages(raw: Any) -> List[Stage]:
    """Validate the ``stages`` config value and turn it into :class:`Stage` objects; an
    empty list (``stages: []``) is the experiment of a training-free model."""
    if not isinstance(raw, list):
        raise ConfigError("stages: expected a list of stage mappings ([] for a training-free "
                          "model)")
    stages = []
    for i, entry in enumerate(raw):
        where = f"stages[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping, got {shown(entry)}")
        _check_keys(where, entry, Stage)
        for key in ("name", "epochs", "losses"):
            if key not in entry:
                raise ConfigError(f"{where}: missing required key {key!r}")
        losses = []
        for j, term in enumerate(entry["losses"]):
            if not isinstance(term, dict) or "name" not in term:
                raise ConfigError(f"{where}.losses[{j}]: expected {{name: ..., weight: ...}}")
            _check_keys(f"{where}.losses[{j}]", term, LossTerm)
            losses.append(LossTerm(**term))
        for j, aug in enumerate(entry.get("augments", [])):
            if not isinstance(aug, dict) or set(aug) - {"name", "conf"} or "name" not in aug:
                raise ConfigError(f"{where}.augments[{j}]: expected {{name: ..., conf: {{...}}}}")
        stage = Stage(**{**entry, "losses": losses})
        stage.optim_conf = _numeric_conf(f"{where}.optim_conf", stage.optim_conf)
        stage.scheduler_conf = _numeric_conf(f"{where}.scheduler_conf", stage.scheduler_conf)
        if not isinstance(stage.epochs, int) or stage.epochs < 1:
            raise ConfigError(f"{where}: epochs must be a positive integer, got "
                              f"{shown(stage.epochs)}")
        if not isinstance(stage.batch_size, int) or stage.batch_size < 1:
            raise ConfigError(f"{where}: batch_size must be a positive integer")
        stages.append(stage)
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ConfigError(f"stages: stage names must be unique, got {names}")
    return stages
