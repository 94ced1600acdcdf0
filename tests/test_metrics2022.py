"""The 2022-2025 evaluators share one computation (asd_lib.metrics.domain_shift); what
differs is reproduced per year: the 2022 evaluator's per-type source / target harmonic
means (split after len(sections) // 2 columns), the corpus name in result.json, the title.
The per-type mean rows equal the example results printed in the 2022 and 2025 evaluators'
READMEs."""
import json

import numpy as np
import pytest

from asd_lib.corpus import get_corpus
from asd_lib.metrics.domain_shift import (
    SPLIT_AS_2022,
    SPLIT_BY_DOMAIN,
    DomainScore,
    DomainShiftEvaluator,
    SectionClips,
    SectionScore,
    format_result_csv,
    result_to_dict,
    summarise,
)

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


# ------------------------------------------ the evaluators' own README examples
def _rows(machine, table):
    """SectionScore rows from result.csv section lines (AUC (all), AUC-s, AUC-t, pAUC,
    P-s, P-t, R-s, R-t, F1-s, F1-t)."""
    rows = []
    for section, v in table.items():
        domains = [DomainScore(v[1 + d], v[4 + d], v[6 + d], v[8 + d], 0, 0) for d in (0, 1)]
        rows.append(SectionScore(machine, f"section_{section}", v[0], v[3], *domains))
    return rows


# Kota-Dohi/dcase2022_evaluator README, its example result (ToyCar, sections 03-05).
EV22_TOYCAR = {
    "03": (0.7579, 0.8204, 0.6954, 0.71, 0.6666666666666666, 0.7575757575757576, 0.28, 1.0,
           0.3943661971830986, 0.8620689655172413),
    "04": (0.5183, 0.6164, 0.4202, 0.4942105263157895, 0.6333333333333333, 0.46296296296296297,
           0.38, 0.5, 0.4750000000000001, 0.4807692307692307),
    "05": (0.6746, 0.8371999999999999, 0.512, 0.6447368421052632, 0.8333333333333334,
           0.5476190476190477, 0.3, 0.92, 0.4411764705882353, 0.6865671641791046),
}
EV22_TOYCAR_MEANS = (
    (0.6502666666666667, 0.6163157894736843, 0.6502485169151835, 0.5633333333333334,
     0.5566580047061518),
    (0.6118288605395442, 0.6020590065980902, 0.6259758490782256, 0.44042200910247076,
     0.5170556917115303),
    (0.8204, 0.71, 0.6666666666666666, 0.28, 0.3943661971830986),
    (0.5822249313921185, 0.5842930428015208, 0.6184265643220234, 0.4974199423281226,
     0.5513620450947704),
)
# nttcslab/dcase2025_task2_evaluator README, its example result (AutoTrash, section 00).
EV25_AUTOTRASH = {
    "00": (0.5769000000000001, 0.8102, 0.3436, 0.5421052631578948, 0.5119047619047619, 0.5, 0.86,
           1.0, 0.6417910447761195, 0.6666666666666666),
}
EV25_AUTOTRASH_MEANS = (
    (0.5769, 0.5421052631578948, 0.5059523809523809, 0.9299999999999999, 0.6542288557213931),
    (0.48255281677933787, 0.5421052631578948, 0.5058823529411764, 0.9247311827956988,
     0.6539923954372623),
    (0.8102, 0.5421052631578948, 0.5119047619047619, 0.86, 0.6417910447761195),
    (0.3436, 0.5421052631578948, 0.5, 1.0, 0.6666666666666666),
)


@pytest.mark.parametrize("machine, table, split, means", [
    ("ToyCar", EV22_TOYCAR, SPLIT_AS_2022, EV22_TOYCAR_MEANS),
    ("AutoTrash", EV25_AUTOTRASH, SPLIT_BY_DOMAIN, EV25_AUTOTRASH_MEANS),
])
def test_type_means_equal_the_evaluator_readme_examples(machine, table, split, means):
    rows = _rows(machine, table)
    summary = summarise(rows, split.columns(len(rows)))
    for (label, got), expected in zip(summary.rows(), means):
        assert list(got) == pytest.approx(expected, rel=1e-12, abs=1e-15), label
