"""DCASE 2024 Challenge Task 2 (first-shot ASD under domain shift; ToyADMOS2 + MIMII DG):
one section per machine type, source and target domains, attributes (some hidden), and
the official metrics AUC-source, AUC-target and pAUC with their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2024.layout`: official names, folders, archives, eval list;
- :mod:`~asd_lib.corpus.dcase2024.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.domain_shift` (the 2023 evaluator's code with the
  2024 machine types).
"""
from asd_lib.corpus.dcase2024 import layout, synthetic
from asd_lib.corpus.registry import domain_shift_scorer
from asd_lib.corpus.section_corpus import section_corpus
from asd_lib.metrics import domain_shift as metrics

EVALUATOR = metrics.DomainShiftEvaluator("dcase2024", "DCASE 2024 Task 2")

CORPUS = section_corpus(layout.LAYOUT, synthetic.TYPE_MODELS, synthetic.Dcase2024Sizes,
                        synthetic.OFFICIAL_SIZES, domain_shift_scorer(EVALUATOR))
