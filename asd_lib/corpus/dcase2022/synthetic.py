"""Synthetic DCASE 2022 Task 2 corpus: 7 machine types, 6 sections each, domain shift.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2022.layout`) by
:mod:`asd_lib.corpus.section_synthetic`: ``dev_data/<M>`` with sections 00-02 and
``eval_data/<M>`` with sections 03-05, each with ``train/``, ``test/`` and one
``attributes_0X.csv`` per section, plus ``eval_data_list_2022.csv`` (LF) and the
evaluator's ``ground_truth/ground_truth_{data,domain}/`` files; as in the official corpus,
the list gives ToyCar and ToyTrain clips other clips' full names (so other labels and
domains) than the ground truth, which stage 1 uses. Each section is
another machine of the type's family. The types are the development types every year
from 2022 has (:data:`asd_lib.corpus.section_synthetic.DEV_TYPE_MODELS`), numbered from
0000; every section of a type shares its attribute names (the official sections
shift different attributes), so the attributes are illustrative.
"""
import dataclasses
from typing import Dict

from asd_lib.corpus.section_synthetic import DEV_TYPE_MODELS, TypeModel, size_field

TYPE_MODELS: Dict[str, TypeModel] = dict(DEV_TYPE_MODELS)
"""Per-type sound family and attributes (source / target values)."""


@dataclasses.dataclass(frozen=True)
class Dcase2022Sizes:
    """Clips per section (6 per machine type); defaults make a corpus a CPU demo can use."""

    duration: float = size_field(2.0, "clip seconds")
    source_train: int = size_field(16, "source-domain training clips per section")
    target_train: int = size_field(4, "target-domain training clips per section")
    test_per_condition: int = size_field(
        4, "test clips per section, domain and label (source/target x normal/anomaly)")


OFFICIAL_SIZES = Dcase2022Sizes(duration=10.0, source_train=990, target_train=10,
                                test_per_condition=50)
"""The official counts per section: 990 + 10 training clips, 4 x 50 test clips, 10 s."""
