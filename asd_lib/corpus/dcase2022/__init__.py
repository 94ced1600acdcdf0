"""DCASE 2022 Challenge Task 2 (ASD applying domain generalization; ToyADMOS2 + MIMII DG):
the same 7 machine types in the development (sections 00-02) and the evaluation set
(sections 03-05), source and target domains, attributes, and the official metrics
AUC-source, AUC-target and pAUC with their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2022.layout`: the year's facts;
- :mod:`~asd_lib.corpus.dcase2022.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.domain_shift` with the 2022 evaluator's per-type
  source/target harmonic means (``SPLIT_AS_2022``; Kota-Dohi/dcase2022_evaluator).
"""
from asd_lib.corpus.dcase2022 import layout, synthetic
from asd_lib.corpus.registry import domain_shift_scorer
from asd_lib.corpus.section_corpus import section_corpus
from asd_lib.metrics import domain_shift as metrics

EVALUATOR = metrics.DomainShiftEvaluator("dcase2022", "DCASE 2022 Task 2", metrics.SPLIT_AS_2022)

CORPUS = section_corpus(layout.LAYOUT, synthetic.TYPE_MODELS, synthetic.Dcase2022Sizes,
                        synthetic.OFFICIAL_SIZES, domain_shift_scorer(EVALUATOR))
