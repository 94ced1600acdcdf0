"""DCASE 2024 Challenge Task 2 (first-shot ASD under domain shift; ToyADMOS2 + MIMII DG):
one section per machine type, source and target domains, attributes (some hidden), and
the official metrics AUC-source, AUC-target and pAUC with their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2024.layout`: official names, folders, archives, eval list,
  data preparation;
- :mod:`~asd_lib.corpus.dcase2024.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.domain_shift` (the 2023 evaluator's code with the
  2024 machine types).
"""
from asd_lib.corpus.dcase2024 import layout, synthetic
from asd_lib.corpus.registry import Corpus, SyntheticLayout, domain_shift_scorer, register
from asd_lib.metrics import domain_shift as metrics

EVALUATOR = metrics.DomainShiftEvaluator("dcase2024", "DCASE 2024 Task 2")

CORPUS = register(Corpus(
    name="dcase2024",
    title="DCASE 2024 Task 2",
    machine_types=layout.MACHINE_TYPES,
    parse_machines=layout.parse_machines,
    prepare_data=layout.prepare_data,
    prepare_options=("separate_eval_train",),
    remote_files=layout.remote_files,
    validators=layout.validators,
    synthetic=SyntheticLayout(synthetic.write_dcase2024, synthetic.Dcase2024Sizes,
                              synthetic.OFFICIAL_SIZES),
    scorer=domain_shift_scorer(EVALUATOR),
))
