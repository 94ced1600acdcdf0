"""Score-level ensembles: per-group standardisation of each system, then mean or max fusion.

Giri et al., "Self-supervised classification for detecting anomalous sounds", DCASE 2020
Workshop, Sec. 4.1: the scores of each model are standardised per machine ID with the
mean and variance of that model's scores on the ID's training clips, and the standardised
scores of the models are averaged (or their maximum taken). For system i, group g = (machine type,
section) and clip x of g::

    z_i(x) = (s_i(x) - mu_ig) / sigma_ig        mu_ig, sigma_ig: mean and standard
                                                 deviation (ddof 0) of s_i on g's
                                                 training clips
    mean:  s(x) = sum_i w_i z_i(x) / sum_i w_i   (w_i = 1 unless weights are given)
    max:   s(x) = max_i z_i(x)

A group whose training scores are (nearly) constant gets ``sigma = std_floor`` (logged).
Each system directory holds ``<set>/utt2score`` (stage 4) for the training set and every
test set. The training clips are fused like any other set; those fused scores set the
per-group decision thresholds (gamma fit, as in stage 4), and the test sets get
``utt2score`` and the official score and decision CSVs, so stage 5 scores the ensemble
like a single system.
"""
import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from asd_lib.data.dataset import DumpedSet
from asd_lib.inference import group_keys, section_thresholds, write_official_files
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv

logger = logging.getLogger(__name__)

FUSIONS = ("mean", "max")
Group = Tuple[str, str]  # (machine type, section)
GroupStats = Dict[Group, Tuple[float, float]]  # group -> (mean, std) of training scores


def read_system_scores(system_dir, set_name: str, data: DumpedSet) -> np.ndarray:
    """A system's ``<set>/utt2score`` as floats in ``data``'s utterance order.

    The file must hold exactly the clips of ``data``: a missing file, missing or extra
    clips, or a value that is not a finite number is a ValueError naming the file.
    """
    path = Path(system_dir) / set_name / "utt2score"
    if not path.is_file():
        raise ValueError(f"{path}: missing; run stage 4 of {system_dir} on {set_name} first")
    table = read_kv(path)
    missing = [u for u in data.utts if u not in table]
    if missing:
        raise ValueError(f"{path}: no score for {len(missing)} of the {len(data.utts)} clips "
                         f"of {data.path} (first: {missing[0]}); re-run stage 4 of that system")
    if len(table) != len(data.utts):
        extra = sorted(set(table) - set(data.utts))
        raise ValueError(f"{path}: {len(extra)} clips that {data.path} does not have (first: "
                         f"{extra[0]}); the system was scored on a different data set")
    try:
        scores = np.array([float(table[u]) for u in data.utts])
    except ValueError as err:
        raise ValueError(f"{path}: a score is not a number ({err})") from None
    if not np.isfinite(scores).all():
        raise ValueError(f"{path}: NaN or infinite scores; fix that system's stage 4")
    return scores


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


def system_weights(weights: Optional[Sequence[float]], n_systems: int) -> np.ndarray:
    """One finite weight >= 0 per system, not all 0, as an array (all ones when
    ``weights`` is None); shared by score ensembles and embedding fusion (``asd_lib.fuse``)."""
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
    """The fusion weights as an array (all ones when ``weights`` is None), validated."""
    if fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
    weights = system_weights(weights, n_systems)
    if fusion == "max" and not np.all(weights == weights[0]):
        raise ValueError("weights apply to mean fusion only; max fusion takes the unweighted "
                         "maximum of the standardised scores")
    return weights


def fuse(standardised: np.ndarray, fusion: str, weights: np.ndarray) -> np.ndarray:
    """Fuse standardised scores ``[systems, clips]`` into ``[clips]``: weighted mean or max."""
    if fusion == "max":
        return standardised.max(axis=0)
    return weights @ standardised / weights.sum()


def run_ensemble(systems: Sequence[str], out_dir, data_root, train_set: str,
                 test_sets: Sequence[str], fusion: str, dataset: str,
                 weights: Optional[Sequence[float]] = None, std_floor: float = 1e-6) -> None:
    """Fuse the systems' scores on ``train_set`` and ``test_sets`` into ``out_dir``."""
    if len(systems) < 2:
        raise ValueError(f"an ensemble needs at least 2 systems, got {list(systems)}")
    if not std_floor > 0:
        raise ValueError(f"std_floor must be > 0, got {std_floor!r}")
    weights = check_weights(weights, len(systems), fusion)
    out_dir, data_root = Path(out_dir), Path(data_root)
    train = DumpedSet(data_root / train_set)
    train_groups = group_keys(train)
    stats = []
    for system in systems:
        scores = read_system_scores(system, train_set, train)
        stats.append(group_statistics(scores, train_groups, std_floor,
                                      f"{system}/{train_set}/utt2score"))

    def fused_scores(data: DumpedSet, set_name: str) -> np.ndarray:
        groups = group_keys(data)
        z = np.stack([
            standardise(read_system_scores(system, set_name, data), groups, stat,
                        f"{system}/{set_name}/utt2score")
            for system, stat in zip(systems, stats)
        ])
        scores = fuse(z, fusion, weights)
        write_kv(out_dir / set_name / "utt2score",
                 [(u, repr(float(s))) for u, s in zip(data.utts, scores)])
        logger.info("fused %d systems (%s) on %d clips of %s", len(systems), fusion,
                    len(scores), data.path)
        return scores

    fused_scores(train, train_set)
    thresholds = section_thresholds(out_dir / train_set / "utt2score", data_root / train_set)
    for set_name in test_sets:
        if set_name == train_set:
            continue
        if not (data_root / set_name).is_dir():
            logger.warning("%s: no such data dir; %s skipped", data_root / set_name, set_name)
            continue
        data = DumpedSet(data_root / set_name)
        write_official_files(out_dir / set_name, dataset, data, fused_scores(data, set_name),
                             thresholds)
    write_summary(out_dir / "ensemble.json", systems, fusion, weights, std_floor, stats)


def write_summary(path: Path, systems: Sequence[str], fusion: str, weights: np.ndarray,
                  std_floor: float, stats: List[GroupStats]) -> None:
    """The ensemble's settings and each system's per-group training statistics (JSON)."""
    summary = {
        "fusion": fusion,
        "weights": [float(w) for w in weights],
        "std_floor": std_floor,
        "systems": [
            {"dir": str(system),
             "train_stats": {f"{m} {s}": {"mean": mean, "std": std}
                             for (m, s), (mean, std) in stat.items()}}
            for system, stat in zip(systems, stats)
        ],
    }
    with atomic_write(path) as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
