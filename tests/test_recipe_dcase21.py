"""Integration: the DCASE 2021 recipe (copied with setup.sh --from) runs stages 0-5 on a
tiny synthetic corpus with the default system (a section classifier) and the official AE
baseline; the score files are the 2021 evaluator's, one per section and domain, and the
result has its layout."""
import json

import pytest

from recipe_helpers import (
    DEFAULT,
    KMEANS,
    assert_stage4_ignores_hidden_labels,
    assert_training_free_trials,
    default_system_recipe,
    run,
    tiny_options,
)

pytestmark = pytest.mark.recipe

MACHINES = ("fan", "ToyCar")  # a toy type (compact attribute strings) and a MIMII type
TINY = tiny_options(MACHINES)


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    return default_system_recipe(tmp_path_factory, "dcase21", TINY)


def test_default_system_writes_one_score_file_per_domain(recipe):
    assert (recipe / "data/train/utt2class").read_text().splitlines()[0].endswith(" ToyCar_section_00")
    dev = recipe / DEFAULT / KMEANS / "dev_test"
    for machine in MACHINES:
        for section in ("00", "01", "02"):
            for domain in ("source", "target"):
                for kind in ("anomaly_score", "decision_result"):
                    name = f"{kind}_{machine}_section_{section}_{domain}_test.csv"
                    rows = (dev / name).read_text().splitlines()
                    assert len(rows) == 4 and all(f"_{domain}_test_" in r for r in rows)
    rows = (recipe / DEFAULT / KMEANS / "eval_test/anomaly_score_fan_section_04_target_test.csv") \
        .read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == [f"section_04_target_test_{i:04d}.wav" for i in range(4)]
    lines = (dev / "result.csv").read_text().splitlines()
    assert lines[:3] == ["ToyCar", "section,domain,AUC,pAUC,precision,recall,F1 score", lines[2]]
    assert lines[2].startswith("00,source,") and lines[5].startswith("00,target,")
    assert lines[-2].startswith("official score,,") and "official score ci95" not in lines
    numbers = json.loads((dev / "result.json").read_text())
    assert numbers["dataset"] == "dcase2021" and 0.0 < numbers["official_score"] <= 1.0


def test_stage4_does_not_read_the_test_labels(recipe, tmp_path):
    assert_stage4_ignores_hidden_labels(recipe, DEFAULT, "kmeans_membank", "dcase2021", tmp_path)
    # the per-domain files come from the clips' file names, which the official names show
    assert (tmp_path / "out/eval_test/anomaly_score_ToyCar_section_05_target_test.csv").is_file()


def test_official_ae_baseline(recipe):
    run(recipe, f"--stage 3 --stop-stage 5 --train_config conf/tuning/train_ae_baseline.debug.yaml "
                f"--inference_config conf/decode/model_score.yaml {TINY}")
    out = recipe / "exp/train_ae_baseline.debug/model_score_best/eval_test"
    assert json.loads((out / "result.json").read_text())["dataset"] == "dcase2021"
    assert (out / "decision_result_fan_section_05_source_test.csv").is_file()


def test_training_free_reference_over_two_trials(recipe):
    assert_training_free_trials(recipe, TINY, "dcase2021")
