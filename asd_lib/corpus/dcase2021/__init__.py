"""DCASE 2021 Challenge Task 2 (ASD under domain shifted conditions; ToyADMOS2 + MIMII DUE):
the same 7 machine types in the development (sections 00-02) and the evaluation set
(sections 03-05), source and target domains in separate test folders, and the official
metrics AUC and pAUC per section and domain with their harmonic mean.

- :mod:`~asd_lib.corpus.dcase2021.layout`: the year's facts;
- :mod:`~asd_lib.corpus.dcase2021.synthetic`: the synthetic corpus in that layout;
- the evaluator: :mod:`asd_lib.metrics.dcase2021`.
"""
from asd_lib.corpus.dcase2021 import layout, synthetic
from asd_lib.corpus.registry import Scorer
from asd_lib.corpus.section_corpus import section_corpus
from asd_lib.metrics import dcase2021 as metrics
from asd_lib.metrics import resampled
from asd_lib.metrics.domain_shift import HEADLINE

CORPUS = section_corpus(
    layout.LAYOUT, synthetic.TYPE_MODELS, synthetic.Dcase2021Sizes, synthetic.OFFICIAL_SIZES,
    Scorer(
        evaluate=metrics.score_dcase2021,
        write_results=metrics.write_results,
        format_markdown=metrics.format_markdown,
        csv_name=metrics.official_csv_name,
        protocols=metrics.PROTOCOLS,
        headline=HEADLINE,
        resampled=resampled.DCASE2021,
    ),
    label_scheme="machine_section",
)
