"""Decision thresholds per (machine type, section), the rule of the official DCASE
baselines (2021 onwards): the 0.9 quantile of a gamma distribution fitted to the section's
training anomaly scores (:func:`asd_lib.backends.threshold.gamma_threshold`).

The scores fitted are computed the way test scores are (the section-best class, the
back-end without the clip in its memory, :mod:`asd_lib.inference.run`) and come from the
training clips the model never trained on: the experiment's held-out clips
(``held_out.list``). So the threshold flags about 10 % of unseen normal clips, where scores
of the clips the model was trained on, lower than those of any unseen clip, would flag
far more. A section with fewer than :data:`MIN_HELD_OUT` held-out clips (e.g.
``valid_fraction: 0``) falls back to all its training clips, which is logged, and the
threshold then errs towards flagging.

Stage 4 writes the thresholds of the training set's run to ``thresholds.csv``
(``machine,section,threshold,clips,basis``); the test sets and ``detect`` read them there.
"""
import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Sequence, Set

import numpy as np

from asd_lib.backends.threshold import gamma_threshold
from asd_lib.experiment import Group
from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)

MIN_HELD_OUT = 10
PERCENTILE = 0.9
FILE_NAME = "thresholds.csv"


@dataclass(frozen=True)
class Threshold:
    value: float
    clips: int  # training scores fitted
    basis: str  # "held_out" or "all_training"


def section_thresholds(utts: Sequence[str], groups: Sequence[Group], scores: Sequence[float],
                       held_out: Set[str]) -> Dict[Group, Threshold]:
    """The threshold of every group from its training clips' ``scores`` (module docstring)."""
    by_group: Dict[Group, list] = {}
    for utt, group, score in zip(utts, groups, scores):
        by_group.setdefault(group, []).append((utt in held_out, float(score)))
    out = {}
    for group, rows in sorted(by_group.items()):
        unseen = [s for h, s in rows if h]
        if len(unseen) >= MIN_HELD_OUT:
            values, basis = unseen, "held_out"
        else:
            values, basis = [s for _, s in rows], "all_training"
            logger.warning("%s %s: %d held-out training clip(s) < %d; its decision threshold is "
                           "fitted on all %d training clips, which the model was trained on "
                           "(it will flag more than 10%% of normal clips)", group[0], group[1],
                           len(unseen), MIN_HELD_OUT, len(values))
        out[group] = Threshold(gamma_threshold(np.asarray(values), PERCENTILE), len(values), basis)
    return out


def write_thresholds(path, thresholds: Mapping[Group, Threshold]) -> None:
    with atomic_write(path, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["machine", "section", "threshold", "clips", "basis"])
        for (machine, section), t in sorted(thresholds.items()):
            writer.writerow([machine, section, repr(t.value), t.clips, t.basis])


def read_thresholds(path) -> Dict[Group, Threshold]:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: missing; run stage 4 on the training set first (its scores "
                         "set the decision thresholds)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    try:
        return {(r["machine"], r["section"]): Threshold(float(r["threshold"]), int(r["clips"]),
                                                        r["basis"]) for r in rows}
    except (KeyError, ValueError, TypeError) as err:
        raise ValueError(f"{path}: malformed ({err}); re-run stage 4 on the training set") from None
