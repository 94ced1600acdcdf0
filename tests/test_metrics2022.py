"""The 2022-2025 evaluators share one computation (asd_lib.metrics.domain_shift); what
differs is reproduced per year: the 2022 evaluator's per-type source / target harmonic
means (split after len(sections) // 2 columns), the corpus name in result.json, the title."""
import json

import numpy as np
import pytest

from asd_lib.corpus import get_corpus
from asd_lib.metrics.domain_shift import (SPLIT_AS_2022, DomainShiftEvaluator, SectionClips,
                                          format_result_csv, result_to_dict)

TOL = 1e-12
# Per section: source normals .1 .2, target normals .6 .9, then the source and the target
# anomaly. AUC (d): the normals of d against BOTH anomalies of the section.
#   section_00: anomalies .5 .7  -> AUC-s 1,   AUC-t 1/4 (.7 > .6 only)
#   section_01: anomalies .95 .7 -> AUC-s 1,   AUC-t 3/4
#   section_02: anomalies .15 .95 -> AUC-s 3/4, AUC-t 1/2
# The type's AUC list, source then target: [1, 1, 3/4, 1/4, 3/4, 1/2].
#   2022 evaluator: "source harmonic mean" = the first 3 // 2 = 1 column -> 1;
#                   "target harmonic mean" = hmean(1, 3/4, 1/4, 3/4, 1/2) = 5 / (29/3) = 15/29
#   2023 onwards:   source hmean(1, 1, 3/4) = 9/10; target hmean(1/4, 3/4, 1/2) = 9/22
# The overall rows split by domain in every year: 9/10 and 9/22.
ANOMALIES = {"section_00": (0.5, 0.7), "section_01": (0.95, 0.7), "section_02": (0.15, 0.95)}


def _sections():
    return {("fan", s): SectionClips(np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0, 1, 1, 0, 1]),
                                     np.array([0.1, 0.2, 0.6, 0.9, *a]),
                                     np.array([0, 1, 0, 1, 1, 0]))
            for s, a in ANOMALIES.items()}


def test_the_2022_per_type_split_as_its_evaluator_writes_it():
    result = DomainShiftEvaluator("dcase2022", "DCASE 2022 Task 2", SPLIT_AS_2022).evaluate(
        _sections())
    assert [r.source.auc for r in result.sections] == pytest.approx([1, 1, 0.75], abs=TOL)
    assert [r.target.auc for r in result.sections] == pytest.approx([0.25, 0.75, 0.5], abs=TOL)
    fan = dict(result.machines)["fan"]
    assert fan.hmean_source.auc == pytest.approx(1.0, abs=TOL)
    assert fan.hmean_target.auc == pytest.approx(15 / 29, abs=TOL)
    assert result.overall.hmean_source.auc == pytest.approx(0.9, abs=TOL)
    assert result.overall.hmean_target.auc == pytest.approx(9 / 22, abs=TOL)
    lines = format_result_csv(result).splitlines()
    assert [line.split(",")[0] for line in lines[2:5]] == ["00", "01", "02"]
    assert lines[8].startswith("source harmonic mean,,1.0,")
    numbers = result_to_dict(result)
    assert numbers["dataset"] == "dcase2022" and "n_sections // 2" in numbers[
        "source_target_harmonic_means"]


def test_later_years_split_the_type_rows_by_domain():
    result = DomainShiftEvaluator("dcase2023", "DCASE 2023 Task 2").evaluate(_sections())
    fan = dict(result.machines)["fan"]
    assert fan.hmean_source.auc == pytest.approx(0.9, abs=TOL)
    assert fan.hmean_target.auc == pytest.approx(9 / 22, abs=TOL)
    assert result.overall.hmean_source.auc == pytest.approx(0.9, abs=TOL)
    # the rows and the official score do not depend on the split
    other = DomainShiftEvaluator("x", "x", SPLIT_AS_2022).evaluate(_sections())
    assert other.official_score == result.official_score and other.sections == result.sections


@pytest.mark.parametrize("name, split_in_2022", [("dcase2022", True), ("dcase2023", False),
                                                 ("dcase2024", False), ("dcase2025", False)])
def test_each_corpus_registers_its_evaluator(tmp_path, name, split_in_2022):
    corpus = get_corpus(name)
    assert corpus.scorer.evaluate.__self__.dataset == name
    assert (corpus.scorer.evaluate.__self__.type_split is SPLIT_AS_2022) == split_in_2022
    result = corpus.scorer.evaluate.__self__.evaluate(_sections())
    corpus.scorer.write_results(result, tmp_path)
    assert json.loads((tmp_path / "result.json").read_text())["dataset"] == name
    assert corpus.csv_name("anomaly_score", "fan", "section_00", "section_00_0001.wav") == (
        "anomaly_score_fan_section_00_test.csv")
