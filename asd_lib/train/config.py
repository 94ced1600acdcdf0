"""The training configuration: a YAML file and command-line options resolved into one
checked :class:`TrainConfig`.

A training config (``conf/train*.yaml``) sets any of the fields below; the command line
overrides them (:func:`load_train_config`). Everything is checked when the object is made,
before any data is read: the kind of every value, the training stages, and every
component name and argument (:func:`asd_lib.train.checks.check_training_config`), also
of each ``split_overrides`` entry. The sample rate and the clip length are not options:
stage 3 takes both from the dump it trains on and records them in
``exp/<tag>/model_info.yaml`` (:mod:`asd_lib.experiment`); the rate is chosen once, for
stage 2 (``run.sh --sample_rate``).

``python -m asd_lib.bin.train --print_config [--config X.yaml]`` prints the resolved
configuration, every default included (:func:`config_yaml`).
"""
import dataclasses
from typing import Any, Dict, List, Optional

import yaml

from asd_lib.train.checks import check_training_config
from asd_lib.train.precision import PRECISIONS
from asd_lib.train.stages import Stage, parse_stages
from asd_lib.utils.config import ConfigError, load_yaml
from asd_lib.utils.options import build, check_fields, option
from asd_lib.utils.yamlread import shown

RUN, MODEL, STAGES = "data and run", "model", "training stages"

RUNTIME_KEYS = {"ngpu", "num_workers", "num_threads", "verbose", "exp_dir", "train_dir",
                "keep_snapshots", "channels_last", "compile"}
"""Options that may change between a run and its resumption without changing the result."""


@dataclasses.dataclass
class TrainConfig:
    """Everything stage 3 trains an experiment with, checked (:meth:`__post_init__`)."""

    train_dir: Optional[str] = option(None, "str", "dumped training set (stage 2)", RUN)
    exp_dir: Optional[str] = option(None, "str", "experiment directory", RUN)
    ngpu: int = option(0, "int", "0: CPU, 1: one CUDA device", RUN)
    num_workers: int = option(2, "int", "DataLoader workers", RUN)
    num_threads: int = option(0, "int", "CPU threads for training on the CPU (0: all "
                                        "available cores)", RUN)
    seed: int = option(0, "int", "seed of the initialisation, sampling order and augmentation "
                                 "(epoch e uses seed + e); one per trial", RUN)
    split_seed: int = option(0, "int", "seed of the held-out split, kept when --seed changes "
                                       "so that trials differ only by training randomness", RUN)
    verbose: int = option(1, "int", "0 warning, 1 info, 2 debug", RUN)
    valid_fraction: float = option(0.05, "float", "share of every training class held out to "
                                                  "choose the best epoch", RUN)
    keep_snapshots: int = option(5, "int", "model snapshots kept besides latest/best (0: keep "
                                           "all)", RUN)
    precision: str = option("fp32", "str", "bf16: forward pass and losses under bfloat16 "
                            "autocast, weights and optimiser fp32 (for CUDA; "
                            "asd_lib.train.precision)", RUN, choices=PRECISIONS)
    channels_last: bool = option(False, "bool", "4-D weights and activations in channels-last "
                                                "(NHWC) layout: faster convolutions with cuDNN "
                                                "and with oneDNN on the CPU (README, "
                                                "Performance)", RUN)
    compile: bool = option(False, "bool", "compile the model with torch.compile (minutes "
                                          "before the first step; README, Performance)", RUN)
    model: str = option("stgram_mfn", "str", "name in asd_lib.models.MODELS", MODEL)
    model_conf: Dict[str, Any] = option({}, "mapping", "model arguments", MODEL)
    head: str = option("arcface", "str", "name in asd_lib.losses.HEADS", MODEL)
    head_conf: Dict[str, Any] = option({}, "mapping", "head arguments", MODEL)
    ema_decay: float = option(0.0, "float", "weight EMA decay (0: off); the averaged weights "
                                            "are validated, saved and used at inference", MODEL)
    split_by: str = option("none", "str", "machine: one model per machine type, in "
                           "<exp_dir>/<machine>/", MODEL, choices=("none", "machine"))
    split_overrides: Dict[str, Any] = option({}, "mapping", "per machine type, config keys "
                                             "that differ (e.g. stages)", MODEL)
    stages: Optional[List[Any]] = option(None, "yaml", "list of stages (losses, sampler, batch "
                                         "size, optimiser, epochs)", STAGES)

    def __post_init__(self):
        """Check every value; with ``stages`` given, also the stages and components (their
        confs are replaced by the checked ones) and every ``split_overrides`` entry. A
        ConfigError names the key."""
        check_fields(self)
        if not 0 <= self.valid_fraction < 1:
            raise ConfigError(f"valid_fraction must be at least 0 and below 1 (the share of "
                              f"every class held out), got {self.valid_fraction}")
        if self.stages is not None:
            check_training_config(self, parse_stages(self.stages))
        for machine in self.split_overrides:
            try:
                self.for_machine(machine)
            except ConfigError as err:
                raise ConfigError(f"split_overrides.{machine}: {err}") from None

    def training_stages(self) -> List[Stage]:
        """The checked training stages."""
        if self.stages is None:
            raise ConfigError("stages: missing; give the training stages (stages: [] for a "
                              "training-free model)")
        stages = parse_stages(self.stages)
        check_training_config(self, stages)
        return stages

    def for_machine(self, machine: str) -> "TrainConfig":
        """The configuration of one machine type's model: ``split_overrides[machine]``
        applied (checked when this configuration was made)."""
        overrides = self.split_overrides.get(machine) or {}
        if not isinstance(overrides, dict):
            raise ConfigError(f"expected a mapping of config keys, got {shown(overrides)}")
        fields = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}")
        return dataclasses.replace(self, **{**overrides, "split_by": "none",
                                            "split_overrides": {}})

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def load_train_config(path=None, overrides: Optional[Dict[str, Any]] = None) -> TrainConfig:
    """The configuration of the YAML file ``path`` (if any) with ``overrides`` (command-line
    values) applied. Any mistake is a ConfigError naming the file (or the command line), the
    key and the fix."""
    data = load_yaml(path) if path is not None else {}
    where = str(path) if path is not None else "the command line"
    if "sample_rate" in data:
        raise ConfigError(
            f"{path}: sample_rate is not a training option: stage 3 takes the rate from the "
            "dump it trains on (<train_dir>/sample_rate) and records it in the experiment. "
            "Remove the line, and ask stage 2 for the rate instead (run.sh --sample_rate N)")
    try:
        return build(TrainConfig, {**data, **(overrides or {})})
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None


def config_yaml(config: TrainConfig) -> str:
    """``config`` as YAML, every key in field order; :func:`load_train_config` reads it
    back to the same configuration."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def saved_differences(config: TrainConfig, saved: Dict[str, Any]) -> List[str]:
    """The options (besides :data:`RUNTIME_KEYS`) whose value in ``config`` differs from the
    one ``saved`` with an experiment; an option ``saved`` lacks had its default value."""
    default = TrainConfig()
    current = config.to_dict()
    return sorted(key for key in current if key not in RUNTIME_KEYS
                  and saved.get(key, getattr(default, key)) != current[key])

