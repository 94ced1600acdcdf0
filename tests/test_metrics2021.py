"""DCASE 2021 metrics: hand-worked AUC / pAUC per section and domain over that domain's
clips, the official score, result.csv in the 2021 evaluator's layout, the per-domain file
names, every number against scikit-learn / scipy on random data, and the per-type means
of the evaluator README's example."""
import sys

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import confusion_matrix, roc_auc_score

from asd_lib.bin.score import main as score_main
from asd_lib.metrics.dcase2021 import (
    DomainClips,
    DomainRow,
    evaluate,
    format_result_csv,
    official_csv_name,
    summarise,
)

TOL = 1e-12


def _clips(normal, anomaly, decision_normal, decision_anomaly):
    return DomainClips(np.array([0] * len(normal) + [1] * len(anomaly)),
                       np.array(normal + anomaly, dtype=float),
                       np.array(decision_normal + decision_anomaly))


# fan section_00, over each domain's own clips:
#   source: normal .1 .4, anomaly .3 .8 -> AUC 3/4 (.3 < .4); top clip anomalous, the
#           next normal: tpr 1/2 on fpr [0, 1/2] -> pa = .05 on [0, .1]
#           -> pAUC = .5 (1 + (.05 - .005) / .095) = 14/19;
#           decisions normal 0 1, anomaly 0 1 -> tp 1 fp 1 fn 1: P = R = F1 = 1/2
#   target: normal .2 .9, anomaly .5 .6 -> AUC 1/2; top clip normal -> pa 0 -> pAUC 9/19;
#           decisions normal 0 0, anomaly 1 1 -> P = R = F1 = 1
#   (the 2022-2025 AUC (target) would pool all four anomalies against the target normals:
#    .3 .8 .5 .6 vs .2 .9 -> 4/8, and AUC (source) 6/8: not what 2021 computes)
# Official score: hmean(3/4, 14/19, 1/2, 9/19) = 4 / (4/3 + 19/14 + 2 + 19/9) = 504/857.
HAND = {
    ("fan", "section_00", "source"): _clips([0.1, 0.4], [0.3, 0.8], [0, 1], [0, 1]),
    ("fan", "section_00", "target"): _clips([0.2, 0.9], [0.5, 0.6], [0, 0], [1, 1]),
}
OVERALL = " over all machine types, sections, and domains"
# Means over the two rows: AUC (3/4 + 1/2) / 2 = .625, hmean 2 / (4/3 + 2) = .6 (scipy's
# hmean gives 0.6000000000000001, as the evaluator's does); pAUC (14/19 + 9/19) / 2 = 23/38,
# hmean 2 / (19/14 + 19/9) = 252/437; P = R = F1 mean .75, hmean 2 / (2 + 1) = 2/3.
MEANS = """\
{q}arithmetic mean{s}{q},,0.625,0.6052631578947368,0.75,0.75,0.75
{q}harmonic mean{s}{q},,0.6000000000000001,0.5766590389016019,0.6666666666666666,0.6666666666666666,0.6666666666666666
{q}source harmonic mean{s}{q},,0.75,0.7368421052631579,0.5,0.5,0.5
{q}target harmonic mean{s}{q},,0.5,0.47368421052631576,1.0,1.0,1.0
"""
EXPECTED_RESULT_CSV = (
    "fan\n"
    "section,domain,AUC,pAUC,precision,recall,F1 score\n"
    "00,source,0.75,0.7368421052631579,0.5,0.5,0.5\n"
    "00,target,0.5,0.47368421052631576,1.0,1.0,1.0\n"
    + MEANS.format(q="", s="") + "\n"
    ",,AUC,pAUC,precision,recall,F1 score\n"
    + MEANS.format(q='"', s=OVERALL) + "\n"
    "official score,,0.588098016336056\n\n"  # 504/857
)


def test_hand_worked_rows_and_official_score():
    result = evaluate(HAND)
    source, target = result.rows
    assert (source.domain, target.domain) == ("source", "target")
    assert source.auc == pytest.approx(3 / 4, abs=TOL)
    assert source.pauc == pytest.approx(14 / 19, abs=TOL)
    assert (source.precision, source.recall, source.f1) == pytest.approx((0.5, 0.5, 0.5))
    assert target.auc == pytest.approx(1 / 2, abs=TOL)
    assert target.pauc == pytest.approx(9 / 19, abs=TOL)
    assert (target.precision, target.recall, target.f1) == pytest.approx((1.0, 1.0, 1.0))
    assert (source.n_normal, source.n_anomaly) == (2, 2)
    assert result.official_score == pytest.approx(504 / 857, rel=1e-12)
    summary = dict(result.machines)["fan"]
    assert summary.hmean.auc == pytest.approx(0.6, abs=TOL)  # 2 / (4/3 + 2)
    assert summary.hmean.pauc == pytest.approx(252 / 437, abs=TOL)  # 2 / (19/14 + 19/9)
    assert summary.hmean_source.auc == pytest.approx(0.75) and summary.hmean_target.auc == 0.5


def test_result_csv_is_the_evaluators_layout():
    assert format_result_csv(evaluate(HAND)) == EXPECTED_RESULT_CSV


def test_rows_are_domain_major_and_types_sorted():
    units = {}
    for machine in ("fan", "ToyCar"):
        for section in ("section_01", "section_00"):
            for domain in ("target", "source"):
                units[(machine, section, domain)] = HAND[("fan", "section_00", domain)]
    result = evaluate(units)
    assert [(r.machine, r.section, r.domain) for r in result.rows][:4] == [
        ("ToyCar", "section_00", "source"), ("ToyCar", "section_01", "source"),
        ("ToyCar", "section_00", "target"), ("ToyCar", "section_01", "target")]
    lines = format_result_csv(result).splitlines()
    assert lines[:6] == ["ToyCar", "section,domain,AUC,pAUC,precision,recall,F1 score",
                         "00,source,0.75,0.7368421052631579,0.5,0.5,0.5",
                         "01,source,0.75,0.7368421052631579,0.5,0.5,0.5",
                         "00,target,0.5,0.47368421052631576,1.0,1.0,1.0",
                         "01,target,0.5,0.47368421052631576,1.0,1.0,1.0"]
    assert lines.count("fan") == 1 and lines[-2].startswith("official score,,")
    assert float(lines[-2].split(",")[-1]) == pytest.approx(504 / 857, rel=1e-12)


def test_score_file_names_carry_the_domain():
    assert official_csv_name("anomaly_score", "fan", "section_00",
                             "section_00_source_test_normal_0003.wav") == (
        "anomaly_score_fan_section_00_source_test.csv")
    assert official_csv_name("decision_result", "ToyCar", "section_03",
                             "section_03_target_test_0012.wav") == (
        "decision_result_ToyCar_section_03_target_test.csv")
    with pytest.raises(ValueError, match="one per domain"):
        official_csv_name("anomaly_score", "fan", "section_03", "section_03_0000.wav")


def _write_set(tmp_path, files):
    """A data dir (dev names) and the official CSVs of ``HAND``."""
    data, scores = tmp_path / "data", tmp_path / "scores"
    data.mkdir(parents=True)
    scores.mkdir(parents=True)
    rows = []
    for (machine, section, domain), clips in HAND.items():
        for k, (y, s, d) in enumerate(zip(clips.y_true, clips.score, clips.decision)):
            label = "anomaly" if y else "normal"
            name = f"{section}_{domain}_test_{label}_{k:04d}.wav"
            rows.append((f"{machine}-{name[:-4]}", name, machine, section, domain, label, s, d))
    for file, column in (("wav.scp", 1), ("utt2machine", 2), ("utt2section", 3),
                         ("utt2domain", 4), ("utt2label", 5)):
        prefix = "/corpus/" if file == "wav.scp" else ""
        (data / file).write_text("".join(f"{r[0]} {prefix}{r[column]}\n" for r in sorted(rows)))
    for kind, column in (("anomaly_score", 6), ("decision_result", 7)):
        for domain in files:
            mine = [r for r in rows if r[4] == domain]
            path = scores / official_csv_name(kind, "fan", "section_00", mine[0][1])
            path.write_text("".join(f"{r[1]},{r[column]}\n" for r in mine))
    return data, scores


def test_score_command_reads_one_file_per_domain(tmp_path, capsys):
    data, scores = _write_set(tmp_path, ("source", "target"))
    score_main(["--dataset", "dcase2021", "--data_dir", str(data), "--score_dir", str(scores),
                "--verbose", "0"])
    assert (scores / "result.csv").read_text() == EXPECTED_RESULT_CSV
    assert "Official score (harmonic mean of every AUC and pAUC): 58.81." in capsys.readouterr().out
    data, scores = _write_set(tmp_path / "b", ("source",))
    with pytest.raises(ValueError, match=r"anomaly_score_fan_section_00_target_test\.csv is missing"):
        score_main(["--dataset", "dcase2021", "--data_dir", str(data), "--score_dir", str(scores)])


# ------------------------------------------------------- random data vs scikit-learn


def _reference(units):
    """The 2021 evaluator's computations with scikit-learn and scipy, written out directly."""
    eps = sys.float_info.epsilon
    rows = {}
    for key, c in units.items():
        tn, fp, fn, tp = confusion_matrix(c.y_true, c.decision, labels=[0, 1]).ravel()
        p, r = tp / np.maximum(tp + fp, eps), tp / np.maximum(tp + fn, eps)
        rows[key] = [roc_auc_score(c.y_true, c.score),
                     roc_auc_score(c.y_true, c.score, max_fpr=0.1),
                     p, r, 2.0 * p * r / np.maximum(p + r, eps)]
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_every_number_equals_sklearn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    units = {}
    for machine in ("ToyCar", "fan", "valve")[: 1 + seed % 3]:
        for section in ("section_00", "section_01", "section_02"):
            for domain in ("source", "target"):
                n = int(rng.integers(6, 30))
                y = rng.integers(0, 2, n)
                y[:2] = [0, 1]
                score = (rng.normal(size=n) + 0.8 * y if seed % 2
                         else rng.integers(0, 4, n).astype(float))  # ties
                units[(machine, section, domain)] = DomainClips(
                    y, score, (rng.random(n) < 0.5).astype(int))
    result = evaluate(units)
    reference = _reference(units)
    for row in result.rows:
        assert list(row.values) == pytest.approx(
            reference[(row.machine, row.section, row.domain)], abs=TOL)
    table = np.array([reference[(r.machine, r.section, r.domain)] for r in result.rows])
    source = np.array([r.domain == "source" for r in result.rows])

    def hmean(x):
        return scipy.stats.hmean(np.maximum(x, sys.float_info.epsilon), axis=0)

    assert list(result.overall.amean) == pytest.approx(np.mean(table, axis=0), abs=TOL)
    assert list(result.overall.hmean) == pytest.approx(hmean(table), abs=TOL)
    assert list(result.overall.hmean_source) == pytest.approx(hmean(table[source]), abs=TOL)
    assert list(result.overall.hmean_target) == pytest.approx(hmean(table[~source]), abs=TOL)
    assert result.official_score == pytest.approx(
        scipy.stats.hmean(np.maximum(table[:, :2], sys.float_info.epsilon), axis=None), abs=TOL)


# y-kawagu/dcase2021_task2_evaluator README, its example result (fan; the README predates
# the source / target rows): rows as (section, domain, AUC, pAUC, P, R, F1).
EV21_FAN = [
    ("03", "source", 0.6669, 0.5273684210526316, 0.6458333333333334, 0.31, 0.41891891891891897),
    ("04", "source", 0.7014, 0.52, 0.6097560975609756, 0.25, 0.3546099290780142),
    ("05", "source", 0.5834, 0.5352631578947369, 0.6041666666666666, 0.29, 0.3918918918918919),
    ("03", "target", 0.5229, 0.49315789473684213, 0.44680851063829785, 0.21, 0.2857142857142857),
    ("04", "target", 0.5357, 0.5063157894736842, 0.5925925925925926, 0.32, 0.41558441558441556),
    ("05", "target", 0.448452380952381, 0.4805764411027569, 0.25, 0.2833333333333333, 0.265625),
]
EV21_FAN_MEANS = (
    (0.5764587301587302, 0.5104469507101085, 0.524859533465311, 0.27722222222222226,
     0.35539074019792105),
    (0.5634700058286667, 0.5097204125946903, 0.46988231547812126, 0.27161121188342247,
     0.3442384874315228),
)


def test_type_means_equal_the_evaluator_readme_example():
    rows = [DomainRow("fan", f"section_{s}", d, *values, 0, 0) for s, d, *values in EV21_FAN]
    summary = summarise(rows)
    assert list(summary.amean) == pytest.approx(EV21_FAN_MEANS[0], rel=1e-12)
    assert list(summary.hmean) == pytest.approx(EV21_FAN_MEANS[1], rel=1e-12)
    assert list(summary.hmean_source) == pytest.approx(
        scipy.stats.hmean([r[2:] for r in EV21_FAN[:3]], axis=0), rel=1e-12)
