"""End-to-end DCASE 2020 scoring: fabricated data dir + official score CSVs -> result.*"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from asd_lib.bin.score import main
from asd_lib.data.datadir import clip_file_name

# (machine, id) -> (normal scores, anomaly scores); AUC / pAUC worked by hand:
#   fan id_00     perfect                     AUC 1       pAUC 1
#   fan id_02     a normal scores highest     AUC 6/8     pAUC 9/19  (tpr 0 on [0, 0.1])
#   fan id_04     ROC (0,.5) (.25,.5) ...     AUC 6.5/8   pAUC 14/19 (pa = 0.05)
#   ToyCar id_01  ties 1-1 and 2-2            AUC 2/6     pAUC 9/19
#   ToyCar id_02  4 normals tied with 1 anom  AUC 6/8     pAUC 3/4   (pa = 0.0525)
CASES = {
    ("fan", "id_00"): ([0.1, 0.2, 0.3, 0.4], [0.5, 0.6]),
    ("fan", "id_02"): ([0.1, 0.2, 0.3, 0.9], [0.5, 0.6]),
    ("fan", "id_04"): ([0.1, 0.2, 0.5, 0.6], [0.5, 0.7]),
    ("ToyCar", "id_01"): ([1.0, 2.0, 3.0], [1.0, 2.0]),
    ("ToyCar", "id_02"): ([0.2, 0.2, 0.2, 0.2], [0.2, 0.9]),
}
HAND = {
    ("fan", "id_00"): (1.0, 1.0),
    ("fan", "id_02"): (0.75, 9 / 19),
    ("fan", "id_04"): (0.8125, 14 / 19),
    ("ToyCar", "id_01"): (1 / 3, 9 / 19),
    ("ToyCar", "id_02"): (0.75, 0.75),
}
# The numbers as scikit-learn's roc_auc_score (the official evaluator) gives them: the
# trapezoidal AUC of ToyCar id_01 is 1/3 plus one unit in the last place.
EXPECTED_RESULT_CSV = """\
ToyCar
id,AUC,pAUC
01,0.33333333333333337,0.47368421052631576
02,0.75,0.75
Average,0.5416666666666667,0.6118421052631579

fan
id,AUC,pAUC
00,1.0,1.0
02,0.75,0.47368421052631576
04,0.8125,0.7368421052631579
Average,0.8541666666666666,0.7368421052631579

"""


def _clips(machine, section):
    """[(utt id, file name, label, score)] of one machine ID; names repeat across types."""
    normal, anomaly = CASES[(machine, section)]
    rows = []
    for label, scores in (("normal", normal), ("anomaly", anomaly)):
        for index, score in enumerate(scores):
            name = f"{label}_{section}_{index:08d}.wav"
            rows.append((f"{machine}-{name[:-4]}", name, label, score))
    return rows


def _write_kv(path, rows):
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(rows)))


def _make_set(tmp_path, with_labels=True):
    data_dir, score_dir = tmp_path / "data" / "dev_test", tmp_path / "exp" / "dev_test"
    data_dir.mkdir(parents=True)
    score_dir.mkdir(parents=True)
    wav, machine_of, section_of, label_of = [], [], [], []
    rng = np.random.default_rng(0)
    for machine, section in CASES:
        clips = _clips(machine, section)
        for utt, name, label, _ in clips:
            wav.append((utt, f"/corpus/dev_data/{machine}/test/{name}"))
            machine_of.append((utt, machine))
            section_of.append((utt, section))
            label_of.append((utt, label))
        csv_rows = [f"{name},{score!r}\n" for _, name, _, score in clips]
        csv_path = score_dir / f"anomaly_score_{machine}_{section}.csv"
        csv_path.write_text("".join(rng.permutation(csv_rows)))
    _write_kv(data_dir / "wav.scp", wav)
    _write_kv(data_dir / "utt2machine", machine_of)
    _write_kv(data_dir / "utt2section", section_of)
    if with_labels:
        _write_kv(data_dir / "utt2label", label_of)
    return data_dir, score_dir


def _sklearn(group):
    normal, anomaly = CASES[group]
    y = np.r_[np.zeros(len(normal)), np.ones(len(anomaly))]
    s = np.r_[normal, anomaly]
    return roc_auc_score(y, s), roc_auc_score(y, s, max_fpr=0.1)


def _run(data_dir, score_dir, *extra):
    main(["--data_dir", str(data_dir), "--score_dir", str(score_dir), *extra])


def test_per_id_numbers_equal_sklearn_and_hand_values(tmp_path, capsys):
    data_dir, score_dir = _make_set(tmp_path)
    _run(data_dir, score_dir)
    result = json.loads((score_dir / "result.json").read_text())
    assert result["protocol"] == "per_id" and result["max_fpr"] == 0.1
    assert list(result["machine_types"]) == ["ToyCar", "fan"]
    for (machine, section), (hand_auc, hand_pauc) in HAND.items():
        row = result["machine_types"][machine]["ids"][section]
        auc, pauc = _sklearn((machine, section))
        assert row["AUC"] == pytest.approx(auc, abs=1e-12)
        assert row["pAUC"] == pytest.approx(pauc, abs=1e-12)
        assert row["AUC"] == pytest.approx(hand_auc, abs=1e-12)
        assert row["pAUC"] == pytest.approx(hand_pauc, abs=1e-12)
        assert (row["n_normal"], row["n_anomaly"]) == tuple(map(len, CASES[(machine, section)]))
    fan, toycar = result["machine_types"]["fan"], result["machine_types"]["ToyCar"]
    assert fan["AUC"] == pytest.approx((1 + 0.75 + 0.8125) / 3, abs=1e-12)
    assert fan["pAUC"] == pytest.approx(14 / 19, abs=1e-12)
    assert fan["mAUC"] == 0.75 == min(r["AUC"] for r in fan["ids"].values())
    assert toycar["AUC"] == pytest.approx(13 / 24, abs=1e-12)
    assert toycar["pAUC"] == pytest.approx(93 / 152, abs=1e-12)
    assert toycar["mAUC"] == pytest.approx(1 / 3, abs=1e-12)
    average = result["average"]
    assert average["AUC"] == pytest.approx(67 / 96, abs=1e-12)
    assert average["pAUC"] == pytest.approx(205 / 304, abs=1e-12)
    assert average["mAUC"] == pytest.approx(13 / 24, abs=1e-12)
    assert average["n_machine_types"] == 2

    assert (score_dir / "result.csv").read_text() == EXPECTED_RESULT_CSV
    markdown = (score_dir / "result.md").read_text()
    assert "McClish-standardised" in markdown and "max_fpr = 0.1" in markdown
    assert "| ToyCar | Average | 54.17 | 61.18 | 33.33 |" in markdown
    assert markdown.rstrip().endswith("| Average | | 69.79 | 67.43 | 54.17 |")
    assert markdown in capsys.readouterr().out
    assert not list(score_dir.glob("result_pooled*"))
    assert not [p for p in os.listdir(score_dir) if p.endswith(".tmp")]


def test_pooled_protocol_is_separate_and_pools_ids(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    _run(data_dir, score_dir, "--protocol", "pooled")
    assert not (score_dir / "result.csv").exists()
    result = json.loads((score_dir / "result_pooled.json").read_text())
    assert result["protocol"] == "pooled"
    assert "NOT the official" in result["protocol_note"]
    for machine in ("fan", "ToyCar"):
        groups = [g for g in CASES if g[0] == machine]
        normal = np.concatenate([CASES[g][0] for g in groups])
        anomaly = np.concatenate([CASES[g][1] for g in groups])
        y = np.r_[np.zeros(normal.size), np.ones(anomaly.size)]
        s = np.r_[normal, anomaly]
        entry = result["machine_types"][machine]
        assert entry["AUC"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert entry["pAUC"] == pytest.approx(roc_auc_score(y, s, max_fpr=0.1), abs=1e-12)
        assert entry["mAUC"] is None and "ids" not in entry
    # ToyCar pooled by hand: anomalies 1, 2, .2, .9 against normals 1, 2, 3, .2 x4 -> 16/28
    assert result["machine_types"]["ToyCar"]["AUC"] == pytest.approx(16 / 28, abs=1e-12)
    assert (score_dir / "result_pooled.csv").read_text().splitlines()[:3] == [
        "ToyCar",
        "id,AUC,pAUC",
        f"pooled,{16 / 28!r},{9 / 19!r}",
    ]


def test_count_mismatch_names_the_csv(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    csv_path = score_dir / "anomaly_score_fan_id_02.csv"
    csv_path.write_text("".join(csv_path.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(ValueError, match=r"anomaly_score_fan_id_02\.csv: 5 scores for 6"):
        _run(data_dir, score_dir)
    assert not (score_dir / "result.csv").exists()


def test_unknown_file_name_names_the_csv(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    csv_path = score_dir / "anomaly_score_ToyCar_id_01.csv"
    text = csv_path.read_text().replace("normal_id_01_00000002.wav", "normal_id_01_00000099.wav")
    csv_path.write_text(text)
    with pytest.raises(ValueError, match=r"anomaly_score_ToyCar_id_01\.csv.*00000099"):
        _run(data_dir, score_dir)


def test_missing_score_csv_is_an_error(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    (score_dir / "anomaly_score_fan_id_04.csv").unlink()
    with pytest.raises(ValueError, match=r"anomaly_score_fan_id_04\.csv is missing"):
        _run(data_dir, score_dir)


def test_header_line_is_rejected(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    csv_path = score_dir / "anomaly_score_fan_id_00.csv"
    csv_path.write_text("file_name,score\n" + csv_path.read_text())
    with pytest.raises(ValueError, match=r"anomaly_score_fan_id_00\.csv:1: .*no header"):
        _run(data_dir, score_dir)


def test_missing_utt2label_exits_cleanly(tmp_path, capsys):
    data_dir, score_dir = _make_set(tmp_path, with_labels=False)
    _run(data_dir, score_dir)
    assert sorted(p.name for p in score_dir.iterdir()) == sorted(
        f"anomaly_score_{m}_{s}.csv" for m, s in CASES
    )
    assert "ground truth is absent" in capsys.readouterr().err


def test_clip_file_name_from_path_and_command():
    assert clip_file_name("/db/fan/test/normal_id_00_00000001.wav") == "normal_id_00_00000001.wav"
    assert clip_file_name("sox /db/a/x.wav -r 16000 -t wav - |") == "x.wav"
    with pytest.raises(ValueError, match="exactly one token"):
        clip_file_name("cat a.wav b.wav |")


def test_command_line_entry_point(tmp_path):
    data_dir, score_dir = _make_set(tmp_path)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "asd_lib.bin.score", "--data_dir", str(data_dir),
         "--score_dir", str(score_dir), "--verbose", "0"],
        capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
        check=True,
    )
    assert "| fan | Average | 85.42 | 73.68 | 75.00 |" in proc.stdout
    assert (score_dir / "result.csv").read_text() == EXPECTED_RESULT_CSV
