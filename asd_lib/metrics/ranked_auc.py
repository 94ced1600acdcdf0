"""ROC AUC and McClish pAUC of many score vectors over one labelling at once.

The bootstrap of :mod:`asd_lib.report.compare` scores a thousand resampled copies of a
test set, each a row of a score matrix whose columns keep their labels, so the areas are
computed for every row from one sort instead of one ``roc_auc_score`` call per row. The
values equal scikit-learn's ``roc_auc_score(y, s)`` and ``roc_auc_score(y, s, max_fpr=p)``
(the functions of :mod:`asd_lib.metrics.auc`) up to rounding, ties included; the tests
check this to 1e-12.

Derivation. Walk the normal clips from the highest score down; the k-th of them
(k = 0 .. n0-1) owns the slice FPR in [k/n0, (k+1)/n0] of the ROC curve. A block of a
normal and b anomalous clips with one score value, with T anomalous clips scoring above
it, is one straight segment of scikit-learn's curve (``roc_curve`` places points only
between distinct scores), so over the slice of the block's i-th normal clip the TPR rises
linearly from (T + b i / a) / n1 to (T + b (i + 1) / a) / n1. The area over the first
w in [0, 1] of that slice is (T w + (b / a)(i w + w^2 / 2)) / (n0 n1). With w = 1 for
every slice the sum is the Mann-Whitney AUC, a tie counting 1/2 (Hanley & McNeil,
Radiology 143(1), 1982); with w = clip(p n0 - k, 0, 1) it is the area over FPR in [0, p]
with the curve interpolated linearly at p, as scikit-learn computes it, which is then
standardised as McClish (Medical Decision Making 9(3), 1989) and scikit-learn do:
``0.5 * (1 + (pa - p^2 / 2) / (p - p^2 / 2))``.
"""
from typing import Tuple

import numpy as np


def _tie_blocks(values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per entry of each row of the sorted ``values``, the first and the last column of the
    run of equal values it belongs to."""
    n = values.shape[1]
    columns = np.arange(n)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = values[:, 1:] != values[:, :-1]
    ends = np.ones(values.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, columns, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, columns, n - 1)[:, ::-1], axis=1)[:, ::-1]
    return first, last


def roc_areas(y_true, scores, max_fpr: float = 0.1) -> Tuple[np.ndarray, np.ndarray]:
    """(AUC, McClish pAUC over FPR in [0, ``max_fpr``]) of every row of ``scores``
    (shape ``(rows, clips)``, or one vector) against ``y_true`` (1 anomaly, 0 normal), as
    two arrays of one value per row (module docstring)."""
    labels = np.asarray(y_true)
    matrix = np.atleast_2d(np.asarray(scores, dtype=float))
    if labels.ndim != 1 or matrix.ndim != 2 or matrix.shape[1] != labels.size:
        raise ValueError(f"scores of shape {np.shape(scores)} do not match the "
                         f"{labels.size} labels of y_true")
    if not np.isin(labels, [0, 1]).all():
        raise ValueError(f"y_true must hold 0 (normal) and 1 (anomaly), got {np.unique(labels)}")
    n1 = int(np.sum(labels == 1))
    n0 = labels.size - n1
    if n0 == 0 or n1 == 0:
        raise ValueError("AUC is undefined unless y_true holds both classes; the test set "
                         "needs both normal and anomalous clips")
    if not 0.0 < max_fpr <= 1.0:
        raise ValueError(f"max_fpr must be in (0, 1], got {max_fpr!r}")
    rows = matrix.shape[0]
    order = np.argsort(matrix, axis=1)
    values = np.take_along_axis(matrix, order, axis=1)
    normal = labels[order] == 0
    first, last = _tie_blocks(values)
    normals_upto_column = np.cumsum(normal, axis=1)  # normal clips at or left of a column
    # every row holds n0 normal clips: their columns, ascending, as a (rows, n0) array
    columns = np.nonzero(normal)[1].reshape(rows, n0)
    start = np.take_along_axis(first, columns, axis=1)
    end = np.take_along_axis(last, columns, axis=1)
    block_normals_upto = np.take_along_axis(normals_upto_column, end, axis=1)
    block_normals_below = np.take_along_axis(normals_upto_column - normal, start, axis=1)
    block_anomalies_upto = end + 1 - block_normals_upto
    above = n1 - block_anomalies_upto  # T
    tied = block_anomalies_upto - (start - block_normals_below)  # b
    block = block_normals_upto - block_normals_below  # a
    normals_upto = np.arange(1, n0 + 1)  # the k-th normal column has k normals up to it
    offset = block_normals_upto - normals_upto  # i: rank in the block, from the top
    position = n0 - normals_upto  # k: rank among all normal clips, from the top
    # w = 1 everywhere: the slices of a block sum to a T + a b / 2, so T + b / 2 per clip
    auc = np.sum(above + tied / 2.0, axis=1) / (n0 * n1)
    width = np.clip(max_fpr * n0 - position, 0.0, 1.0)
    per_slice = above * width + tied / block * (offset * width + width * width / 2.0)
    partial = np.sum(per_slice, axis=1) / (n0 * n1)
    min_area, max_area = max_fpr * max_fpr / 2.0, max_fpr
    pauc = auc if max_fpr == 1.0 else 0.5 * (1.0 + (partial - min_area) / (max_area - min_area))
    return auc, pauc
