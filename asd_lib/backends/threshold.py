"""Decision threshold of the official DCASE Task 2 baselines (2021 onwards).

The baselines fit a three-parameter gamma distribution (shape, location, scale) to the
anomaly scores of the training clips by maximum likelihood, ``scipy.stats.gamma.fit(scores)``
with the location left free, and call a clip anomalous when its score exceeds the fitted
distribution's quantile at ``percentile`` (0.9 by default):
``threshold = scipy.stats.gamma.ppf(percentile, shape, loc=loc, scale=scale)``.

Because the location is fitted, negative scores (negative log-probabilities, negated
cosine similarities) need no shift: the fit is location-equivariant up to optimiser
tolerance. Two cases have no gamma fit, and get this rule:

- all scores equal: the scores are a point mass, so its quantile, the common value, is
  returned (scipy's optimiser would fail on a zero variance);
- the fit raises, gives a non-finite quantile, or gives a quantile outside the range of the
  scores it was fitted to: the empirical quantile ``numpy.quantile(scores, percentile)`` is
  returned and a warning is logged. (Of N scores all fall below their distribution's 0.9
  quantile with probability 0.9^N, 1 % for N = 44: a fitted quantile above every score
  says the gamma fit does not describe them, as happens with few scores and a long tail.
  This check is ours; the baselines have none.)
"""
import logging

import numpy as np
import scipy.stats

logger = logging.getLogger(__name__)


def gamma_threshold(train_scores, percentile: float = 0.9) -> float:
    """Quantile ``percentile`` of a gamma distribution fitted to ``train_scores``."""
    scores = np.asarray(train_scores, dtype=float)
    if scores.ndim != 1 or scores.size < 2:
        raise ValueError(
            f"need a 1-D array of at least 2 training scores, got shape {scores.shape}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("training scores contain NaN or infinite values; fix the backend")
    if not 0.0 < percentile < 1.0:
        raise ValueError(f"percentile must be in (0, 1), got {percentile!r}")
    if scores.min() == scores.max():
        logger.info(
            "all %d training scores equal %g: threshold is that value (no gamma fit)",
            scores.size,
            scores[0],
        )
        return float(scores[0])
    try:
        shape, loc, scale = scipy.stats.gamma.fit(scores)
    except (scipy.stats.FitError, ValueError, FloatingPointError) as err:
        return _empirical_quantile(scores, percentile, f"gamma fit failed ({err})")
    threshold = float(scipy.stats.gamma.ppf(percentile, shape, loc=loc, scale=scale))
    if not np.isfinite(threshold) or not scores.min() <= threshold <= scores.max():
        return _empirical_quantile(
            scores,
            percentile,
            f"gamma fit (shape={shape:g}, loc={loc:g}, scale={scale:g}) gave the quantile "
            f"{threshold:g}, outside the {scores.size} scores' range [{scores.min():g}, "
            f"{scores.max():g}]",
        )
    return threshold


def _empirical_quantile(scores: np.ndarray, percentile: float, reason: str) -> float:
    """Fallback threshold: the empirical quantile, with a warning saying why."""
    empirical = float(np.quantile(scores, percentile))
    logger.warning(
        "%s; using the empirical %g-quantile %g of %d training scores instead",
        reason,
        percentile,
        empirical,
        scores.size,
    )
    return empirical
