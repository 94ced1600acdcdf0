"""DCASE 2021 Challenge Task 2 (ASD under domain shifted conditions; ToyADMOS2 + MIMII DUE):
the same 7 machine types in the development (sections 00-02) and the evaluation set
(sections 03-05), source and target domains in separate test folders, and the official
metrics AUC and pAUC per section and domain with their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2021.layout`: the year's facts and data preparation;
- :mod:`~asd_lib.corpus.dcase2021.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.dcase2021`.
"""
from asd_lib.corpus.dcase2021 import layout, synthetic
from asd_lib.corpus.registry import Corpus, Scorer, SyntheticLayout, register
from asd_lib.metrics import dcase2021 as metrics
from asd_lib.metrics import resampled
from asd_lib.metrics.domain_shift import HEADLINE

CORPUS = register(Corpus(
    name="dcase2021",
    title="DCASE 2021 Task 2",
    machine_types=layout.MACHINE_TYPES,
    parse_machines=layout.parse_machines,
    prepare_data=layout.prepare_data,
    remote_files=layout.remote_files,
    validators=layout.validators,
    synthetic=SyntheticLayout(synthetic.write_dcase2021, synthetic.Dcase2021Sizes,
                              synthetic.OFFICIAL_SIZES),
    scorer=Scorer(
        evaluate=metrics.score_dcase2021,
        write_results=metrics.write_results,
        format_markdown=metrics.format_markdown,
        csv_name=metrics.official_csv_name,
        protocols=metrics.PROTOCOLS,
        headline=HEADLINE,
        resampled=resampled.DCASE2021,
    ),
))
