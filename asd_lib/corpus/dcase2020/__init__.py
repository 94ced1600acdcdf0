"""DCASE 2020 Challenge Task 2 (MIMII + ToyADMOS): the machine ID is the section, every
clip is of the source domain, and the official metrics are AUC and pAUC per machine ID.

- :mod:`~asd_lib.corpus.dcase2020.layout`: official names, folders, archives, eval list,
  data preparation;
- :mod:`~asd_lib.corpus.dcase2020.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.dcase2020`.
"""
from asd_lib.corpus.dcase2020 import layout, synthetic
from asd_lib.corpus.registry import Corpus, Scorer, SyntheticLayout, register
from asd_lib.metrics import dcase2020 as metrics
from asd_lib.metrics import resampled

CORPUS = register(Corpus(
    name="dcase2020",
    title="DCASE 2020 Task 2",
    machine_types=layout.MACHINE_TYPES,
    parse_machines=layout.parse_machines,
    prepare_data=layout.prepare_data,
    remote_files=layout.remote_files,
    validators=layout.validators,
    label_scheme="machine_section",
    synthetic=SyntheticLayout(synthetic.write_dcase2020, synthetic.Dcase2020Sizes),
    scorer=Scorer(
        evaluate=metrics.score_dcase2020,
        write_results=metrics.write_results,
        format_markdown=metrics.format_markdown,
        csv_name=metrics.official_csv_name,
        protocols=metrics.PROTOCOLS,
        headline=(("AUC", ("average", "AUC")), ("pAUC", ("average", "pAUC")),
                  ("mAUC", ("average", "mAUC"))),
        resampled=resampled.DCASE2020,
    ),
))
