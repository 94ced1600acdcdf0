"""Integration: the DCASE 2023 recipe (copied with setup.sh --from) runs stages 0-5 on a
tiny synthetic first-shot corpus with the default system and the official AE baseline
(selective Mahalanobis); every result is in the 2023 evaluator's files and layout."""
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

DEV, EVAL = ("fan", "valve"), ("bandsaw", "ToyDrone")
TINY = tiny_options(DEV + EVAL)


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    return default_system_recipe(tmp_path_factory, "dcase23", TINY)


def test_default_system_writes_the_official_2023_files(recipe):
    out = recipe / DEFAULT / KMEANS
    for machine in DEV:
        rows = (out / f"dev_test/anomaly_score_{machine}_section_00_test.csv").read_text().splitlines()
        assert len(rows) == 8
    for machine in EVAL:
        rows = (out / f"eval_test/decision_result_{machine}_section_00_test.csv").read_text().splitlines()
        assert sorted(r.split(",")[0] for r in rows) == [f"section_00_{i:04d}.wav" for i in range(8)]
    text = (out / "eval_test/result.csv").read_text()
    assert text.startswith("ToyDrone\n") and "\nbandsaw\n" in text and "official score ci95,," in text
    assert json.loads((out / "eval_test/result.json").read_text())["dataset"] == "dcase2023"


def test_stage4_does_not_read_the_test_labels(recipe, tmp_path):
    assert_stage4_ignores_hidden_labels(recipe, DEFAULT, "kmeans_membank", "dcase2023", tmp_path)


def test_official_ae_baseline_mahalanobis(recipe):
    run(recipe, f"--stage 3 --stop-stage 5 --train_config conf/tuning/train_ae_mahalanobis.debug.yaml "
                f"--inference_config conf/decode/mahalanobis.yaml {TINY}")
    out = recipe / "exp/train_ae_mahalanobis.debug/mahalanobis_best/dev_test"
    assert json.loads((out / "result.json").read_text())["dataset"] == "dcase2023"


def test_training_free_reference_over_two_trials(recipe):
    assert_training_free_trials(recipe, TINY, "dcase2023")
