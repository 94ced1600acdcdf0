"""Stage 5 plots, the per-experiment report.md and the aggregated results table."""
import dataclasses
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from asd_lib.bin import plot_results, show_results
from asd_lib.corpus import get_corpus
from asd_lib.experiment import read_training_history
from asd_lib.inference.thresholds import read_thresholds
from asd_lib.report.aggregate import (
    collect_results,
    format_tables,
    group_trials,
    sort_groups,
    tables_json,
)
from asd_lib.report.plots import histogram_edges, tsne_map
from asd_lib.report.report import plot_scored_set
from asd_lib.report.scored_set import load_scored_set, thresholds_from_decisions
from report_fixtures import INFERENCE_TAG, TAG, tiny_experiment

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    root = tiny_experiment(tmp_path_factory)
    exp = root / "exp" / TAG
    plot_results.main(["--exp_dir", str(exp), "--score_dir", str(exp / INFERENCE_TAG / "dev_test"),
                       "--data_dir", str(root / "dump/dev_test"),
                       "--thresholds", str(exp / INFERENCE_TAG / "train/thresholds.csv"),
                       "--verbose", "0"])
    return root


def png_size(path: Path):
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, path
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_plots_are_pngs_of_the_figure_sizes(recipe):
    exp = recipe / "exp" / TAG
    plots = exp / INFERENCE_TAG / "dev_test/plots"
    # figure size in inches x 100 dpi; histograms: 4 sections -> one row of 4 panels
    expected = {plots / "roc_fan.png": (550, 500), plots / "scores_fan.png": (1440, 290),
                plots / "tsne_fan.png": (600, 500), exp / "plots/training_curves.png": (1200, 360)}
    for path, size in expected.items():
        assert png_size(path) == size, path
        assert path.stat().st_size > 10_000, path
    assert sorted(p.name for p in plots.iterdir()) == ["roc_fan.png", "scores_fan.png",
                                                       "tsne_fan.png"]


def test_report_embeds_every_plot_beside_the_result_table(recipe):
    exp = recipe / "exp" / TAG
    report = (exp / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", report)
    assert all((exp / link).is_file() for link in links), links
    plots = [f"{INFERENCE_TAG}/dev_test/plots/{kind}_fan.png" for kind in ("roc", "scores", "tsne")]
    assert sorted(links) == sorted(plots + ["config.yaml", "plots/training_curves.png"])
    auc = json.loads((exp / INFERENCE_TAG / "dev_test/result.json").read_text())["average"]["AUC"]
    table_row = f"| fan | Average | {100 * auc:.2f} |"
    assert table_row in report
    assert report.index(table_row) < report.index(f"{INFERENCE_TAG}/dev_test/plots/roc_fan.png")
    assert "./asd.sh --train_config conf/train_tiny.yaml" in report


def test_thresholds_from_decisions_decide_as_the_training_fit(recipe):
    exp = recipe / "exp" / TAG
    scored = load_scored_set(exp / INFERENCE_TAG / "dev_test", recipe / "dump/dev_test")
    recovered = thresholds_from_decisions(exp / INFERENCE_TAG / "dev_test", scored,
                                          get_corpus("dcase2020").csv_name)
    fitted = {g: t.value for g, t in
              read_thresholds(exp / INFERENCE_TAG / "train/thresholds.csv").items()}
    assert recovered, "no section had both decisions"
    for group, members in scored.groups().items():
        if group in recovered:
            scores = scored.scores[members]
            assert np.array_equal(scores > recovered[group], scores > fitted[group]), group


def test_thresholds_from_decisions_read_every_file_of_a_group(recipe, tmp_path):
    """A group's clips may lie in several decision files (DCASE 2021: one per domain)."""
    exp = recipe / "exp" / TAG
    source = exp / INFERENCE_TAG / "dev_test"
    scored = load_scored_set(source, recipe / "dump/dev_test")
    csv_name = get_corpus("dcase2020").csv_name
    split = tmp_path / "split"
    split.mkdir()

    def by_parity(kind, machine, section, file_name):
        return f"{int(file_name[-5]) % 2}_" + csv_name(kind, machine, section)

    for path in source.glob("decision_result_*.csv"):
        for line in path.read_text().splitlines(keepends=True):
            target = split / f"{int(line.split(',')[0][-5]) % 2}_{path.name}"
            with open(target, "a") as f:
                f.write(line)
    assert len(list(split.iterdir())) == 2 * len(list(source.glob("decision_result_*.csv")))
    assert thresholds_from_decisions(split, scored, by_parity) == thresholds_from_decisions(
        source, scored, csv_name)


def test_a_set_without_ground_truth_gets_no_roc(recipe, tmp_path):
    exp = recipe / "exp" / TAG
    scored = dataclasses.replace(load_scored_set(exp / INFERENCE_TAG / "dev_test", recipe / "dump/dev_test"),
                                 labels=None)
    shutil.copytree(exp / INFERENCE_TAG / "dev_test", tmp_path / "eval_test")
    written = plot_scored_set(scored, tmp_path / "eval_test", {}, "best/eval_test")
    assert sorted(p.name for p in written) == ["scores_fan.png", "tsne_fan.png"]
    # the earlier ROC plot of the copied dir no longer matches the set: removed
    assert sorted(p.name for p in (tmp_path / "eval_test/plots").iterdir()) == [
        "scores_fan.png", "tsne_fan.png"]


def test_load_scored_set_names_a_missing_score(tmp_path, recipe):
    exp = recipe / "exp" / TAG
    lines = (exp / INFERENCE_TAG / "dev_test/utt2score").read_text().splitlines()
    (tmp_path / "utt2score").write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(ValueError, match=r"utt2score: clips differ .*\(1 without a score"):
        load_scored_set(tmp_path, recipe / "dump/dev_test")


def test_histogram_bins_go_logarithmic_for_scores_over_decades():
    edges, log_axis = histogram_edges(np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0]), threshold=None)
    assert log_axis and edges[0] == pytest.approx(1e-4) and edges[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(edges)), 4 / 5)  # 5 log-equal bins over 4 decades
    edges, log_axis = histogram_edges(np.array([-1.0, 0.0, 1.0, 2.0, 3.0]), threshold=5.0)
    assert not log_axis and edges[0] == -1.0 and edges[-1] == 5.0


def test_tsne_keeps_separated_clusters_apart_and_is_seeded():
    rng = np.random.default_rng(0)
    centres = np.eye(16)[:2] * 10
    points = np.concatenate([c + 0.3 * rng.standard_normal((12, 16)) for c in centres])
    coords = tsne_map(points, seed=0)
    assert coords.shape == (24, 2)
    assert np.array_equal(coords, tsne_map(points, seed=0))
    distances = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argmin(axis=1)
    assert np.array_equal(nearest // 12, np.arange(24) // 12)
    with pytest.raises(ValueError, match="at least 5 embeddings"):
        tsne_map(points[:4])


def test_read_history_names_missing_columns(tmp_path):
    path = tmp_path / "train_history.csv"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(ValueError, match=r"train_history.csv: columns \['lr', 'train_loss'"):
        read_training_history(tmp_path)


def make_result(root: Path, tag: str, dset: str, data: dict, workdir: str = "recipe") -> None:
    score_dir = root / tag / "best" / dset
    score_dir.mkdir(parents=True)
    (score_dir / "result.json").write_text(json.dumps(data))
    (root / tag / "run.sh").write_text(
        f'#!/usr/bin/env bash\ncd {root.parent / workdir} && ./asd.sh --tag {tag} "$@"\n')


def dcase2020_result(auc, pauc, mauc):
    return {"dataset": "dcase2020", "average": {"AUC": auc, "pAUC": pauc, "mAUC": mauc}}


def test_results_table_has_one_row_per_experiment_and_set(tmp_path):
    exp = tmp_path / "exp"
    make_result(exp, "a", "dev_test", dcase2020_result(0.80, 0.70, 0.60))
    make_result(exp, "b", "dev_test", dcase2020_result(0.90, 0.75, 0.65))
    make_result(exp, "b", "eval_test", dcase2020_result(0.85, 0.72, None))
    make_result(exp, "c", "dev_test", {
        "dataset": "dcase2024", "official_score": 0.6123,
        "overall": {"source harmonic mean": {"AUC": 0.7}, "target harmonic mean": {"AUC": 0.5},
                    "harmonic mean": {"pAUC": 0.55}}})
    rows, skipped = collect_results([exp], tmp_path)
    assert skipped == []
    groups = sort_groups(group_trials(rows, tmp_path), sort_by="AUC")
    assert [(g.name, g.first.dset) for g in groups if g.first.dataset == "dcase2020"] == [
        ("b", "dev_test"), ("a", "dev_test"), ("b", "eval_test")]
    text = format_tables(groups)
    assert ("| b | best | dev_test | 90.00 | 75.00 | 65.00 | `cd recipe && ./asd.sh --tag b` |"
            in text)
    assert "| b | best | eval_test | 85.00 | 72.00 |  |" in text
    assert "| c | best | dev_test | 61.23 | 70.00 | 50.00 | 55.00 |" in text
    assert text.count("\n| a |") + text.count("\n| b |") + text.count("\n| c |") == 4
    assert "Trials" not in text and "±" not in text  # one seed: the rows as they were
    by_score = sort_groups(groups, sort_by="Official score")  # a dcase2024 column only
    assert [g.name for g in by_score] == ["c", "a", "b", "b"]
    with pytest.raises(ValueError, match="'hmean' is no column of the tables"):
        sort_groups(groups, sort_by="hmean")


def test_result_json_without_headline_is_listed_as_skipped(tmp_path):
    make_result(tmp_path / "exp", "a", "dev_test", {"dataset": "dcase2020", "average": {}})
    make_result(tmp_path / "exp", "b", "dev_test", dcase2020_result(0.9, 0.8, 0.7))
    rows, skipped = collect_results([tmp_path / "exp"], tmp_path)
    assert [r.experiment for r in rows] == ["b"]
    assert [(Path(s.path).relative_to(tmp_path).as_posix(), s.reason) for s in skipped] == [
        ("exp/a/best/dev_test/result.json",
         "no average/AUC; re-run scoring (stage 5) with this version of asd_lib")]


def test_unreadable_and_missing_results_are_listed_and_the_rest_shown(tmp_path):
    exp = tmp_path / "exp"
    make_result(exp, "good", "dev_test", dcase2020_result(0.9, 0.8, 0.7))
    make_result(exp, "empty", "dev_test", {})
    (exp / "empty/best/dev_test/result.json").write_text("")
    make_result(exp, "cut", "dev_test", {})
    (exp / "cut/best/dev_test/result.json").write_text('{"dataset": "dcase2020", "aver')
    unscored = exp / "good/best/eval_test"
    unscored.mkdir()
    (unscored / "utt2score").write_text("u 0.5\n")
    (exp / "good/best/train").mkdir()  # the training set: scored, never evaluated
    (exp / "good/best/train/utt2score").write_text("u 0.5\n")
    (exp / "good/best/inference.yaml").write_text("train_dir: dump/train\n")
    rows, skipped = collect_results([exp], tmp_path)
    assert [r.experiment for r in rows] == ["good"]
    reasons = {Path(s.path).relative_to(exp).as_posix(): s.reason for s in skipped}
    assert set(reasons) == {"cut/best/dev_test/result.json", "empty/best/dev_test/result.json",
                            "good/best/eval_test"}
    assert reasons["empty/best/dev_test/result.json"].startswith("not valid JSON")
    assert reasons["cut/best/dev_test/result.json"].startswith("not valid JSON")
    assert reasons["good/best/eval_test"].startswith("no result.json")
    text = format_tables(group_trials(rows, tmp_path), skipped)
    assert "| good | best | dev_test | 90.00 | 80.00 | 70.00 |" in text
    assert "Not in the tables:" in text and "good/best/eval_test`: no result.json" in text


def test_trials_are_one_row_with_mean_std_and_range(tmp_path):
    exp = tmp_path / "exp"
    for seed, auc in ((0, 0.80), (1, 0.84), (2, 0.86)):
        make_result(exp, f"sys_seed{seed}", "dev_test", dcase2020_result(auc, 0.70, 0.6 + seed / 100))
    make_result(exp, "sys", "dev_test", dcase2020_result(0.99, 0.99, 0.99))  # no trials
    make_result(exp, "ref_seed0", "dev_test", dcase2020_result(0.75, 0.65, None))
    (exp / "sys_trials").mkdir()
    (exp / "sys_trials/run.sh").write_text(
        f'#!/usr/bin/env bash\ncd {tmp_path / "recipe"} && ./asd.sh --num_trials 3 "$@"\n')
    rows, _ = collect_results([exp], tmp_path)
    groups = sort_groups(group_trials(rows, tmp_path))
    by_name = {g.name: g for g in groups}
    assert set(by_name) == {"sys_seed{0,1,2}", "sys", "ref_seed0"}
    trials = by_name["sys_seed{0,1,2}"]
    assert trials.seeds == (0, 1, 2) and len(trials.rows) == 3
    auc = trials.statistics()[0]
    # mean 0.8333..., sample std sqrt(((-1/30)^2 + (1/150)^2 + (2/75)^2) / 2) = 0.030550504633
    assert auc["mean"] == pytest.approx(2.5 / 3, abs=1e-12)
    assert auc["std"] == pytest.approx(0.030550504633038926, abs=1e-12)
    assert (auc["min"], auc["max"]) == (0.80, 0.86)
    assert trials.statistics()[1]["std"] == 0.0
    text = format_tables(groups)
    assert ("| sys_seed{0,1,2} | best | dev_test | 3 | 83.33 ± 3.06 [80.00, 86.00] | "
            "70.00 ± 0.00 [70.00, 70.00] | 61.00 ± 1.00 [60.00, 62.00] | "
            "`cd recipe && ./asd.sh --num_trials 3` |") in text
    assert "| sys | best | dev_test | 1 | 99.00 | 99.00 | 99.00 |" in text
    assert "| ref_seed0 | best | dev_test | 1 | 75.00 | 65.00 |  |" in text
    data = tables_json(groups)
    row = next(r for r in data["rows"] if r["experiment"] == "sys_seed{0,1,2}")
    assert row["trials"] == 3 and row["seeds"] == [0, 1, 2] and row["system"] == "sys"
    assert row["headline"]["AUC"]["values"] == [0.80, 0.84, 0.86]
    ref = next(r for r in data["rows"] if r["experiment"] == "ref_seed0")
    assert ref["headline"]["mAUC"] == {"mean": None, "std": None, "min": None, "max": None,
                                       "values": [None]}
    json.dumps(data, allow_nan=False)


def test_show_results_sh_lists_the_tiny_experiment(recipe):
    proc = subprocess.run([str(REPO / "utils/show_results.sh"), "exp"], cwd=recipe,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHON": str(REPO / "tools/venv/bin/python")})
    assert proc.returncode == 0, proc.stderr
    auc = json.loads((recipe / "exp" / TAG / INFERENCE_TAG / "dev_test/result.json").read_text())
    row = (f"| {TAG} | {INFERENCE_TAG} | dev_test | {100 * auc['average']['AUC']:.2f} | "
           f"{100 * auc['average']['pAUC']:.2f} | {100 * auc['average']['mAUC']:.2f} | "
           "`./asd.sh --train_config conf/train_tiny.yaml --test_sets dev_test\\ eval_test "
           "--stage 0 --stop-stage 5` |")
    assert row in proc.stdout.splitlines()


def test_show_results_without_results_is_an_error(tmp_path):
    (tmp_path / "exp").mkdir()
    with pytest.raises(ValueError, match="no readable \\*/\\*/\\*/result.json under"):
        show_results.main([str(tmp_path / "exp")])
