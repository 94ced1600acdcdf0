"""ROC AUC and McClish-standardised partial AUC, computed by scikit-learn's
``roc_auc_score``, the function every official DCASE Task 2 evaluator calls, so results
equal the evaluators' bit for bit. What is added here: inputs are checked, and a set with
only one class raises ``ValueError`` naming the problem instead of returning NaN.

Conventions: ``y_true`` holds 1 for an anomalous clip and 0 for a normal one; ``score`` is
an anomaly score (higher = more anomalous).

AUC is the probability that a random anomalous clip scores above a random normal one, a
tie counting 1/2 (Hanley & McNeil, Radiology 143(1), 1982). The partial AUC over
FPR in [0, p] (McClish, Medical Decision Making 9(3), 1989), standardised as scikit-learn
does it::

    pa   = area under the ROC curve for FPR in [0, p], the curve linearly interpolated
           at FPR = p
    min  = p^2 / 2          (area of the chance diagonal on [0, p])
    max  = p                (area of a perfect detector on [0, p])
    pAUC = 0.5 * (1 + (pa - min) / (max - min))

so that chance gives 0.5 and a perfect detector 1. This is *not* the raw area ``pa / p``.
"""
from typing import Tuple

import numpy as np
import sklearn.metrics


def _validate(y_true, score) -> Tuple[np.ndarray, np.ndarray]:
    """Return (0/1 labels, float scores); raise ValueError on bad input."""
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
    return (labels == 1).astype(int), scores


def roc_auc(y_true, score) -> float:
    """Area under the ROC curve (ties count 1/2)."""
    labels, scores = _validate(y_true, score)
    return float(sklearn.metrics.roc_auc_score(labels, scores))


def roc_curve(y_true, score) -> Tuple[np.ndarray, np.ndarray]:
    """ROC points (fpr, tpr), one per distinct threshold, from (0, 0) to (1, 1)."""
    labels, scores = _validate(y_true, score)
    fpr, tpr, _ = sklearn.metrics.roc_curve(labels, scores, drop_intermediate=False)
    return fpr, tpr


def partial_auc(y_true, score, max_fpr: float = 0.1) -> float:
    """McClish-standardised partial AUC over FPR in [0, max_fpr] (module docstring);
    ``max_fpr = 1`` gives the plain AUC."""
    if not 0.0 < max_fpr <= 1.0:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr!r}")
    labels, scores = _validate(y_true, score)
    if max_fpr == 1.0:
        return float(sklearn.metrics.roc_auc_score(labels, scores))
    return float(sklearn.metrics.roc_auc_score(labels, scores, max_fpr=max_fpr))
