"""Integration: the DCASE 2022 recipe (copied with setup.sh --from) runs stages 0-5 on a
tiny synthetic corpus with the default system (attribute classifier + k-means memory
bank); sections 00-02 score the development set and 03-05 the evaluation set, in the 2022
evaluator's files and layout."""
import json

import pytest

from recipe_helpers import (
    DEFAULT,
    KMEANS,
    assert_stage4_ignores_hidden_labels,
    assert_training_free_trials,
    default_system_recipe,
    tiny_options,
)

pytestmark = pytest.mark.recipe

MACHINES = ("ToyCar", "valve")
TINY = tiny_options(MACHINES)


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    return default_system_recipe(tmp_path_factory, "dcase22", TINY)


def test_default_system_writes_the_official_2022_files(recipe):
    out = recipe / DEFAULT / KMEANS
    for machine in MACHINES:
        for sections, folder in ((("00", "01", "02"), "dev_test"), (("03", "04", "05"), "eval_test")):
            for section in sections:
                for kind in ("anomaly_score", "decision_result"):
                    rows = (out / folder / f"{kind}_{machine}_section_{section}_test.csv") \
                        .read_text().splitlines()
                    assert len(rows) == 8
    rows = (out / "eval_test/anomaly_score_valve_section_05_test.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == [f"section_05_{i:04d}.wav" for i in range(8)]
    lines = (out / "dev_test/result.csv").read_text().splitlines()
    assert lines[0] == "ToyCar" and [x.split(",")[0] for x in lines[2:5]] == ["00", "01", "02"]
    assert lines[1].startswith("section,AUC (all),AUC (source),AUC (target),pAUC,")
    numbers = json.loads((out / "dev_test/result.json").read_text())
    assert numbers["dataset"] == "dcase2022" and 0.0 < numbers["official_score"] <= 1.0
    assert "n_sections // 2" in numbers["source_target_harmonic_means"]
    assert "official score ci95,," in "\n".join(lines)


def test_stage4_does_not_read_the_test_labels(recipe, tmp_path):
    assert_stage4_ignores_hidden_labels(recipe, DEFAULT, "kmeans_membank", "dcase2022", tmp_path)


def test_training_free_reference_over_two_trials(recipe):
    assert_training_free_trials(recipe, TINY, "dcase2022")
