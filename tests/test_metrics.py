"""AUC / McClish pAUC against scikit-learn and hand-worked cases; gamma decision threshold."""
import logging

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from asd_lib.backends.threshold import gamma_threshold
from asd_lib.metrics import partial_auc, roc_auc, roc_curve

TOL = 1e-12


def _random_case(seed):
    """Random labels (both classes); continuous scores on odd seeds, tied integers on even."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 400))
    y = rng.permutation(np.r_[0, 1, rng.integers(0, 2, n - 2)])
    if seed % 2:
        score = rng.normal(size=n) + 0.8 * y
    else:
        score = rng.integers(0, 5, n) + (y * rng.integers(0, 2, n))
    return y, score


@pytest.mark.parametrize("seed", range(60))
def test_matches_sklearn_random_and_tied(seed):
    y, score = _random_case(seed)
    assert abs(roc_auc(y, score) - roc_auc_score(y, score)) < TOL
    for max_fpr in (0.1, 0.05, 0.3, 0.75):
        expected = roc_auc_score(y, score, max_fpr=max_fpr)
        assert abs(partial_auc(y, score, max_fpr) - expected) < TOL


def test_default_max_fpr_is_0_1_and_full_range_gives_auc():
    y, score = _random_case(7)
    assert partial_auc(y, score) == partial_auc(y, score, 0.1)
    assert abs(partial_auc(y, score, 1.0) - roc_auc_score(y, score)) < TOL


def test_all_tied_scores_are_chance():
    y = np.array([0, 1, 0, 1, 1, 0, 0])
    score = np.full(7, 3.0)
    # ROC is the diagonal: AUC = 1/2; pa = 0.1^2 / 2 = min, so pAUC = 0.5
    assert roc_auc(y, score) == pytest.approx(0.5, abs=TOL)
    assert partial_auc(y, score) == pytest.approx(0.5, abs=TOL)
    assert abs(partial_auc(y, score) - roc_auc_score(y, score, max_fpr=0.1)) < TOL


def test_perfect_and_inverted():
    y = np.array([0, 0, 0, 1, 1])
    good = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert roc_auc(y, good) == 1.0
    assert partial_auc(y, good) == pytest.approx(1.0, abs=TOL)
    # inverted: tpr stays 0 on [0, 0.1], pa = 0 -> 0.5 * (1 - 0.005 / 0.095) = 9/19
    assert roc_auc(y, -good) == 0.0
    assert partial_auc(y, -good) == pytest.approx(9 / 19, abs=TOL)
    assert abs(partial_auc(y, -good) - roc_auc_score(y, -good, max_fpr=0.1)) < TOL


def test_hand_worked_two_normals_two_anomalies():
    y = [0, 0, 1, 1]
    score = [0.1, 0.4, 0.35, 0.8]
    # pairs (anomaly > normal): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3/4
    assert roc_auc(y, score) == 0.75
    # ROC: (0,0) (0,.5) (.5,.5) (.5,1) (1,1); tpr(0.1) = .5, pa = 0.05
    # pAUC = 0.5 * (1 + (0.05 - 0.005) / (0.1 - 0.005)) = 14/19
    assert partial_auc(y, score) == pytest.approx(14 / 19, abs=TOL)
    fpr, tpr = roc_curve(y, score)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])


def test_hand_worked_tie_between_classes():
    y = [0, 1, 0, 1]
    score = [1, 1, 0, 2]
    # pairs: (1 vs 1) tie 1/2, (1 vs 0) 1, (2 vs 1) 1, (2 vs 0) 1 -> 3.5/4
    assert roc_auc(y, score) == 0.875
    # ROC: (0,0) (0,.5) (.5,1) (1,1); tpr(0.1) = .5 + .5 * .1/.5 = .6
    # pa = 0.1 * (.5 + .6) / 2 = 0.055; pAUC = 0.5 * (1 + 0.05 / 0.095) = 29/38
    assert partial_auc(y, score) == pytest.approx(29 / 38, abs=TOL)


def test_max_fpr_on_a_roc_vertex():
    y = np.r_[np.zeros(10), 1, 1]
    score = np.r_[np.arange(10.0), 8.5, 10.0]
    # 10 beats all 10 normals, 8.5 beats 9 -> 19/20; ROC hits (0.1, 0.5) then (0.1, 1):
    # pa = 0.1 * 0.5 = 0.05 -> pAUC = 14/19
    assert roc_auc(y, score) == pytest.approx(0.95, abs=TOL)
    assert partial_auc(y, score) == pytest.approx(14 / 19, abs=TOL)
    assert abs(partial_auc(y, score) - roc_auc_score(y, score, max_fpr=0.1)) < TOL


@pytest.mark.parametrize(
    "y, score, message",
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "both classes"),
        ([0, 0], [0.1, 0.2], "both classes"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "0 \\(normal\\) and 1"),
        ([0, 1], [0.1, 0.2, 0.3], "equal length"),
        ([0, 1], [0.1, np.nan], "NaN"),
    ],
)
def test_bad_input_raises(y, score, message):
    with pytest.raises(ValueError, match=message):
        roc_auc(y, score)
    with pytest.raises(ValueError, match=message):
        partial_auc(y, score)


@pytest.mark.parametrize("max_fpr", [0.0, -0.1, 1.5])
def test_bad_max_fpr(max_fpr):
    with pytest.raises(ValueError, match="max_fpr"):
        partial_auc([0, 1], [0.0, 1.0], max_fpr)


# ------------------------------------------------------------------ gamma threshold


def _gamma_sample():
    return scipy.stats.gamma.rvs(2.0, loc=1.0, scale=0.5, size=3000, random_state=0)


def test_gamma_threshold_equals_scipy_fit_and_ppf():
    sample = _gamma_sample()
    shape, loc, scale = scipy.stats.gamma.fit(sample)
    for q in (0.9, 0.5):
        expected = scipy.stats.gamma.ppf(q, shape, loc=loc, scale=scale)
        assert gamma_threshold(sample, q) == pytest.approx(expected, rel=1e-12)
    # and the fit recovers the generating distribution's 90th percentile (about 2.945)
    true_q90 = scipy.stats.gamma.ppf(0.9, 2.0, loc=1.0, scale=0.5)
    assert gamma_threshold(sample) == pytest.approx(true_q90, rel=0.02)


def test_gamma_threshold_negative_scores_shift_with_the_data():
    sample = _gamma_sample()
    shifted = gamma_threshold(sample - 100.0)
    assert shifted < 0
    assert shifted == pytest.approx(gamma_threshold(sample) - 100.0, abs=1e-3)


def test_gamma_threshold_constant_scores_return_the_value():
    assert gamma_threshold(np.full(20, -3.5)) == -3.5


def test_gamma_threshold_outside_the_scores_falls_back_to_empirical(monkeypatch, caplog):
    """A fit whose 0.9 quantile lies above every score it was fitted to (scipy's fit of
    few scores with a long tail can do that) gives way to the empirical quantile."""
    monkeypatch.setattr(scipy.stats.gamma, "fit", lambda data: (0.1, 0.0, 50.0))
    sample = np.arange(11.0)
    with caplog.at_level(logging.WARNING):
        assert gamma_threshold(sample, 0.9) == pytest.approx(9.0)
    assert "outside the 11 scores' range [0, 10]" in caplog.text


def test_gamma_threshold_falls_back_to_empirical_quantile(monkeypatch, caplog):
    def failing_fit(data):
        raise scipy.stats.FitError("forced")

    monkeypatch.setattr(scipy.stats.gamma, "fit", failing_fit)
    sample = np.arange(11.0)
    with caplog.at_level(logging.WARNING):
        assert gamma_threshold(sample, 0.9) == pytest.approx(9.0)
    assert "empirical" in caplog.text and "forced" in caplog.text


@pytest.mark.parametrize(
    "scores, percentile, message",
    [
        ([1.0], 0.9, "at least 2"),
        ([1.0, np.inf], 0.9, "NaN or infinite"),
        ([1.0, 2.0], 1.0, "percentile"),
        ([1.0, 2.0], 0.0, "percentile"),
    ],
)
def test_gamma_threshold_bad_input(scores, percentile, message):
    with pytest.raises(ValueError, match=message):
        gamma_threshold(scores, percentile)
