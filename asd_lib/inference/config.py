"""Inference configuration: how stage 4 turns a trained model into anomaly scores.

As ESPnet's ``inference_config``, a YAML file under ``conf/decode/`` holds everything
stage 4 needs besides the trained experiment, and nothing of training. It names one
scorer: a forward-pass score (:data:`asd_lib.inference.scores.FORWARD_SCORES`), read off
the network's outputs::

    score: neg_log_prob          # -log softmax at the clip's class
    score_margin: true           # class scores with the head's margin at the class
    batch_size: 64               # clips per forward pass
    num_workers: 0               # DataLoader workers

or an embedding back-end (:data:`asd_lib.backends.BACKENDS`), fitted on the training
embeddings of each section::

    backend: kmeans_membank
    backend_conf: {n_clusters: 16}
    batch_size: 64

Stage 4 records each inference in ``exp/<tag>/<inference_tag>/inference.yaml`` (the
resolved configuration, the checkpoint, the corpus and the training set), which
``detect`` reads back (:class:`InferenceRecord`).
"""
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

from asd_lib.backends import BACKENDS
from asd_lib.inference.scores import FORWARD_SCORES
from asd_lib.utils.config import ConfigError, did_you_mean, load_yaml
from asd_lib.utils.fileio import atomic_write
from asd_lib.utils.options import option
from asd_lib.utils.yamlread import shown

KEYS = "inference configuration (conf/decode/*.yaml keys)"


@dataclass(frozen=True)
class InferenceConfig:
    """One scorer, ``score`` (forward pass) or ``backend`` (embeddings), and how to run it."""

    score: Optional[str] = option(None, "str", "forward-pass anomaly score: neg_log_prob, "
                                  "neg_prob or model_score (asd_lib.inference.scores)", KEYS)
    backend: Optional[str] = option(None, "str", "embedding back-end of asd_lib.backends "
                                    "(knn, gmm, ...)", KEYS)
    backend_conf: Dict[str, Any] = option({}, "yaml", "back-end arguments, e.g. '{k: 1}' for "
                                          "knn", KEYS)
    batch_size: int = option(64, "int", "clips per forward pass", KEYS)
    score_margin: bool = option(True, "bool", "class scores with the head's margin at the "
                                "class (the STgram-MFN code's choice)", KEYS)
    num_workers: int = option(0, "int", "DataLoader workers", KEYS)
    compile: bool = option(False, "bool", "compile the model with torch.compile, its weights "
                           "frozen as constants: on a CPU 20-40 s per model before the "
                           "first batch, then faster, most at batch_size 4-8 (README, "
                           "Performance)", KEYS)

    def __post_init__(self):
        """Check every key: exactly one of ``score`` and ``backend``, a known name, and
        ``backend_conf`` holding arguments of that back-end in their kinds (numbers written
        as text are read as numbers; :meth:`~asd_lib.utils.registry.Registry.check_conf`)
        and values its constructor accepts, so stage 4 fails before it reads any data."""
        if self.backend in FORWARD_SCORES:
            raise ConfigError(f"backend: {self.backend} is a forward-pass score, not an "
                              f"embedding back-end; write 'score: {self.backend}'")
        if (self.score is None) == (self.backend is None):
            given = "both" if self.score is not None else "neither"
            raise ConfigError(f"give one scorer, 'score: <forward-pass score>' "
                              f"({', '.join(FORWARD_SCORES)}) or 'backend: <embedding "
                              f"back-end>' ({', '.join(BACKENDS.names())}); got {given}")
        if self.score is not None:
            self._check_score()
        else:
            self._check_backend()
        for name in ("batch_size", "num_workers"):
            value = getattr(self, name)
            minimum = 1 if name == "batch_size" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"{name}: expected an integer >= {minimum}, got {shown(value)}")

    def _check_score(self) -> None:
        if self.score not in FORWARD_SCORES:
            hint = (f"; {self.score} is an embedding back-end: write 'backend: {self.score}'"
                    if self.score in BACKENDS.names() else "")
            raise ConfigError(f"score: unknown forward-pass score {shown(self.score)}; "
                              f"{did_you_mean(self.score, FORWARD_SCORES)}choose one of: "
                              f"{', '.join(FORWARD_SCORES)}{hint}")
        if self.backend_conf:
            raise ConfigError(f"backend_conf: score {self.score} is a forward-pass score and "
                              f"takes no arguments, got {shown(self.backend_conf)}")

    def _check_backend(self) -> None:
        BACKENDS.check_name(self.backend, "backend")
        object.__setattr__(self, "backend_conf", BACKENDS.check_conf(
            self.backend, self.backend_conf, "backend", "backend_conf"))
        try:  # the back-end's own checks of the values (a fusion's members)
            BACKENDS.build(self.backend, **self.backend_conf)
        except ValueError as err:
            raise ConfigError(str(err)) from None

    @classmethod
    def from_yaml(cls, path) -> "InferenceConfig":
        """The configuration of a ``conf/decode/*.yaml`` file; an unknown key or a wrong
        value is an error naming the file."""
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
        return self.score is not None

    @property
    def scorer(self) -> str:
        """The name of the scorer, forward-pass score or back-end."""
        return self.score if self.score is not None else self.backend


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
    """The record of ``inference_dir``. A record whose ``backend`` names a forward-pass
    score and that has no ``score`` (as versions that had one scorer key wrote) is read
    with that name as its ``score``: the scores it describes are the same."""
    path = Path(inference_dir) / RECORD_NAME
    if not path.is_file():
        raise ValueError(f"{path}: missing; {inference_dir} is not an inference dir of stage 4 "
                         "(exp/<tag>/<inference_tag>)")
    data = load_yaml(path)
    try:
        conf = dict(data["inference_config"])
        if conf.get("backend") in FORWARD_SCORES and "score" not in conf:
            conf["score"] = conf.pop("backend")
        return InferenceRecord(InferenceConfig(**conf), data["checkpoint"],
                               data["dataset"], data["train_dir"])
    except (KeyError, TypeError, ConfigError) as err:
        raise ValueError(f"{path}: malformed ({err}); re-run stage 4") from None
