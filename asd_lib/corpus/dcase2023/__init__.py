"""DCASE 2023 Challenge Task 2 (first-shot unsupervised ASD; ToyADMOS2 + MIMII DG): one
section per machine type, other types in the evaluation set than in the development set,
source and target domains, and the official metrics AUC-source, AUC-target and pAUC with
their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2023.layout`: the year's facts and data preparation;
- :mod:`~asd_lib.corpus.dcase2023.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.domain_shift` (nttcslab/dcase2023_task2_evaluator).
"""
from asd_lib.corpus.dcase2023 import layout, synthetic
from asd_lib.corpus.registry import Corpus, SyntheticLayout, domain_shift_scorer, register
from asd_lib.metrics import domain_shift as metrics

EVALUATOR = metrics.DomainShiftEvaluator("dcase2023", "DCASE 2023 Task 2")

CORPUS = register(Corpus(
    name="dcase2023",
    title="DCASE 2023 Task 2",
    machine_types=layout.MACHINE_TYPES,
    parse_machines=layout.parse_machines,
    prepare_data=layout.prepare_data,
    prepare_options=("separate_eval_train",),
    remote_files=layout.remote_files,
    validators=layout.validators,
    synthetic=SyntheticLayout(synthetic.write_dcase2023, synthetic.Dcase2023Sizes,
                              synthetic.OFFICIAL_SIZES),
    scorer=domain_shift_scorer(EVALUATOR),
))
