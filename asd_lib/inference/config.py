"""Inference configuration: how stage 4 turns a trained model into anomaly scores.

As ESPnet's ``inference_config``, a YAML file under ``conf/decode/`` holds everything
stage 4 needs besides the trained experiment, and nothing of training::

    backend: kmeans_membank      # scorer: a forward-pass score or an embedding back-end
    backend_conf: {n_clusters: 16}
    batch_size: 64               # clips per forward pass
    score_margin: true           # class scores with the head's margin at the class
    num_workers: 0               # DataLoader workers

The forward-pass scores are :data:`asd_lib.inference.scores.FORWARD_SCORES`; the embedding
back-ends are :data:`asd_lib.backends.BACKENDS`.

Stage 4 records each inference in ``exp/<tag>/<inference_tag>/inference.yaml`` (the
resolved configuration, the checkpoint, the corpus and the training set), which
``detect`` reads back (:class:`InferenceRecord`).
"""
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Dict

import yaml

from asd_lib.backends import BACKENDS
from asd_lib.inference.scores import FORWARD_SCORES
from asd_lib.utils.config import ConfigError, load_yaml
from asd_lib.utils.fileio import atomic_write
from asd_lib.utils.options import option
from asd_lib.utils.yamlread import shown

KEYS = "inference configuration (conf/decode/*.yaml keys)"


@dataclass(frozen=True)
class InferenceConfig:
    backend: str = option("neg_log_prob", "str", "anomaly scorer: neg_log_prob, neg_prob or "
                          "model_score (forward pass), or an embedding back-end of "
                          "asd_lib.backends", KEYS)
    backend_conf: Dict[str, Any] = option({}, "yaml", "back-end arguments, e.g. '{k: 1}' for "
                                          "knn", KEYS)
    batch_size: int = option(64, "int", "clips per forward pass", KEYS)
    score_margin: bool = option(True, "bool", "class scores with the head's margin at the "
                                "class (the STgram-MFN code's choice)", KEYS)
    num_workers: int = option(0, "int", "DataLoader workers", KEYS)

    def __post_init__(self):
        """Check every key: the scorer is a forward-pass score or a registered back-end,
        and ``backend_conf`` holds arguments of that back-end in their kinds (numbers
        written as text are read as numbers; :meth:`~asd_lib.utils.registry.Registry.
        check_conf`) and values its constructor accepts, so stage 4 fails before it reads
        any data."""
        if self.backend in FORWARD_SCORES:
            if self.backend_conf:
                raise ConfigError(f"backend_conf: {self.backend} is a forward-pass score and "
                                  f"takes no arguments, got {shown(self.backend_conf)}")
        else:
            BACKENDS.check_name(self.backend, "backend", extra=FORWARD_SCORES)
            object.__setattr__(self, "backend_conf", BACKENDS.check_conf(
                self.backend, self.backend_conf, "backend", "backend_conf"))
            try:  # the back-end's own checks of the values (a fusion's members)
                BACKENDS.build(self.backend, **self.backend_conf)
            except ValueError as err:
                raise ConfigError(str(err)) from None
        for name in ("batch_size", "num_workers"):
            value = getattr(self, name)
            minimum = 1 if name == "batch_size" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"{name}: expected an integer >= {minimum}, got {shown(value)}")

    @classmethod
    def from_yaml(cls, path) -> "InferenceConfig":
        """The configuration of a ``conf/decode/*.yaml`` file; an unknown key is an error
        naming the file."""
        data = load_yaml(path)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {unknown}; an inference config has "
                              f"{', '.join(sorted(known))}")
        try:
            return cls(**data)
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None

    @property
    def is_forward_score(self) -> bool:
        """Whether the score comes from the forward pass (no embedding back-end)."""
        return self.backend in FORWARD_SCORES



@dataclass(frozen=True)
class InferenceRecord:
    """What one inference dir ``exp/<tag>/<inference_tag>`` was made with."""

    config: InferenceConfig
    checkpoint: str
    dataset: str
    train_dir: str

    def write(self, inference_dir) -> None:
        data = {"inference_config": asdict(self.config), "checkpoint": self.checkpoint,
                "dataset": self.dataset, "train_dir": self.train_dir}
        with atomic_write(Path(inference_dir) / RECORD_NAME) as f:
            yaml.safe_dump(data, f, sort_keys=True)


RECORD_NAME = "inference.yaml"


def read_inference_record(inference_dir) -> InferenceRecord:
    path = Path(inference_dir) / RECORD_NAME
    if not path.is_file():
        raise ValueError(f"{path}: missing; {inference_dir} is not an inference dir of stage 4 "
                         "(exp/<tag>/<inference_tag>)")
    data = load_yaml(path)
    try:
        return InferenceRecord(InferenceConfig(**data["inference_config"]), data["checkpoint"],
                               data["dataset"], data["train_dir"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path}: malformed ({err}); re-run stage 4") from None
