"""An experiment dir ``exp/<tag>/`` as stages 3-5 leave it, read back by stage 4, the
ensembles, ``detect``, ``export_onnx``, the reports and ``show_results``: this module is
the one reader of what an experiment dir holds (:func:`load_experiment`).

``exp/<tag>/`` holds

- ``config.yaml``: the resolved training configuration (:mod:`asd_lib.train.config`);
- ``model_info.yaml``: the clip length and sample rate of the dump it was trained on, the
  class names in head order, the label scheme and a digest of the training list; or
  ``parts``, the machine types of an experiment that trains one model per type, each in
  ``exp/<tag>/<machine>/`` with the same files;
- ``train_labels/``: the training clips and their labels as the model was trained
  (``utt2class``, ``utt2machine``, ``utt2section`` and, where the set has them,
  ``utt2domain`` and ``utt2attr``). Inference reads the training labels from here, never
  from ``data/`` or ``dump/``, which a later label scheme may have rewritten;
- ``train_content/``: what the training clips held, a digest of each clip's samples and
  one of the files holding them (:mod:`asd_lib.data.content`); stage 3 refuses to go on
  with clips whose samples changed under the same names;
- ``held_out.list``: training clips kept out of training (model selection, thresholds);
- ``checkpoint.pth`` (and ``checkpoint.prev.pth``, the one before it),
  ``snapshots/epoch<N>.pth``, ``best.pth``, ``latest.pth``;
- ``run.sh``, written once by asd.sh, whose last line is ``cd <recipe dir> && <command>
  "$@"`` (ESPnet keeps the same kind of script in its exp dirs): the command that made the
  experiment;
- ``<inference_tag>/``, one per inference (configuration and checkpoint, stage 4): its
  ``run.sh``, the same kind of script with the command that made this inference, and one
  score dir per set, ``<inference_tag>/<set>/`` (stage 5 adds results and plots).
"""
import csv
import hashlib
import logging
import math
import os
import re
import shlex
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

import numpy as np
import torch
import yaml

from asd_lib.losses import HEADS
from asd_lib.models import MODELS
from asd_lib.models.traits import traits
from asd_lib.utils.checkpoint import load_safe, load_weights
from asd_lib.utils.config import read_saved_config
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv

logger = logging.getLogger(__name__)

LABEL_FILES = ("utt2class", "utt2machine", "utt2section", "utt2domain", "utt2attr")
"""The training labels an experiment keeps (``utt2class`` first: it lists the clips)."""
REQUIRED_LABEL_FILES = LABEL_FILES[:3]
CONTENT_DIR = "train_content"
"""What the training clips held (:class:`asd_lib.data.content.ContentRecord`)."""
Group = Tuple[str, str]  # (machine type, section)


def build_model(model: str, model_conf: dict, head: str, head_conf: dict,
                num_samples: int, sample_rate: int, num_classes: int):
    """The embedding model and its classification head (``None`` for ``head: none``)."""
    net = MODELS.build(model, num_samples=num_samples, sample_rate=sample_rate, **model_conf)
    if head == "none":
        return net, None
    classifier = HEADS.build(head, embedding_dim=net.embedding_dim, num_classes=num_classes,
                             **head_conf)
    return net, classifier


# --------------------------------------------------------------------------- what was trained
@dataclass(frozen=True)
class TrainingLabels:
    """The training clips of an experiment and their labels (``tables[file][utt]``)."""

    tables: Dict[str, Dict[str, str]]
    label_scheme: str = "unrecorded"

    @property
    def utts(self) -> List[str]:
        return list(self.tables["utt2class"])

    def column(self, name: str, utts: Sequence[str]) -> List[str]:
        if name not in self.tables:
            raise ValueError(f"the experiment's training labels have no {name}")
        return [self.tables[name][u] for u in utts]

    def digest(self) -> str:
        """md5 of the sorted ``utt class`` lines: which clips were trained on, as what."""
        text = "".join(f"{u} {c}\n" for u, c in sorted(self.tables["utt2class"].items()))
        return hashlib.md5(text.encode("utf-8")).hexdigest()

    def classes(self) -> List[str]:
        """The class names in head order (sorted)."""
        return sorted(set(self.tables["utt2class"].values()))

    def section_classes(self) -> Dict[Group, List[str]]:
        """The training classes of every (machine, section), each list sorted."""
        out: Dict[Group, Set[str]] = {}
        for utt, name in self.tables["utt2class"].items():
            group = (self.tables["utt2machine"][utt], self.tables["utt2section"][utt])
            out.setdefault(group, set()).add(name)
        return {group: sorted(names) for group, names in sorted(out.items())}

    def write(self, exp_dir) -> None:
        out = Path(exp_dir) / "train_labels"
        for name, table in self.tables.items():
            write_kv(out / name, table.items())
        with atomic_write(out / "label_scheme") as f:
            f.write(self.label_scheme + "\n")


def read_training_labels(exp_dir) -> TrainingLabels:
    """The labels stage 3 trained ``exp_dir`` with (``exp_dir/train_labels/``)."""
    folder = Path(exp_dir) / "train_labels"
    if not (folder / "utt2class").is_file():
        raise ValueError(f"{folder}/utt2class: missing; train the model first (stage 3)")
    tables = {name: read_kv(folder / name) for name in LABEL_FILES if (folder / name).is_file()}
    scheme = (folder / "label_scheme").read_text().strip() \
        if (folder / "label_scheme").is_file() else "unrecorded"
    return TrainingLabels(tables, scheme)


def write_model_info(exp_dir, info: dict) -> None:
    """``model_info.yaml`` (see the module docstring)."""
    with atomic_write(Path(exp_dir) / "model_info.yaml") as f:
        yaml.safe_dump(info, f)


def read_model_info(exp_dir) -> dict:
    path = Path(exp_dir) / "model_info.yaml"
    if not path.is_file():
        raise ValueError(f"{path}: missing; train the model first (stage 3)")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def recorded_sample_rate(exp_dir) -> int:
    """The sample rate of the dump the model in ``exp_dir`` was trained on, as stage 3
    recorded it in ``model_info.yaml`` (an experiment whose record lacks it took the rate
    from ``sample_rate`` in its ``config.yaml``)."""
    info = read_model_info(exp_dir)
    if "sample_rate" in info:
        return int(info["sample_rate"])
    return int(read_saved_config(Path(exp_dir) / "config.yaml")["sample_rate"])


HISTORY_COLUMNS = ("epoch", "lr", "train_loss", "train_acc")


def read_training_history(exp_dir) -> Dict[str, np.ndarray]:
    """Columns of ``exp_dir/train_history.csv`` (stage 3): numeric ones as float arrays."""
    path = Path(exp_dir) / "train_history.csv"
    if not path.is_file():
        raise ValueError(f"{path}: missing; train the model first (stage 3)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no epochs recorded; train at least one epoch (stage 3)")
    missing = [c for c in HISTORY_COLUMNS if c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing; it was not written by "
                         "asd_lib's trainer")
    columns: Dict[str, np.ndarray] = {}
    for name in rows[0]:
        values = [row[name] for row in rows]
        try:
            columns[name] = np.array([float(v) if v != "" else math.nan for v in values])
        except ValueError:
            columns[name] = np.array(values)
    return columns


def part_dirs(exp_dir) -> Dict[Optional[str], Path]:
    """``{None: exp_dir}``, or ``{machine: exp_dir/machine}`` for one model per type."""
    info = read_model_info(exp_dir)
    if "parts" in info:
        return {m: Path(exp_dir) / m for m in info["parts"]}
    return {None: Path(exp_dir)}


def read_held_out(exp_dir) -> Set[str]:
    """The training clips every model of ``exp_dir`` held out from training."""
    held = set()
    for part in part_dirs(exp_dir).values():
        path = part / "held_out.list"
        if path.is_file():
            held.update(line.strip() for line in path.read_text().splitlines() if line.strip())
    return held


# --------------------------------------------------------------------------- loading
class TrainedModel:
    """One trained model and head (``None`` when head-free) with the config that built them
    and the class names in head order."""

    def __init__(self, exp_dir, checkpoint: str, device: torch.device):
        exp_dir = Path(exp_dir)
        self.exp_dir = exp_dir
        self.config = read_saved_config(exp_dir / "config.yaml")
        self.info = read_model_info(exp_dir)
        self.class_names: List[str] = list(self.info["classes"])
        self.class_index = {c: i for i, c in enumerate(self.class_names)}
        model, head = build_model(self.config["model"], self.config["model_conf"],
                                  self.config["head"], self.config["head_conf"],
                                  self.info["num_samples"], self.sample_rate,
                                  len(self.class_names))
        path = checkpoint_path(exp_dir, checkpoint)
        state = load_safe(path)
        if not traits(model).training_free:  # its config defines it; no weights saved
            load_weights(model, state["model"], "model", path)
        if head is not None:
            load_weights(head, state["head"], "head", path)
            head = head.to(device).eval()
        self.model = model.to(device).eval()
        self.head = head
        self.device = device

    @property
    def num_samples(self) -> int:
        return int(self.info["num_samples"])

    @property
    def sample_rate(self) -> int:
        return recorded_sample_rate(self.exp_dir)


def checkpoint_path(exp_dir, checkpoint: str) -> Path:
    """``exp_dir/<checkpoint>.pth`` (``best``, ``latest``) or ``snapshots/<checkpoint>.pth``."""
    exp_dir = Path(exp_dir)
    for path in (exp_dir / f"{checkpoint}.pth", exp_dir / "snapshots" / f"{checkpoint}.pth"):
        if path.exists():
            return path
    raise FileNotFoundError(f"{exp_dir}/{checkpoint}.pth: no such checkpoint; use best, "
                            "latest or epochN of a finished stage 3")


# --------------------------------------------------------------------------- run.sh
_RUN_LINE = re.compile(r'^cd (?P<dir>.+?) && (?P<command>.+?)\s+"\$@"\s*$')
_WORD = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""")


class RunCommand(NamedTuple):
    """The recipe dir an experiment (or one inference of it) was made in and the command
    that made it."""

    directory: Path
    command: str


def read_run_command(directory) -> Optional[RunCommand]:
    """The ``cd DIR && COMMAND "$@"`` line of ``directory/run.sh``; None without run.sh.

    Raises ValueError naming the file when run.sh has no such line.
    """
    path = Path(directory) / "run.sh"
    if not path.is_file():
        return None
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        match = _RUN_LINE.match(line.strip())
        if match:
            where = shlex.split(match.group("dir"))
            if len(where) != 1:
                break
            return RunCommand(Path(where[0]), match.group("command"))
    raise ValueError(f'{path}: no line `cd DIR && COMMAND "$@"`; it was not written by '
                     "asd.sh (re-run the stage that writes it, or delete it)")


def unique_options(command: str) -> str:
    """``command`` with each ``--option`` once, at its first place with its last value, as
    asd.sh reads them: an option takes the next word as its value unless given as
    ``--name=value``, ``--stop-stage`` and ``--stop_stage`` are one option, and the later
    value wins. Every word keeps its shell quoting."""
    words = _WORD.findall(command)
    kept: Dict[str, List[str]] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, _ = word[2:].partition("=")
            value = [word] if eq else words[i:i + 2]
            kept[name.replace("-", "_")] = value  # an update keeps the first place
        else:
            value = [word]  # the program, or a word that is no option's value
            kept[f"{i} {word}"] = value
        i += len(value)
    return " ".join(word for value in kept.values() for word in value)


def command_from(run: RunCommand, base_dir) -> str:
    """The command (each option once) as typed from ``base_dir``:
    ``cd <dir relative to base_dir> && ...``."""
    base = Path(base_dir).resolve()
    target = run.directory.resolve()
    command = unique_options(run.command)
    if target == base:
        return command
    where = os.path.relpath(target, base) if target.is_relative_to(base) else str(target)
    return f"cd {shlex.quote(where)} && {command}"


class Experiment:
    """The experiment dir ``exp_dir`` read back. Each file is read when first asked for, so
    a report reads only what it shows; :func:`load_experiment` with a checkpoint loads the
    model(s) at once.

    ``parts``: the trained models, keyed by machine type, or ``None`` for one model;
    ``labels``: the labels it was trained with; ``held_out``: the clips it held out.
    """

    def __init__(self, exp_dir, checkpoint: Optional[str] = None,
                 device: torch.device = torch.device("cpu")):
        self.exp_dir = Path(exp_dir)
        self.checkpoint = checkpoint
        self.device = device

    @cached_property
    def part_dirs(self) -> Dict[Optional[str], Path]:
        """``{None: exp_dir}``, or ``{machine: exp_dir/machine}`` for one model per type."""
        return part_dirs(self.exp_dir)

    @cached_property
    def parts(self) -> Dict[Optional[str], TrainedModel]:
        if self.checkpoint is None:
            raise ValueError(f"{self.exp_dir}: read without a checkpoint; load it with one "
                             "(best, latest or epochN) to score clips")
        return {machine: TrainedModel(path, self.checkpoint, self.device)
                for machine, path in self.part_dirs.items()}

    @cached_property
    def labels(self) -> TrainingLabels:
        tables: Dict[str, Dict[str, str]] = {}
        scheme = "unrecorded"
        for path in self.part_dirs.values():
            labels = read_training_labels(path)
            scheme = labels.label_scheme
            for name, table in labels.tables.items():
                tables.setdefault(name, {}).update(table)
        return TrainingLabels(tables, scheme)

    @cached_property
    def held_out(self) -> Set[str]:
        return read_held_out(self.exp_dir)

    def model_for(self, machine: str) -> TrainedModel:
        if None in self.parts:
            return self.parts[None]
        if machine not in self.parts:
            raise ValueError(f"{self.exp_dir}: no trained model for machine type {machine!r} "
                             f"(it has {sorted(self.parts)})")
        return self.parts[machine]

    @property
    def num_samples(self) -> int:
        """Samples per clip the model(s) take (``model_info.yaml`` of the first part)."""
        return int(read_model_info(self._first_part)["num_samples"])

    @property
    def sample_rate(self) -> int:
        """The sample rate of the dump the model(s) were trained on (first part)."""
        return recorded_sample_rate(self._first_part)

    @property
    def _first_part(self) -> Path:
        return next(iter(self.part_dirs.values()))

    @cached_property
    def config(self) -> Optional[dict]:
        """The saved training configuration of ``exp_dir``; None without ``config.yaml``."""
        path = self.exp_dir / "config.yaml"
        return read_saved_config(path) if path.is_file() else None

    def run_command(self, inference_tag: Optional[str] = None) -> Optional[RunCommand]:
        """The command of ``<inference_tag>/run.sh``, which made that inference (stages 4-5),
        or of the experiment's ``run.sh`` (stage 3) without a tag or where the inference
        dir has none; None without either."""
        if inference_tag is not None:
            run = read_run_command(self.exp_dir / inference_tag)
            if run is not None:
                return run
        return read_run_command(self.exp_dir)

    def score_dirs(self) -> List[Path]:
        """Score dirs ``<inference_tag>/<set>`` that hold results or plots, sorted."""
        found = [path for path in self.exp_dir.glob("*/*")
                 if path.is_dir() and ((path / "result.md").is_file()
                                       or (path / "plots").is_dir())]
        return sorted(found)

    def resolve_recipe_path(self, path) -> Path:
        """``path`` as given when it exists, else relative to the recipe dir of the
        experiment's run.sh (paths in a saved config are relative to the recipe dir)."""
        path = Path(path)
        if path.exists() or path.is_absolute():
            return path
        run = self.run_command()
        if run is not None and (run.directory / path).exists():
            return run.directory / path
        return path


def load_experiment(exp_dir, checkpoint: Optional[str] = "best",
                    device: torch.device = torch.device("cpu")) -> Experiment:
    """The experiment in ``exp_dir`` with the weights of ``checkpoint`` on ``device``, its
    training labels and held-out clips read at once; with ``checkpoint=None``, only what is
    asked for is read, and no weights (reports, result tables, detection's front-end)."""
    experiment = Experiment(exp_dir, checkpoint, device)
    if checkpoint is not None:
        for name in ("parts", "labels", "held_out"):
            getattr(experiment, name)
    return experiment
