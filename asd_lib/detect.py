"""Anomaly scores and decisions for new recordings of a trained machine type and section.

The clips take the recipe's own path, so a clip gets the score stage 4 gives it:

1. stage 2's front-end (:func:`asd_lib.data.audio.dump_wav_scp`: read, resample, first
   channel, crop / tile / pad to the model's clip length) writes them to a temporary
   dumped set, with the class of their (machine type, section) from the training set;
2. stage 4 (:func:`asd_lib.inference.run_inference`) scores that set with the
   experiment's model(s) and configured back-end, or an exported ONNX file does
   (:class:`asd_lib.export.OnnxScorer`);
3. a clip is anomalous when its score exceeds the threshold: by default stage 4's, per
   (machine, section) the 0.9 quantile of a gamma distribution fitted to that section's
   training scores (:func:`asd_lib.inference.section_thresholds`).
"""
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from asd_lib.data.audio import dump_wav_scp
from asd_lib.data.datadir import load_data_dir
from asd_lib.data.dataset import ArkReader
from asd_lib.export import OnnxScorer
from asd_lib.inference import FORWARD_SCORES, run_inference, section_thresholds
from asd_lib.train.trainer import read_model_info
from asd_lib.utils.config import read_saved_config
from asd_lib.utils.fileio import read_kv, write_kv

logger = logging.getLogger(__name__)

Group = Tuple[str, str]  # (machine type, section)


@dataclass(frozen=True)
class Detection:
    """The result for one input clip; ``decision`` is 1 for anomalous, 0 for normal."""

    key: str
    score: float
    threshold: float
    decision: int


class TrainingClasses:
    """The training set's classes (``utt2class``) and the (machine, section) of each."""

    def __init__(self, train_dir):
        self.train_dir = Path(train_dir)
        tables = load_data_dir(train_dir, require=("utt2machine", "utt2section", "utt2class"))
        self.group_of: Dict[str, Group] = {}
        for utt, name in tables["utt2class"].items():
            self.group_of.setdefault(name, (tables["utt2machine"][utt],
                                            tables["utt2section"][utt]))

    def class_of(self, machine: str, section: str) -> str:
        """The one training class of ``machine`` ``section``; ValueError when there is none
        or several (then each clip's class must be given)."""
        names = sorted(c for c, g in self.group_of.items() if g == (machine, section))
        if not names:
            known = sorted({f"{m} {s}" for m, s in self.group_of.values()})
            raise ValueError(f"{machine} {section} is not in the training set {self.train_dir}; "
                             f"the model knows: {', '.join(known)}")
        if len(names) > 1:
            raise ValueError(f"{machine} {section} has {len(names)} training classes "
                             f"({names[:3]}...); give each clip's class with --utt2class")
        return names[0]

    def check(self, name: str, where: str) -> str:
        if name not in self.group_of:
            raise ValueError(f"{where}: class {name!r} is not a class of the training set "
                             f"{self.train_dir}; known: {', '.join(sorted(self.group_of)[:10])}")
        return name


def read_inputs(files: Sequence[str], scp: Optional[str]) -> List[Tuple[str, str]]:
    """``(key, wav.scp value)`` per clip: each file keyed by its path, or an scp's lines."""
    if bool(files) == (scp is not None):
        raise ValueError("give either wav files or --scp, not both and not neither")
    if scp is not None:
        return list(read_kv(scp).items())
    if len(set(files)) != len(files):
        raise ValueError("a wav file is given twice; each clip once, please")
    return [(path, path) for path in files]


def assign_classes(keys: Sequence[str], classes: TrainingClasses, machine: Optional[str],
                   section: Optional[str], utt2class: Optional[str]) -> List[str]:
    """Each clip's training class: that of ``machine`` ``section`` for all clips, or the
    class of each key in the ``utt2class`` file."""
    if utt2class is not None:
        if machine is not None or section is not None:
            raise ValueError("give --machine and --section, or --utt2class, not both")
        table = read_kv(utt2class)
        missing = [k for k in keys if k not in table]
        if missing:
            raise ValueError(f"{utt2class}: no class for {missing[:3]} ({len(missing)} clips); "
                             "it needs a line 'key class' per clip (key: the path or scp key)")
        return [classes.check(table[k], utt2class) for k in keys]
    if machine is None or section is None:
        raise ValueError("give --machine and --section (e.g. --machine fan --section id_00), "
                         "or --utt2class")
    return [classes.class_of(machine, section)] * len(keys)


def clip_length(exp_dir) -> int:
    """Samples per clip the experiment's model takes (``model_info.yaml``)."""
    info = read_model_info(exp_dir)
    if "num_samples" not in info and info.get("parts"):
        info = read_model_info(Path(exp_dir) / info["parts"][0])
    return int(info["num_samples"])


def detect(exp_dir, checkpoint: str, inputs: Sequence[Tuple[str, str]], classes: Sequence[str],
           training: TrainingClasses, dataset: str = "dcase2020",
           threshold: Optional[float] = None, short_clip: str = "tile",
           onnx_path=None, ngpu: int = 0, batch_size: Optional[int] = None) -> List[Detection]:
    """Score ``inputs`` (``(key, wav.scp value)``) of the given training ``classes``.

    ``threshold`` (one value for every clip) replaces the per-section thresholds fitted
    on the training scores ``exp_dir/checkpoint/<train set>/utt2score`` (stage 4).
    """
    exp_dir = Path(exp_dir)
    config = read_saved_config(exp_dir / "config.yaml")
    train_scores = exp_dir / checkpoint / training.train_dir.name / "utt2score"
    if not train_scores.is_file():
        if threshold is None:
            raise ValueError(f"{train_scores}: missing, so no decision threshold; run stage 4 "
                             "on the training set or give --threshold")
        if config.get("backend", "neg_log_prob") not in FORWARD_SCORES:
            raise ValueError(f"{train_scores}: missing; the {config['backend']} back-end is "
                             "fitted on the training embeddings: run stage 4 on the training set")
        train_scores = None
    with tempfile.TemporaryDirectory(prefix="asd_detect_") as tmp:
        dumped = _dump_inputs(Path(tmp) / "dump", inputs, classes, training,
                              config["sample_rate"], clip_length(exp_dir), short_clip)
        if onnx_path is not None:
            scores = _onnx_scores(onnx_path, exp_dir, dumped, classes)
        else:
            out_dir = Path(tmp) / "scores"
            run_inference(exp_dir, checkpoint, dumped, out_dir, dataset, ngpu=ngpu,
                          batch_size=batch_size, train_dir=training.train_dir,
                          train_score_file=train_scores)
            table = read_kv(out_dir / "utt2score")
            scores = np.array([float(table[_utt(i)]) for i in range(len(inputs))])
    if threshold is None:
        fitted = section_thresholds(train_scores, training.train_dir)
        thresholds = [fitted[training.group_of[c]] for c in classes]
    else:
        thresholds = [float(threshold)] * len(inputs)
    return [Detection(key, float(s), t, int(s > t))
            for (key, _), s, t in zip(inputs, scores, thresholds)]


def _utt(index: int) -> str:
    """Utterance id of the index-th input in the temporary set (sorted as inputs are)."""
    return f"clip{index:08d}"


def _dump_inputs(out_dir: Path, inputs, classes, training: TrainingClasses, sample_rate: int,
                 num_samples: int, short_clip: str) -> Path:
    """A dumped data dir of the inputs, as stage 2 writes one."""
    out_dir.mkdir(parents=True)
    utts = [_utt(i) for i in range(len(inputs))]
    write_kv(out_dir / "wav.scp", zip(utts, (source for _, source in inputs)))
    dump_wav_scp(out_dir / "wav.scp", out_dir / "feats", sample_rate=sample_rate,
                 segment_sec=num_samples / sample_rate, short_clip=short_clip)
    write_kv(out_dir / "utt2class", zip(utts, classes))
    write_kv(out_dir / "utt2machine", zip(utts, (training.group_of[c][0] for c in classes)))
    write_kv(out_dir / "utt2section", zip(utts, (training.group_of[c][1] for c in classes)))
    return out_dir


def _onnx_scores(onnx_path, exp_dir: Path, dumped: Path, classes: Sequence[str]) -> np.ndarray:
    """Scores of the dumped clips by an exported file, after checking it fits ``exp_dir``."""
    scorer = OnnxScorer(onnx_path)
    info = read_model_info(exp_dir)
    if scorer.classes != info.get("classes"):
        raise ValueError(f"{onnx_path}: its classes differ from {exp_dir}/model_info.yaml; it "
                         "was exported from another experiment")
    index = {name: i for i, name in enumerate(scorer.classes)}
    feats = read_kv(dumped / "feats.scp")
    with ArkReader([feats[_utt(i)] for i in range(len(classes))]) as reader:
        waves = np.stack([reader.read(i) for i in range(len(classes))])
    return scorer.score(waves, np.array([index[c] for c in classes]))[0]
