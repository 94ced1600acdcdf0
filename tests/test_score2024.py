"""End-to-end DCASE 2024 scoring: fabricated data dir + official CSVs -> result.*"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from asd_lib.bin.score import main

# machine -> clips (domain, label, score, decision). Worked by hand (AUC-d: normals of
# domain d against ALL anomalies; pAUC over all clips, max_fpr 0.1):
#   ToyCar  AUC (all) 5/8, AUC-s 1, AUC-t 1/4 (.7 > .6 only), pAUC 9/19 (top clip normal)
#           source tp 1 fp 1 fn 0 -> P 1/2 R 1 F1 2/3; target tp 0 fp 1 fn 1 -> 0 0 0
#   fan     AUC (all) 7/8, AUC-s 1, AUC-t 3/4 (.35 < .4), pAUC 14/19 (tpr 1/2 at fpr 0)
#           source tp 1 -> P R F1 1; target tp 1 fp 1 fn 0 -> P 1/2 R 1 F1 2/3
CASES = {
    "ToyCar": [
        ("source", "normal", 0.1, 0), ("source", "normal", 0.2, 1),
        ("target", "normal", 0.6, 0), ("target", "normal", 0.9, 1),
        ("source", "anomaly", 0.5, 1), ("target", "anomaly", 0.7, 0),
    ],
    "fan": [
        ("source", "normal", 0.1, 0), ("source", "normal", 0.3, 0),
        ("target", "normal", 0.2, 0), ("target", "normal", 0.4, 1),
        ("source", "anomaly", 0.8, 1), ("target", "anomaly", 0.35, 1),
    ],
}
# Mean rows: each metric listed source then target (pAUC twice); harmonic means floor
# every value at eps = 2.220446049250313e-16:
#   ToyCar harmonic mean AUC 2 / (1 + 4) = .4; precision 2 / (2 + 1/eps) (about 2 eps)
#   fan    harmonic mean AUC 2 / (1 + 4/3) = 6/7; precision 2 / (1 + 2) = 2/3; F1 .8
#   overall AUC mean (1 + 1 + 1/4 + 3/4) / 4 = .75, hmean 4 / (1 + 1 + 4 + 4/3) = 6/11;
#   pAUC mean (9/19 + 14/19) / 2 = 23/38, hmean 2 / (19/9 + 19/14) = 252/437;
#   official score 6 / (1 + 1 + 4 + 4/3 + 19/9 + 19/14) = 756/1361
OVERALL = " over all machine types, sections, and domains"
HEADER = ("section,AUC (all),AUC (source),AUC (target),pAUC,precision (source),"
          "precision (target),recall (source),recall (target),F1 score (source),"
          "F1 score (target)")
EXPECTED_RESULT_CSV = f"""\
ToyCar
{HEADER}
00,0.625,1.0,0.25,0.47368421052631576,0.5,0.0,1.0,0.0,0.6666666666666666,0.0
,,AUC,pAUC,precision,recall,F1 score
arithmetic mean,,0.625,0.47368421052631576,0.25,0.5,0.3333333333333333
harmonic mean,,0.4,0.47368421052631576,4.440892098500624e-16,4.440892098500625e-16,4.440892098500624e-16
source harmonic mean,,1.0,0.47368421052631576,0.5,1.0,0.6666666666666666
target harmonic mean,,0.25,0.47368421052631576,2.220446049250313e-16,2.220446049250313e-16,2.220446049250313e-16

fan
{HEADER}
00,0.875,1.0,0.75,0.7368421052631579,1.0,0.5,1.0,1.0,1.0,0.6666666666666666
,,AUC,pAUC,precision,recall,F1 score
arithmetic mean,,0.875,0.7368421052631579,0.75,1.0,0.8333333333333333
harmonic mean,,0.8571428571428572,0.7368421052631579,0.6666666666666666,1.0,0.8
source harmonic mean,,1.0,0.7368421052631579,1.0,1.0,1.0
target harmonic mean,,0.75,0.7368421052631579,0.5,1.0,0.6666666666666666

,,AUC,pAUC,precision,recall,F1 score
"arithmetic mean{OVERALL}",,0.75,0.6052631578947368,0.5,0.75,0.5833333333333333
"harmonic mean{OVERALL}",,0.5454545454545455,0.5766590389016019,8.881784197001242e-16,8.881784197001246e-16,8.881784197001244e-16
"source harmonic mean{OVERALL}",,1.0,0.5766590389016019,0.6666666666666666,1.0,0.8
"target harmonic mean{OVERALL}",,0.375,0.5766590389016019,4.440892098500624e-16,4.440892098500625e-16,4.440892098500624e-16

official score,,0.5554739162380602
official score ci95,,CI95

"""


def _write_kv(path, rows):
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(rows)))


def _make_set(tmp_path, style="dev", with_labels=True, with_domains=True):
    """A data dir and a score dir. ``dev``: wav.scp names are the full official names;
    ``eval``: they are ``section_00_NNNN.wav``, numbered in another order than the full
    names (so that matching by position after sorting would pair the wrong clips)."""
    data_dir, score_dir = tmp_path / "dump" / "test", tmp_path / "exp" / "test"
    data_dir.mkdir(parents=True)
    score_dir.mkdir(parents=True)
    tables = {name: [] for name in ("wav.scp", "utt2machine", "utt2section", "utt2domain",
                                    "utt2label")}
    rng = np.random.default_rng(0)
    for machine, clips in CASES.items():
        short_index = rng.permutation(len(clips)) + 1
        scores, decisions = [], []
        for index, (domain, label, score, decision) in enumerate(clips):
            full = f"section_00_{domain}_test_{label}_{index:04d}_a_1"
            name = f"{full}.wav" if style == "dev" else f"section_00_{short_index[index]:04d}.wav"
            utt = f"{machine}-{full}"
            tables["wav.scp"].append((utt, f"/corpus/{style}_data/{machine}/test/{name}"))
            tables["utt2machine"].append((utt, machine))
            tables["utt2section"].append((utt, "section_00"))
            tables["utt2domain"].append((utt, domain))
            tables["utt2label"].append((utt, label))
            scores.append(f"{name},{score!r}\n")
            decisions.append(f"{name},{decision}\n")
        (score_dir / f"anomaly_score_{machine}_section_00_test.csv").write_text(
            "".join(rng.permutation(scores)))
        (score_dir / f"decision_result_{machine}_section_00_test.csv").write_text(
            "".join(rng.permutation(decisions)))
    for name, rows in tables.items():
        if (name != "utt2label" or with_labels) and (name != "utt2domain" or with_domains):
            _write_kv(data_dir / name, rows)
    return data_dir, score_dir


def _official_ci95():
    """The evaluator's jackknife on all clips pooled (machine types in sorted order)."""
    y = np.array([c[1] == "anomaly" for m in sorted(CASES) for c in CASES[m]], dtype=int)
    s = np.array([c[2] for m in sorted(CASES) for c in CASES[m]])
    half_widths = []
    for fn in (roc_auc_score, lambda a, b: roc_auc_score(a, b, max_fpr=0.1)):
        thetas = np.array([fn(np.delete(y, i), np.delete(s, i)) for i in range(y.size)])
        sigma = np.sqrt(np.sum((thetas - thetas.mean()) ** 2) / (y.size * (y.size - 1)))
        half_widths.append(abs(scipy.stats.t.ppf(0.025, y.size - 1)) * sigma)
    return float(np.mean(half_widths))


def _run(data_dir, score_dir, *extra):
    main(["--dataset", "dcase2024", "--data_dir", str(data_dir), "--score_dir", str(score_dir),
          *extra])


def _check_result_csv(path):
    lines = path.read_text().split("\n")
    expected = EXPECTED_RESULT_CSV.split("\n")
    assert len(lines) == len(expected)
    for number, (line, want) in enumerate(zip(lines, expected), 1):
        if want == "official score ci95,,CI95":
            assert line.startswith("official score ci95,,")
            assert float(line.split(",")[2]) == pytest.approx(_official_ci95(), rel=1e-9)
        else:
            assert line == want, f"result.csv line {number}"


@pytest.mark.parametrize("style", ["dev", "eval"])
def test_result_files_match_hand_worked_values(tmp_path, capsys, style):
    data_dir, score_dir = _make_set(tmp_path, style)
    _run(data_dir, score_dir)
    _check_result_csv(score_dir / "result.csv")

    result = json.loads((score_dir / "result.json").read_text())
    assert result["dataset"] == "dcase2024" and result["max_fpr"] == 0.1
    assert list(result["machine_types"]) == ["ToyCar", "fan"]
    toycar = result["machine_types"]["ToyCar"]["sections"]["section_00"]
    assert toycar["AUC (target)"] == pytest.approx(0.25, abs=1e-12)
    assert toycar["pAUC"] == pytest.approx(9 / 19, abs=1e-12)
    assert toycar["hmean (AUC (source), AUC (target), pAUC)"] == pytest.approx(27 / 64)
    assert (toycar["n_normal (source)"], toycar["n_anomaly (target)"]) == (2, 1)
    fan = result["machine_types"]["fan"]
    assert fan["sections"]["section_00"]["AUC (all)"] == pytest.approx(7 / 8, abs=1e-12)
    assert fan["harmonic mean"]["AUC"] == pytest.approx(6 / 7, abs=1e-12)
    assert result["overall"]["harmonic mean"]["pAUC"] == pytest.approx(252 / 437, abs=1e-12)
    assert result["official_score"] == pytest.approx(756 / 1361, abs=1e-12)
    assert result["official_score_ci95"] == pytest.approx(_official_ci95(), rel=1e-9)

    markdown = (score_dir / "result.md").read_text()
    assert "McClish-standardised" in markdown and "max_fpr = 0.1" in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert table[1:] == [
        "| ToyCar | 100.00 | 25.00 | 47.37 | 42.19 | 50.00 | 100.00 | 66.67 | 0.00 | 0.00 | 0.00 |",
        "| fan | 100.00 | 75.00 | 73.68 | 81.29 | 100.00 | 100.00 | 100.00 | 50.00 | 100.00 "
        "| 66.67 |",
        "| Arithmetic mean | 100.00 | 50.00 | 60.53 | 61.74 | 75.00 | 100.00 | 83.33 | 25.00 "
        "| 50.00 | 33.33 |",
        "| Harmonic mean | 100.00 | 37.50 | 57.67 | 55.55 | 66.67 | 100.00 | 80.00 | 0.00 "
        "| 0.00 | 0.00 |",
    ]
    assert "Official score (harmonic mean of every AUC-s, AUC-t and pAUC): 55.55" in markdown
    assert markdown in capsys.readouterr().out
    assert not [p for p in os.listdir(score_dir) if p.endswith(".tmp")]


def test_score_count_mismatch_names_the_csv(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    csv_path = score_dir / "anomaly_score_fan_section_00_test.csv"
    csv_path.write_text("".join(csv_path.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(ValueError, match=r"anomaly_score_fan_section_00_test\.csv: 5 rows for 6"):
        _run(data_dir, score_dir)
    assert not (score_dir / "result.csv").exists()


def test_decision_count_mismatch_names_the_csv(tmp_path):
    data_dir, score_dir = _make_set(tmp_path, "eval")
    csv_path = score_dir / "decision_result_ToyCar_section_00_test.csv"
    csv_path.write_text(csv_path.read_text() + "section_00_0099.wav,1\n")
    with pytest.raises(ValueError, match=r"decision_result_ToyCar_section_00_test\.csv: "
                                         r"7 rows for 6 .*section_00_0099"):
        _run(data_dir, score_dir)


def test_missing_decision_file_is_an_error(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    (score_dir / "decision_result_fan_section_00_test.csv").unlink()
    with pytest.raises(ValueError, match=r"decision_result_fan_section_00_test\.csv is missing"):
        _run(data_dir, score_dir)


def test_decision_must_be_0_or_1(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    csv_path = score_dir / "decision_result_fan_section_00_test.csv"
    lines = csv_path.read_text().splitlines(keepends=True)
    csv_path.write_text("".join(lines[:-1]) + lines[-1].split(",")[0] + ",2\n")
    with pytest.raises(ValueError, match=r"decision_result_fan_section_00_test\.csv: .* 0 "
                                         r"\(normal\) or 1"):
        _run(data_dir, score_dir)


def test_missing_utt2label_exits_cleanly(tmp_path, capsys):
    data_dir, score_dir = _make_set(tmp_path, "eval", with_labels=False)
    before = sorted(os.listdir(score_dir))
    _run(data_dir, score_dir)
    assert sorted(os.listdir(score_dir)) == before
    assert "ground truth is absent" in capsys.readouterr().err


def test_labels_without_domains_are_an_error(tmp_path):
    data_dir, score_dir = _make_set(tmp_path, with_domains=False)
    with pytest.raises(ValueError, match="utt2domain is missing"):
        _run(data_dir, score_dir)


def test_a_dcase2020_data_dir_is_refused(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    path = data_dir / "utt2section"
    path.write_text(path.read_text().replace(" section_00\n", " id_00\n"))
    with pytest.raises(ValueError, match="'id_00'.*section_00"):
        _run(data_dir, score_dir)


def test_protocol_is_for_dcase2020_only(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    with pytest.raises(ValueError, match="--protocol pooled: dcase2024 has the protocol\\(s\\) official"):
        _run(data_dir, score_dir, "--protocol", "pooled")


def test_command_line_entry_point(tmp_path):
    data_dir, score_dir = _make_set(tmp_path, "eval")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "asd_lib.bin.score", "--dataset", "dcase2024",
         "--data_dir", str(data_dir), "--score_dir", str(score_dir), "--verbose", "0"],
        capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
        check=True,
    )
    assert "| fan | 100.00 | 75.00 | 73.68 | 81.29 |" in proc.stdout
    _check_result_csv(score_dir / "result.csv")
