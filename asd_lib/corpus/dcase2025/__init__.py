"""DCASE 2025 Challenge Task 2 (first-shot unsupervised ASD; ToyADMOS2 + MIMII DG): one
section per machine type, other types in the evaluation set than in the development set,
source and target domains, hidden attributes, supplemental recordings (clean machine or
noise only), and the official metrics AUC-source, AUC-target and pAUC with their harmonic
mean.

- :mod:`~asd_lib.corpus.dcase2025.layout`: the year's facts;
- :mod:`~asd_lib.corpus.dcase2025.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.domain_shift` (the 2023 evaluator's computation, as
  the README of nttcslab/dcase2025_task2_evaluator documents it).
"""
from asd_lib.corpus.dcase2025 import layout, synthetic
from asd_lib.corpus.registry import domain_shift_scorer
from asd_lib.corpus.section_corpus import section_corpus
from asd_lib.metrics import domain_shift as metrics

EVALUATOR = metrics.DomainShiftEvaluator("dcase2025", "DCASE 2025 Task 2")

CORPUS = section_corpus(layout.LAYOUT, synthetic.TYPE_MODELS, synthetic.Dcase2025Sizes,
                        synthetic.OFFICIAL_SIZES, domain_shift_scorer(EVALUATOR))
