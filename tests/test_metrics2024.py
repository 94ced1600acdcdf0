"""DCASE 2024 metrics: hand-worked AUC-s / AUC-t / pAUC, the epsilon floor, P/R/F1, the
jackknife ci95, and every number against scikit-learn / scipy on random data."""
import sys
import warnings

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import confusion_matrix, roc_auc_score

from asd_lib.metrics.common import EPS, decision_metrics, floored_hmean
from asd_lib.metrics.domain_shift import (
    DomainShiftEvaluator,
    SectionClips,
    format_markdown,
    format_result_csv,
    jackknife_ci95,
    official_csv_name,
    section_score,
)

evaluate = DomainShiftEvaluator("dcase2024", "DCASE 2024 Task 2").evaluate

TOL = 1e-12


def _clips(y_true, domain, score, decision):
    return SectionClips(np.array(y_true), np.array(domain), np.array(score, dtype=float),
                        np.array(decision))


# One section, domain 0 = source, 1 = target:
#   source normal 0.1 0.2 (decisions 0 1), target normal 0.6 0.9 (0 1),
#   source anomaly 0.5 (1), target anomaly 0.7 (0)
HAND = _clips(
    y_true=[0, 0, 0, 0, 1, 1],
    domain=[0, 0, 1, 1, 0, 1],
    score=[0.1, 0.2, 0.6, 0.9, 0.5, 0.7],
    decision=[0, 1, 0, 1, 1, 0],
)


def test_official_csv_names():
    assert official_csv_name("anomaly_score", "fan", "section_00") == (
        "anomaly_score_fan_section_00_test.csv")
    assert official_csv_name("decision_result", "3DPrinter", "section_00") == (
        "decision_result_3DPrinter_section_00_test.csv")


def test_hand_worked_domain_selection():
    row = section_score("ToyCar", "section_00", HAND)
    # AUC-s: normals {.1, .2} (source) vs ALL anomalies {.5, .7}: 4 of 4 pairs -> 1
    assert row.source.auc == 1.0
    # AUC-t: normals {.6, .9} (target) vs ALL anomalies {.5, .7}: only .7 > .6 -> 1/4
    # (a target-only AUC, as in 2021, would be .7 vs {.6, .9} = 1/2: not what 2024 does)
    assert row.target.auc == pytest.approx(0.25, abs=TOL)
    # AUC (all): .5 beats .1 .2; .7 beats .1 .2 .6 -> 5/8
    assert row.auc_all == pytest.approx(0.625, abs=TOL)
    # pAUC over all 6 clips: the top score .9 is normal, so tpr = 0 for fpr < 1/4;
    # pa = 0 on [0, .1] -> 0.5 * (1 + (0 - .005) / .095) = 9/19
    assert row.pauc == pytest.approx(9 / 19, abs=TOL)
    # hmean of (1, 1/4, 9/19) = 3 / (1 + 4 + 19/9) = 27/64
    assert row.hmean == pytest.approx(27 / 64, abs=TOL)
    # source decisions: normals 0 1, anomaly 1 -> tp 1 fp 1 fn 0: P 1/2, R 1, F1 2/3
    assert (row.source.precision, row.source.recall) == (0.5, 1.0)
    assert row.source.f1 == pytest.approx(2 / 3, abs=TOL)
    # target decisions: normals 0 1, anomaly 0 -> tp 0 fp 1 fn 1: P = R = F1 = 0
    assert (row.target.precision, row.target.recall, row.target.f1) == (0.0, 0.0, 0.0)
    assert (row.source.n_normal, row.source.n_anomaly) == (2, 1)
    assert (row.target.n_normal, row.target.n_anomaly) == (2, 1)
    for got, mask in ((row.source.auc, [1, 1, 0, 0, 1, 1]), (row.target.auc, [0, 0, 1, 1, 1, 1])):
        mask = np.array(mask, dtype=bool)
        assert got == pytest.approx(roc_auc_score(HAND.y_true[mask], HAND.score[mask]), abs=TOL)


def test_epsilon_floor_in_the_harmonic_mean():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning either
        assert floored_hmean([0.0, 0.5]) == pytest.approx(2 / (1 / EPS + 2), rel=1e-12)
        # AUC-t = 0: every target normal scores above every anomaly
        clips = _clips([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 0, 1],
                       [0.1, 0.2, 0.8, 0.9, 0.5, 0.6], [0, 0, 0, 0, 0, 0])
        result = evaluate({("fan", "section_00"): clips})
    row = result.sections[0]
    assert row.target.auc == 0.0 and row.source.auc == 1.0
    # pAUC: the two top scores are normal (fpr 1/2 before any anomaly) -> 9/19
    assert row.pauc == pytest.approx(9 / 19, abs=TOL)
    expected = 3 / (1 + 1 / EPS + 19 / 9)
    assert EPS == sys.float_info.epsilon
    assert result.official_score == pytest.approx(expected, rel=1e-12)
    assert result.official_score == pytest.approx(
        scipy.stats.hmean(np.maximum([1.0, 0.0, 9 / 19], EPS)), rel=1e-12)
    assert 0 < result.official_score < 4 * EPS
    # no decision is positive: precision, recall and F1 are 0, their hmeans floored
    assert result.overall.hmean.precision == pytest.approx(EPS, rel=1e-12)


@pytest.mark.parametrize(
    "y_true, decision, expected",
    [
        ([0, 0, 1, 1], [0, 1, 1, 1], (2 / 3, 1.0, 0.8)),
        ([0, 1, 1, 1], [0, 1, 0, 0], (1.0, 1 / 3, 0.5)),
        ([0, 0, 1], [0, 0, 0], (0.0, 0.0, 0.0)),  # no positive decision: 0 / eps = 0
        ([0, 0, 0], [1, 0, 1], (0.0, 0.0, 0.0)),  # no anomaly in the domain
    ],
)
def test_decision_metrics_hand_worked(y_true, decision, expected):
    assert decision_metrics(y_true, decision) == pytest.approx(expected, abs=TOL)


def test_jackknife_of_the_mean_follows_the_official_formula():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # theta_i = (15 - x_i) / 4, deviations (x_i - 3) / 4 -> sum of squares 10/16;
    # sigma = sqrt(10/16 / (5 * 4)) = sqrt(1/32); half-width t_{.975, 4} * sigma
    expected = scipy.stats.t.ppf(0.975, 4) * np.sqrt(1 / 32)
    assert jackknife_ci95(lambda y, s: float(np.mean(s)), np.zeros(5), x) == pytest.approx(
        expected, rel=1e-12)


def test_a_domain_without_normal_clips_names_the_section():
    clips = _clips([0, 0, 1, 1], [0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"fan section_00 AUC \(target\): .*both classes"):
        section_score("fan", "section_00", clips)


# ------------------------------------------------------- random data vs scikit-learn


def _reference(sections):
    """The evaluator's computations with scikit-learn and scipy, written out directly."""
    rows = {}
    for key in sorted(sections):
        c = sections[key]
        row = {"AUC (all)": roc_auc_score(c.y_true, c.score),
               "pAUC": roc_auc_score(c.y_true, c.score, max_fpr=0.1)}
        for index, domain in enumerate(("source", "target")):
            sel = (c.domain == index) | (c.y_true == 1)
            row[f"AUC ({domain})"] = roc_auc_score(c.y_true[sel], c.score[sel])
            in_domain = c.domain == index
            tn, fp, fn, tp = confusion_matrix(c.y_true[in_domain], c.decision[in_domain],
                                              labels=[0, 1]).ravel()
            p = tp / np.maximum(tp + fp, sys.float_info.epsilon)
            r = tp / np.maximum(tp + fn, sys.float_info.epsilon)
            row[f"precision ({domain})"], row[f"recall ({domain})"] = p, r
            row[f"F1 ({domain})"] = 2.0 * p * r / np.maximum(p + r, sys.float_info.epsilon)
        rows[key] = row
    return rows


def _reference_means(rows):
    names = [("AUC (source)", "AUC (target)"), ("pAUC", "pAUC"),
             ("precision (source)", "precision (target)"),
             ("recall (source)", "recall (target)"), ("F1 (source)", "F1 (target)")]
    table = np.array([[r[s] for r in rows] + [r[t] for r in rows] for s, t in names])
    n = len(rows)

    def hmean(x):
        return scipy.stats.hmean(np.maximum(x, sys.float_info.epsilon), axis=1)

    return (np.mean(table, axis=1), hmean(table), hmean(table[:, :n]), hmean(table[:, n:]))


def _reference_ci95(y, s, fn):
    n = len(y)
    thetas = np.array([fn(np.delete(y, i), np.delete(s, i)) for i in range(n)])
    sigma = np.sqrt(np.sum((thetas - thetas.mean()) ** 2) / (n * (n - 1)))
    return abs(scipy.stats.t.ppf(0.025, n - 1)) * sigma


def _random_sections(seed):
    rng = np.random.default_rng(seed)
    sections = {}
    for machine in ("ToyCar", "bearing", "fan")[: 1 + seed % 3]:
        for section in ("section_00", "section_01")[: 1 + seed % 2]:
            n = int(rng.integers(8, 40))
            y, domain = rng.integers(0, 2, n), rng.integers(0, 2, n)
            y[:4], domain[:4] = [0, 1, 0, 1], [0, 0, 1, 1]  # every domain has both classes
            if seed % 2:
                score = rng.normal(size=n) + 0.7 * y
            else:
                score = rng.integers(0, 4, n).astype(float)  # ties
            sections[(machine, section)] = SectionClips(y, domain, score,
                                                        (rng.random(n) < 0.5).astype(int))
    return sections


@pytest.mark.parametrize("seed", range(6))
def test_every_number_equals_sklearn_on_random_data(seed):
    sections = _random_sections(seed)
    result = evaluate(sections)
    reference = _reference(sections)
    assert [(r.machine, r.section) for r in result.sections] == sorted(sections)
    for row in result.sections:
        ref = reference[(row.machine, row.section)]
        got = {"AUC (all)": row.auc_all, "pAUC": row.pauc}
        for domain in ("source", "target"):
            d = getattr(row, domain)
            got.update({f"AUC ({domain})": d.auc, f"precision ({domain})": d.precision,
                        f"recall ({domain})": d.recall, f"F1 ({domain})": d.f1})
        assert got == pytest.approx(ref, abs=TOL)
    for machine, summary in result.machines:
        ref_rows = [reference[k] for k in sorted(sections) if k[0] == machine]
        for got, ref in zip((summary.amean, summary.hmean, summary.hmean_source,
                             summary.hmean_target), _reference_means(ref_rows)):
            np.testing.assert_allclose(got, ref, rtol=0, atol=TOL)
    all_rows = [reference[k] for k in sorted(sections)]
    for got, ref in zip((result.overall.amean, result.overall.hmean,
                         result.overall.hmean_source, result.overall.hmean_target),
                        _reference_means(all_rows)):
        np.testing.assert_allclose(got, ref, rtol=0, atol=TOL)
    values = ([r["AUC (source)"] for r in all_rows] + [r["AUC (target)"] for r in all_rows]
              + [r["pAUC"] for r in all_rows])
    assert result.official_score == pytest.approx(
        scipy.stats.hmean(np.maximum(values, sys.float_info.epsilon)), abs=TOL)
    y = np.concatenate([sections[k].y_true for k in sorted(sections)])
    s = np.concatenate([sections[k].score for k in sorted(sections)])
    ci95 = np.mean([_reference_ci95(y, s, roc_auc_score),
                    _reference_ci95(y, s, lambda a, b: roc_auc_score(a, b, max_fpr=0.1))])
    assert result.official_score_ci95 == pytest.approx(ci95, rel=1e-9, abs=TOL)


def test_several_sections_get_one_row_each():
    sections = _random_sections(1)  # ToyCar and bearing, sections 00 and 01
    result = evaluate(sections)
    markdown = format_markdown(result)
    for machine, section in sections:
        assert f"| {machine} {section} | " in markdown
    lines = format_result_csv(result).splitlines()
    block = lines[lines.index("ToyCar"):]
    assert [line.split(",")[0] for line in block[2:4]] == ["00", "01"]
