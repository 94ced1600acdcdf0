"""Integration: the DCASE 2024 recipe (copied with setup.sh --from) runs stages 0-5 on a
tiny synthetic first-shot corpus with the default system, a second system (the official
AE baseline), the stage-6 ensemble of both, and the wav2vec 2.0 + AST system with tiny
random backbones; every result is in the official 2024 evaluator's files and layout."""
import json
import subprocess
from pathlib import Path

import pytest

from asd_lib.corpus.dcase2024 import layout as dcase2024
from recipe_helpers import DEFAULT, KMEANS, assert_training_free_trials, default_system_recipe, run

pytestmark = pytest.mark.recipe

TINY = ("--nj 2 --segment_sec 1 --local_data_opts '--synth_duration 1 --synth_source_train 6 "
        "--synth_target_train 2 --synth_test_per_condition 2'")
AE = "exp/train_ae_mse.debug"


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    return default_system_recipe(tmp_path_factory, "dcase24", TINY)


def official_score(score_dir: Path) -> float:
    return json.loads((score_dir / "result.json").read_text())["official_score"]


def test_default_system_writes_the_official_2024_files(recipe):
    dev_types = dcase2024.DEV_TYPES
    out = recipe / DEFAULT / KMEANS / "dev_test"
    for machine in dev_types:
        for kind in ("anomaly_score", "decision_result"):
            rows = (out / f"{kind}_{machine}_section_00_test.csv").read_text().splitlines()
            assert len(rows) == 8  # 2 clips x (source, target) x (normal, anomaly)
    eval_rows = (recipe / DEFAULT / KMEANS / "eval_test/anomaly_score_RoboticArm_section_00_test.csv") \
        .read_text().splitlines()
    assert all(r.split(",")[0].startswith("section_00_") and r.split(",")[0].count("_") == 2
               for r in eval_rows)  # eval clips keep their short official names
    text = (out / "result.csv").read_text()
    assert "official score," in text and all(m in text for m in dev_types)
    assert 0.0 < official_score(out) <= 1.0
    # decisions that mean something: every type flags some of its anomalies
    sections = json.loads((out / "result.json").read_text())["machine_types"]
    for machine in dev_types:
        values = sections[machine]["sections"]["section_00"]
        assert max(values["F1 score (source)"], values["F1 score (target)"]) > 0, machine


def test_second_system_and_stage6_ensemble(recipe):
    run(recipe, f"--stage 3 --stop-stage 5 --train_config conf/tuning/train_ae_mse.debug.yaml "
                f"--inference_config conf/decode/model_score.yaml {TINY}")
    systems = f"'{DEFAULT}/{KMEANS} {AE}/model_score_best'"
    run(recipe, f"--stage 6 --stop-stage 6 --ensemble_tag pair --ensemble_systems {systems} {TINY}")
    out = recipe / "exp/ensemble_pair/combined/dev_test"
    assert (out / "result.json").exists()
    again = run(recipe, f"--stage 6 --stop-stage 6 --ensemble_tag pair --ensemble_systems "
                        f"{systems} {TINY}").stderr
    assert "exp/ensemble_pair/combined is complete; skipped" in again
    fused = [float(line.split()[1]) for line in (out / "utt2score").read_text().splitlines()]
    ae = [float(line.split()[1]) for line in (recipe / AE / "model_score_best/dev_test/utt2score")
          .read_text().splitlines()]
    assert len(fused) == len(ae) and fused != ae


def test_w2v2_ast_with_tiny_random_backbones(recipe):
    run(recipe, f"--stage 3 --stop-stage 5 --train_config conf/tuning/train_w2v2_ast.debug.yaml {TINY}")
    out = recipe / "exp/train_w2v2_ast.debug" / KMEANS / "dev_test"
    assert (out / "result.csv").exists() and (out / "embeddings.scp").exists()


def test_stage4_refuses_sets_redumped_for_another_system(recipe):
    # Another system's stage 2 at 8 kHz re-dumps the shared sets: the default system's
    # stage 4 must refuse them (not score 8 kHz audio as 16 kHz), and name the fix.
    run(recipe, f"--stage 2 --stop-stage 2 --sample_rate 8000 {TINY}")
    assert (recipe / "dump/dev_test/sample_rate").read_text() == "8000\n"
    proc = subprocess.run(f"./run.sh --stage 4 --stop-stage 4 --train_config "
                          f"conf/train_stgram_mfn.debug.yaml --sample_rate 8000 {TINY}",
                          shell=True, cwd=recipe, capture_output=True, text=True)
    assert proc.returncode != 0
    assert ("dump/train: dumped as 8000-sample clips at 8000 Hz, but exp/train_stgram_mfn.debug "
            "needs 16000-sample clips at 16000 Hz; re-run stage 2 with --sample_rate 16000 "
            "--segment_sec 1") in proc.stderr
    run(recipe, f"--stage 2 --stop-stage 2 {TINY}")  # as the other tests expect
    assert (recipe / "dump/dev_test/sample_rate").read_text() == "16000\n"


def test_training_free_reference_over_two_trials(recipe):
    assert_training_free_trials(recipe, TINY, "dcase2024")


def test_frozen_encoder_reference_with_a_tiny_random_ast(recipe):
    run(recipe, "--stage 3 --stop-stage 5 --train_config conf/tuning/train_raw_ast.debug.yaml "
                f"--inference_config conf/decode/knn.yaml {TINY}")
    exp = recipe / "exp/train_raw_ast.debug"
    assert "nothing to train" in (exp / "log/train.log").read_text()
    result = json.loads((exp / "knn_best/dev_test/result.json").read_text())
    assert 0.0 < result["official_score"] <= 1.0
