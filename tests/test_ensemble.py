"""Ensembles: per-group standardisation by hand, mean / max fusion, official files scored."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from asd_lib.backends.threshold import gamma_threshold
from asd_lib.bin import score as score_bin
from asd_lib.bin.ensemble import main
from asd_lib.ensemble import check_weights, fuse, group_statistics, standardise
from asd_lib.experiment import write_model_info

GROUPS = [("fan", "id_00"), ("fan", "id_02")]
# Training scores per system and group -> (mean, std) by hand:
#   A id_00 [1, 3, 1, 3] (2, 1)     A id_02 [10, 14, 10, 14] (12, 2)
#   B id_00 [0, 0, 4, 4] (2, 2)     B id_02 [-1, 1, -1, 1]   (0, 1)
TRAIN = {
    "A": {"id_00": [1, 3, 1, 3], "id_02": [10, 14, 10, 14]},
    "B": {"id_00": [0, 0, 4, 4], "id_02": [-1, 1, -1, 1]},
}
# Test clips of each group: normal_0, normal_1, anomaly_0, anomaly_1.
TEST = {
    "A": {"id_00": [2, 3, 4, 1], "id_02": [12, 16, 18, 10]},
    "B": {"id_00": [2, 0, 8, 6], "id_02": [0, -2, 1, 1]},
}
# Standardised by hand: A id_00 [0, 1, 2, -1], id_02 [0, 2, 3, -1];
#                       B id_00 [0, -1, 3, 2], id_02 [0, -2, 1, 1].
FUSED = {
    "mean": {"id_00": [0, 0, 2.5, 0.5], "id_02": [0, 0, 2, 0]},
    "max": {"id_00": [0, 1, 3, 2], "id_02": [0, 2, 3, 1]},
}
# Fused training scores: A z [-1, 1, -1, 1] in both groups; B z id_00 [-1, -1, 1, 1],
# id_02 [-1, 1, -1, 1].
FUSED_TRAIN = {
    "mean": {"id_00": [-1, 0, 0, 1], "id_02": [-1, 1, -1, 1]},
    "max": {"id_00": [-1, 1, 1, 1], "id_02": [-1, 1, -1, 1]},
}
TEST_CLIPS = [("normal", 0), ("normal", 1), ("anomaly", 0), ("anomaly", 1)]


def _train_utt(section, i):
    return f"fan-normal_{section}_{i:08d}"


def _test_utt(section, label, i):
    return f"fan-{label}_{section}_{i:08d}"


def _write_table(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=lambda kv: kv[0].encode())
    path.write_text("".join(f"{k} {v}\n" for k, v in rows))


def _make_dump(root, name, clips, subdir):
    """A fabricated dump dir: clips = [(utt, section, file name, label or None)]."""
    _write_table(root / name / "feats.scp",
                 [(u, f"{root}/{name}/feats.ark:{9 * i}") for i, (u, *_) in enumerate(clips)])
    _write_table(root / name / "wav.scp",
                 [(u, f"/corpus/dev_data/fan/{subdir}/{f}") for u, _, f, _ in clips])
    _write_table(root / name / "utt2machine", [(u, "fan") for u, *_ in clips])
    _write_table(root / name / "utt2section", [(u, s) for u, s, _, _ in clips])
    if clips[0][3] is not None:
        _write_table(root / name / "utt2label", [(u, lab) for u, _, _, lab in clips])


def _make_experiment(tmp_path):
    dump, exp = tmp_path / "dump", tmp_path / "exp"
    train_clips = [(_train_utt(s, i), s, f"normal_{s}_{i:08d}.wav", None)
                   for _, s in GROUPS for i in range(4)]
    test_clips = [(_test_utt(s, lab, i), s, f"{lab}_{s}_{i:08d}.wav", lab)
                  for _, s in GROUPS for lab, i in TEST_CLIPS]
    _make_dump(dump, "train", train_clips, "train")
    _make_dump(dump, "dev_test", test_clips, "test")
    for system in TRAIN:
        write_model_info(exp / system, {"num_samples": 16000, "classes": []})
        _write_table(exp / system / "best" / "train" / "utt2score",
                     [(_train_utt(s, i), repr(float(v)))
                      for _, s in GROUPS for i, v in enumerate(TRAIN[system][s])])
        _write_table(exp / system / "best" / "dev_test" / "utt2score",
                     [(_test_utt(s, lab, i), repr(float(v)))
                      for _, s in GROUPS for (lab, i), v in zip(TEST_CLIPS, TEST[system][s])])
    return dump, exp


def _run(tmp_path, dump, exp, *extra):
    out = tmp_path / "exp" / "ensemble_AB" / "best"
    main(["--systems", str(exp / "A" / "best"), str(exp / "B" / "best"), "--train_set", "train",
          "--sets", "dev_test eval_test", "--data_root", str(dump), "--out_dir", str(out),
          "--dataset", "dcase2020", "--verbose", "0", *extra])
    return out


def _read_scores(path):
    return {k: float(v) for k, v in (line.split() for line in path.read_text().splitlines())}


def test_group_statistics_and_standardise_by_hand():
    groups = [g for g in GROUPS for _ in range(4)]
    stats = group_statistics(np.r_[TRAIN["A"]["id_00"], TRAIN["A"]["id_02"]], groups, 1e-6, "A")
    assert stats == {("fan", "id_00"): (2.0, 1.0), ("fan", "id_02"): (12.0, 2.0)}
    test_groups = [g for g in GROUPS for _ in range(4)]
    z = standardise(np.r_[TEST["A"]["id_00"], TEST["A"]["id_02"]], test_groups, stats, "A")
    np.testing.assert_array_equal(z, [0, 1, 2, -1, 0, 2, 3, -1])
    with pytest.raises(ValueError, match="x/utt2score: no training clips of pump id_00"):
        standardise([1.0], [("pump", "id_00")], stats, "x/utt2score")


def test_zero_variance_group_uses_the_floor_and_logs(caplog):
    groups = [("fan", "id_00")] * 3 + [("fan", "id_02")] * 2
    with caplog.at_level(logging.WARNING):
        stats = group_statistics(np.array([5.0, 5.0, 5.0, 1.0, 3.0]), groups, 0.5, "B/train")
    assert stats == {("fan", "id_00"): (5.0, 0.5), ("fan", "id_02"): (2.0, 1.0)}
    assert "B/train: training scores of fan id_00 have standard deviation 0 < 0.5" in caplog.text
    assert "id_02" not in caplog.text


def test_fusion_values():
    z = np.array([[0.0, 1, 2, -1], [0, -1, 3, 2]])  # A and B of id_00
    ones = check_weights(None, 2, "mean")
    np.testing.assert_array_equal(fuse(z, "mean", ones), FUSED["mean"]["id_00"])
    np.testing.assert_array_equal(fuse(z, "max", ones), FUSED["max"]["id_00"])
    weighted = fuse(z, "mean", check_weights([3, 1], 2, "mean"))
    np.testing.assert_array_equal(weighted, [0, 0.5, 2.25, -0.25])  # (3 zA + zB) / 4
    with pytest.raises(ValueError, match="3 weights for 2 systems"):
        check_weights([1, 1, 1], 2, "mean")
    with pytest.raises(ValueError, match="not all 0"):
        check_weights([0, 0], 2, "mean")
    with pytest.raises(ValueError, match="mean fusion only"):
        check_weights([2, 1], 2, "max")


@pytest.mark.parametrize("fusion", ["mean", "max"])
def test_ensemble_files_are_scored_like_a_system(tmp_path, fusion, capsys):
    dump, exp = _make_experiment(tmp_path)
    out = _run(tmp_path, dump, exp, "--fusion", fusion)
    assert "eval_test: no such data dir; eval_test skipped" in capsys.readouterr().err
    train = _read_scores(out / "train" / "utt2score")
    test = _read_scores(out / "dev_test" / "utt2score")
    for _, s in GROUPS:
        assert [train[_train_utt(s, i)] for i in range(4)] == FUSED_TRAIN[fusion][s]
        assert [test[_test_utt(s, lab, i)] for lab, i in TEST_CLIPS] == FUSED[fusion][s]
        names = [f"{lab}_{s}_{i:08d}.wav" for lab, i in TEST_CLIPS]
        rows = (out / "dev_test" / f"anomaly_score_fan_{s}.csv").read_text().splitlines()
        assert rows == sorted(f"{n},{float(v)}" for n, v in zip(names, FUSED[fusion][s]))
        threshold = gamma_threshold(np.array(FUSED_TRAIN[fusion][s], dtype=float))
        decisions = (out / "dev_test" / f"decision_result_fan_{s}.csv").read_text()
        assert decisions.splitlines() == sorted(
            f"{n},{int(v > threshold)}" for n, v in zip(names, FUSED[fusion][s]))
    summary = json.loads((out / "ensemble.json").read_text())
    assert summary["fusion"] == fusion and summary["weights"] == [1.0, 1.0]
    assert summary["train_stats"][1]["fan id_00"] == {"mean": 2.0, "std": 2.0}
    assert not (out / "eval_test").exists()

    score_bin.main(["--data_dir", str(dump / "dev_test"), "--score_dir", str(out / "dev_test"),
                    "--verbose", "0"])
    result = json.loads((out / "dev_test" / "result.json").read_text())
    ids = result["machine_types"]["fan"]["ids"]
    labels = [0, 0, 1, 1]
    # mean: id_00 perfect, id_02 [0, 0 | 2, 0] -> 3/4; max: id_00 perfect, id_02 [0, 2 | 3, 1]
    assert ids["id_00"]["AUC"] == 1.0 and ids["id_02"]["AUC"] == 0.75
    for _, s in GROUPS:
        assert ids[s]["AUC"] == pytest.approx(roc_auc_score(labels, FUSED[fusion][s]))
    # the ensemble beats system A alone on id_00 (A: normals 2, 3, anomalies 4, 1 -> 1/2)
    assert roc_auc_score(labels, TEST["A"]["id_00"]) == 0.5


def test_weighted_mean_end_to_end(tmp_path):
    dump, exp = _make_experiment(tmp_path)
    out = _run(tmp_path, dump, exp, "--weights", "3,1")
    test = _read_scores(out / "dev_test" / "utt2score")
    assert [test[_test_utt("id_00", lab, i)] for lab, i in TEST_CLIPS] == [0, 0.5, 2.25, -0.25]


def test_missing_set_file_is_named(tmp_path):
    dump, exp = _make_experiment(tmp_path)
    (exp / "B" / "best" / "dev_test" / "utt2score").unlink()
    with pytest.raises(ValueError, match=r"B/best/dev_test/utt2score: missing; run stage 4"):
        _run(tmp_path, dump, exp)


def test_missing_and_extra_clips_are_named(tmp_path):
    dump, exp = _make_experiment(tmp_path)
    path = exp / "A" / "best" / "train" / "utt2score"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[1:]))
    with pytest.raises(ValueError, match=r"A/best/train/utt2score: its clips differ from the "
                                         r"set's \(1 without a score, 0 unknown\)"):
        _run(tmp_path, dump, exp)
    path.write_text("".join(lines) + "fan-normal_id_04_00000000 1.0\n")
    with pytest.raises(ValueError, match=r"A/best/train/utt2score: its clips differ from the "
                                         r"set's \(0 without a score, 1 unknown\)"):
        _run(tmp_path, dump, exp)


def test_command_line_error_is_one_line(tmp_path):
    dump, exp = _make_experiment(tmp_path)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "asd_lib.bin.ensemble", "--systems", str(exp / "A" / "best"),
         str(exp / "C" / "best"), "--data_root", str(dump), "--out_dir", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.returncode == 1
    assert "C/best/train/utt2score: missing; run stage 4 on that set first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_weights_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--systems", "a", "b", "--out_dir", "o", "--weights", "1,x"])
    assert exit_info.value.code == 2
    assert "--weights: expected comma-separated numbers such as 0.35,0.65, got '1,x'" in \
        capsys.readouterr().err
