"""DCASE 2022 Challenge Task 2 (ASD applying domain generalization; ToyADMOS2 + MIMII DG):
the same 7 machine types in the development (sections 00-02) and the evaluation set
(sections 03-05), source and target domains, attributes, and the official metrics
AUC-source, AUC-target and pAUC with their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2022.layout`: the year's facts and data preparation;
- :mod:`~asd_lib.corpus.dcase2022.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.domain_shift` with the 2022 evaluator's per-type
  source/target harmonic means (``SPLIT_AS_2022``; Kota-Dohi/dcase2022_evaluator).
"""
from asd_lib.corpus.dcase2022 import layout, synthetic
from asd_lib.corpus.registry import Corpus, SyntheticLayout, domain_shift_scorer, register
from asd_lib.metrics import domain_shift as metrics

EVALUATOR = metrics.DomainShiftEvaluator("dcase2022", "DCASE 2022 Task 2", metrics.SPLIT_AS_2022)

CORPUS = register(Corpus(
    name="dcase2022",
    title="DCASE 2022 Task 2",
    machine_types=layout.MACHINE_TYPES,
    parse_machines=layout.parse_machines,
    prepare_data=layout.prepare_data,
    remote_files=layout.remote_files,
    validators=layout.validators,
    synthetic=SyntheticLayout(synthetic.write_dcase2022, synthetic.Dcase2022Sizes,
                              synthetic.OFFICIAL_SIZES),
    scorer=domain_shift_scorer(EVALUATOR),
))
