"""ROC AUC and McClish-standardised partial AUC, vectorised with numpy.

Conventions: ``y_true`` holds 1 for an anomalous clip and 0 for a normal one; ``score`` is
an anomaly score (higher = more anomalous). Both functions reproduce scikit-learn's
``roc_auc_score`` (the function every official DCASE Task 2 evaluator calls) to rounding
error, but raise ``ValueError`` instead of returning NaN when only one class is present.

AUC (Mann-Whitney form; Hanley & McNeil, Radiology 143(1), 1982)::

    AUC = (R_1 - n_1 (n_1 + 1) / 2) / (n_1 n_0)

with ``R_1`` the sum of the mid-ranks of the anomalous clips among all clips, ``n_1``
anomalous and ``n_0`` normal clips. It is the probability that a random anomalous clip
scores above a random normal one, a tie counting 1/2, and equals the trapezoidal area
under the ROC curve drawn over the distinct score thresholds.

Partial AUC (McClish, Medical Decision Making 9(3), 1989, standardised as scikit-learn
does it), for ``p = max_fpr``::

    pa   = trapezoidal area under the ROC curve for FPR in [0, p], the curve being
           linearly interpolated at FPR = p
    min  = p^2 / 2          (area of the chance diagonal on [0, p])
    max  = p                (area of a perfect detector on [0, p])
    pAUC = 0.5 * (1 + (pa - min) / (max - min))

so that chance gives 0.5 and a perfect detector 1. This is *not* the raw area ``pa / p``.
"""
from typing import Tuple

import numpy as np


def _validate(y_true, score) -> Tuple[np.ndarray, np.ndarray]:
    """Return (boolean anomaly mask, float scores); raise ValueError on bad input."""
    labels = np.asarray(y_true)
    scores = np.asarray(score, dtype=float)
    if labels.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(
            f"y_true and score must be 1-D and of equal length, got shapes "
            f"{labels.shape} and {scores.shape}"
        )
    values = np.unique(labels)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(f"y_true must hold 0 (normal) and 1 (anomaly), got values {values}")
    if values.size != 2:
        raise ValueError(
            f"AUC is undefined unless y_true holds both classes, got values {values}; "
            "the test set needs both normal and anomalous clips"
        )
    if not np.isfinite(scores).all():
        raise ValueError("score contains NaN or infinite values; fix the scoring backend")
    return labels == 1, scores


def roc_auc(y_true, score) -> float:
    """Area under the ROC curve by the Mann-Whitney rank statistic (ties count 1/2)."""
    is_anomaly, scores = _validate(y_true, score)
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    starts_group = np.r_[True, sorted_scores[1:] != sorted_scores[:-1]]
    group_start = np.flatnonzero(starts_group)
    group_end = np.r_[group_start[1:], scores.size]
    # 1-based ranks group_start+1 .. group_end share their mean as the mid-rank
    mid_rank = (group_start + 1 + group_end) / 2.0
    ranks = np.empty(scores.size)
    ranks[order] = mid_rank[np.cumsum(starts_group) - 1]
    n_anomaly = int(is_anomaly.sum())
    n_normal = scores.size - n_anomaly
    u_statistic = ranks[is_anomaly].sum() - n_anomaly * (n_anomaly + 1) / 2.0
    return float(u_statistic / (n_anomaly * n_normal))


def roc_curve(y_true, score) -> Tuple[np.ndarray, np.ndarray]:
    """ROC points (fpr, tpr), one per distinct threshold, from (0, 0) to (1, 1).

    Thresholds run from the highest score down; a clip counts as detected when its score
    is >= the threshold, so tied clips enter the curve together.
    """
    is_anomaly, scores = _validate(y_true, score)
    order = np.argsort(-scores, kind="mergesort")
    desc_scores = scores[order]
    last_of_group = np.r_[desc_scores[1:] != desc_scores[:-1], True]
    true_pos = np.cumsum(is_anomaly[order])[last_of_group]
    false_pos = np.flatnonzero(last_of_group) + 1 - true_pos
    fpr = np.r_[0, false_pos] / false_pos[-1]
    tpr = np.r_[0, true_pos] / true_pos[-1]
    return fpr, tpr


def partial_auc(y_true, score, max_fpr: float = 0.1) -> float:
    """McClish-standardised partial AUC over FPR in [0, max_fpr] (see module docstring).

    Equals ``sklearn.metrics.roc_auc_score(y_true, score, max_fpr=max_fpr)``;
    ``max_fpr = 1`` gives the plain AUC.
    """
    if not 0.0 < max_fpr <= 1.0:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr!r}")
    if max_fpr == 1.0:
        return roc_auc(y_true, score)
    fpr, tpr = roc_curve(y_true, score)
    stop = int(np.searchsorted(fpr, max_fpr, side="right"))  # fpr[stop-1] <= p < fpr[stop]
    tpr_at_max = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    area = np.trapezoid(np.r_[tpr[:stop], tpr_at_max], np.r_[fpr[:stop], max_fpr])
    min_area = 0.5 * max_fpr**2
    max_area = max_fpr
    return float(0.5 * (1.0 + (area - min_area) / (max_area - min_area)))
