"""Stage 6: several trained systems combined into one, scored like a single system.

Two levels, one flow (the training set first: its combined scores set the decision
thresholds; then every test set, written as stage 4 writes it):

**score** (Giri et al., "Self-supervised classification for detecting anomalous sounds",
DCASE 2020 Workshop, Sec. 4.1): each system's scores are standardised per group
g = (machine type, section) with the mean and standard deviation (ddof 0) of its scores on
g's training clips, then averaged with weights, or their maximum taken::

    z_i(x) = (s_i(x) - mu_ig) / sigma_ig
    mean:  s(x) = sum_i w_i z_i(x) / sum_i w_i        max:  s(x) = max_i z_i(x)

A group whose training scores are (nearly) constant gets ``sigma = std_floor`` (logged).

**embedding** (Kim et al., DCASE 2024 Task 2 technical report, Sec. 1 and Table 1: two
wav2vec 2.0 + AST systems, ``e = (1 - w) e1 + w e2``, w 0.62-0.67): each system's
embedding is L2-normalised and the weighted sum is scored by an embedding back-end fitted
per group on the combined training embeddings, training clips leaving themselves out of
its memory::

    e(x) = sum_i w_i e_i(x) / ||e_i(x)||  /  sum_i w_i

Each system is an inference dir ``exp/<tag>/<inference_tag>`` of stage 4 holding
``<set>/utt2score`` (score level) or ``<set>/embeddings.scp`` (embedding level) for the
training set and every test set. The training clips' classes and domains (for the
back-end) are those the first system's experiment was trained with. The decision
thresholds are fitted on the combined scores of the training clips every system held out
(:mod:`asd_lib.inference.thresholds`).
"""
import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from asd_lib.backends.base import l2_normalise
from asd_lib.corpus import get_corpus
from asd_lib.data.dataset import TEST_TIME_FILES, DumpedSet
from asd_lib.experiment import Group, load_experiment
from asd_lib.inference.backend import backend_scores, fit_backends, rows_within_groups
from asd_lib.inference.config import InferenceConfig
from asd_lib.inference.outputs import (
    read_embeddings,
    read_scores,
    write_embeddings,
    write_official_files,
    write_scores,
)
from asd_lib.inference.thresholds import FILE_NAME, section_thresholds, write_thresholds
from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)

LEVELS = ("score", "embedding")
FUSIONS = ("mean", "max")
GroupStats = Dict[Group, Tuple[float, float]]  # group -> (mean, std) of training scores


@dataclass(frozen=True)
class Combination:
    """How the systems are combined (module docstring)."""

    level: str = "score"
    fusion: str = "mean"  # score level
    weights: Optional[Tuple[float, ...]] = None
    std_floor: float = 1e-6  # score level
    inference: InferenceConfig = field(
        default_factory=lambda: InferenceConfig(backend="kmeans_membank"))  # embedding level

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if self.level == "embedding" and self.fusion != "mean":
            raise ValueError("embedding-level combination is a weighted mean of embeddings; "
                             "fusion max applies to score level only")
        if not self.std_floor > 0:
            raise ValueError(f"std_floor must be > 0, got {self.std_floor!r}")
        if self.level == "embedding" and self.inference.is_forward_score:
            raise ValueError(f"embedding-level combination scores with an embedding back-end; "
                             f"{self.inference.score} is a forward-pass score")


def system_weights(weights: Optional[Sequence[float]], n_systems: int) -> np.ndarray:
    """One finite weight >= 0 per system, not all 0, as an array (all ones when ``weights``
    is None)."""
    if weights is None:
        return np.ones(n_systems)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_systems,):
        raise ValueError(f"{weights.size} weights for {n_systems} systems; give one per system")
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0, got {list(weights)}")
    return weights


def check_weights(weights: Optional[Sequence[float]], n_systems: int,
                  fusion: str) -> np.ndarray:
    """The weights as an array, validated; max fusion takes no weights."""
    weights = system_weights(weights, n_systems)
    if fusion == "max" and not np.all(weights == weights[0]):
        raise ValueError("weights apply to mean fusion only; max fusion takes the unweighted "
                         "maximum of the standardised scores")
    return weights


# --------------------------------------------------------------------------- score level
def group_statistics(train_scores: np.ndarray, groups: Sequence[Group], std_floor: float,
                     source: str) -> GroupStats:
    """Mean and standard deviation (ddof 0) of the training scores of every group, the
    deviation floored at ``std_floor`` (logged, naming ``source``)."""
    members = defaultdict(list)
    for score, group in zip(train_scores, groups):
        members[group].append(score)
    stats = {}
    for group, values in sorted(members.items()):
        mean, std = float(np.mean(values)), float(np.std(values))
        if std < std_floor:
            logger.warning("%s: training scores of %s %s have standard deviation %g < %g; "
                           "using %g", source, group[0], group[1], std, std_floor, std_floor)
            std = std_floor
        stats[group] = (mean, std)
    return stats


def standardise(scores: np.ndarray, groups: Sequence[Group], stats: GroupStats,
                source: str) -> np.ndarray:
    """``(s - mean_g) / std_g`` per clip, with the statistics of the clip's group."""
    unknown = sorted(set(groups) - set(stats))
    if unknown:
        raise ValueError(f"{source}: no training clips of {unknown[0][0]} {unknown[0][1]} to "
                         "standardise with; include that section in the training set")
    mean = np.array([stats[g][0] for g in groups])
    std = np.array([stats[g][1] for g in groups])
    return (np.asarray(scores, dtype=np.float64) - mean) / std


def fuse(standardised: np.ndarray, fusion: str, weights: np.ndarray) -> np.ndarray:
    """Fuse standardised scores ``[systems, clips]`` into ``[clips]``: weighted mean or max."""
    if fusion == "max":
        return standardised.max(axis=0)
    return weights @ standardised / weights.sum()


# --------------------------------------------------------------------------- embedding level
def fuse_embeddings(embeddings: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """``sum_i w_i normalise(E_i) / sum_i w_i`` of the systems' ``[N, E]`` embeddings."""
    shapes = {e.shape for e in embeddings}
    if len(shapes) != 1:
        raise ValueError(f"the systems' embeddings differ in shape {sorted(shapes)}; fusion "
                         "adds them, so every system needs the same embedding size")
    stacked = np.stack([l2_normalise(np.asarray(e, dtype=np.float64)) for e in embeddings])
    return np.tensordot(weights, stacked, axes=1) / weights.sum()


def read_system_embeddings(system_dir, set_name: str, utts: Sequence[str]) -> np.ndarray:
    scp = Path(system_dir) / set_name / "embeddings.scp"
    if not scp.is_file():
        raise ValueError(f"{scp}: missing; run stage 4 of {system_dir} on {set_name} first")
    embeddings = read_embeddings(scp, utts)
    if not np.isfinite(embeddings).all():
        raise ValueError(f"{scp}: NaN or infinite embeddings; fix that system's training")
    return embeddings


def read_system_scores(system_dir, set_name: str, utts: Sequence[str]) -> np.ndarray:
    scores = np.array(read_scores(Path(system_dir) / set_name / "utt2score", utts))
    if not np.isfinite(scores).all():
        raise ValueError(f"{system_dir}/{set_name}/utt2score: NaN or infinite scores; fix "
                         "that system's stage 4")
    return scores


# --------------------------------------------------------------------------- the flow
def shared_held_out(systems: Sequence[str]) -> Set[str]:
    """The training clips every system's experiment held out from training."""
    held = None
    for system in systems:
        mine = load_experiment(Path(system).parent, checkpoint=None).held_out
        held = mine if held is None else held & mine
    return held or set()


class Combiner:
    """Scores of a set combined from the systems; fitted on the training set first."""

    def __init__(self, systems: Sequence[str], combination: Combination, train_set: str,
                 train: DumpedSet):
        if len(systems) < 2:
            raise ValueError(f"an ensemble needs at least 2 systems, got {list(systems)}")
        self.systems, self.combination = list(systems), combination
        self.weights = check_weights(combination.weights, len(systems), combination.fusion)
        self.train_groups = _groups(train)
        self.stats: List[GroupStats] = []
        self.backends = None
        if combination.level == "score":
            for system in systems:
                scores = read_system_scores(system, train_set, train.utts)
                self.stats.append(group_statistics(scores, self.train_groups,
                                                   combination.std_floor,
                                                   f"{system}/{train_set}/utt2score"))
        else:
            labels = load_experiment(Path(systems[0]).parent, checkpoint=None).labels
            if set(labels.utts) != set(train.utts):
                raise ValueError(f"{train.path} is not the training set of {systems[0]}; "
                                 "combine systems trained on this set")
            self.train_embeddings = self.embeddings(train_set, train)
            domains = [labels.tables.get("utt2domain", {}).get(u, "source") for u in train.utts]
            conf = combination.inference
            self.backends = fit_backends(conf.backend, conf.backend_conf, self.train_embeddings,
                                         self.train_groups, domains,
                                         labels.column("utt2class", train.utts))

    def embeddings(self, set_name: str, data: DumpedSet) -> np.ndarray:
        return fuse_embeddings([read_system_embeddings(s, set_name, data.utts)
                                for s in self.systems], self.weights)

    def scores(self, set_name: str, data: DumpedSet, is_train: bool,
               out_dir: Path) -> np.ndarray:
        """The combined scores of ``data``; the embedding level also writes the combined
        embeddings into ``out_dir``."""
        groups = _groups(data)
        if self.combination.level == "score":
            z = np.stack([standardise(read_system_scores(s, set_name, data.utts), groups, stat,
                                      f"{s}/{set_name}/utt2score")
                          for s, stat in zip(self.systems, self.stats)])
            return fuse(z, self.combination.fusion, self.weights)
        embeddings = self.train_embeddings if is_train else self.embeddings(set_name, data)
        write_embeddings(out_dir, data.utts, embeddings)
        per_clip = backend_scores(self.backends, groups, [e[None] for e in embeddings],
                                  rows_within_groups(groups) if is_train else None)
        return np.array([s[0] for s in per_clip])


def run_ensemble(systems: Sequence[str], out_dir, data_root, train_set: str,
                 test_sets: Sequence[str], dataset: str, combination: Combination) -> None:
    """Combine the systems on ``train_set`` and ``test_sets`` into ``out_dir/<set>``; test
    sets without a data dir under ``data_root`` are skipped."""
    out_dir, data_root = Path(out_dir), Path(data_root)
    train = DumpedSet(data_root / train_set, only=TEST_TIME_FILES)
    combiner = Combiner(systems, combination, train_set, train)
    train_scores = combiner.scores(train_set, train, True, out_dir / train_set)
    write_scores(out_dir / train_set, train.utts, train_scores)
    thresholds = section_thresholds(train.utts, _groups(train), train_scores,
                                    shared_held_out(systems))
    write_thresholds(out_dir / train_set / FILE_NAME, thresholds)
    for set_name in test_sets:
        if set_name == train_set:
            continue
        if not (data_root / set_name).is_dir():
            logger.warning("%s: no such data dir; %s skipped", data_root / set_name, set_name)
            continue
        data = DumpedSet(data_root / set_name, only=TEST_TIME_FILES)
        scores = combiner.scores(set_name, data, False, out_dir / set_name)
        write_scores(out_dir / set_name, data.utts, scores)
        write_official_files(out_dir / set_name, get_corpus(dataset).csv_name,
                             data.file_names(), _groups(data), scores, thresholds)
        logger.info("combined %d systems (%s level) on %d clips of %s", len(systems),
                    combination.level, len(scores), data.path)
    write_summary(out_dir / "ensemble.json", combiner)


def _groups(data: DumpedSet) -> List[Group]:
    return list(zip(data.column("utt2machine"), data.column("utt2section")))


def write_summary(path: Path, combiner: Combiner) -> None:
    """The combination's settings (and each system's training statistics at score level)."""
    c = combiner.combination
    summary = {"level": c.level, "systems": [str(s) for s in combiner.systems],
               "weights": [float(w) for w in combiner.weights],
               "normalised_weights": [float(w) / math.fsum(combiner.weights)
                                      for w in combiner.weights]}
    if c.level == "score":
        summary.update(fusion=c.fusion, std_floor=c.std_floor, train_stats=[
            {f"{m} {s}": {"mean": mean, "std": std} for (m, s), (mean, std) in stat.items()}
            for stat in combiner.stats])
    else:
        summary.update(backend=c.inference.backend, backend_conf=c.inference.backend_conf)
    with atomic_write(path) as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
