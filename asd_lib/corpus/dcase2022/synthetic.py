"""Synthetic DCASE 2022 Task 2 corpus: 7 machine types, 6 sections each, domain shift.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2022.layout`) by
:mod:`asd_lib.corpus.section_synthetic`: ``dev_data/<M>`` with sections 00-02 and
``eval_data/<M>`` with sections 03-05, each with ``train/``, ``test/`` and one
``attributes_0X.csv`` per section, plus ``eval_data_list_2022.csv`` (LF) and the
evaluator's ``ground_truth/ground_truth_{data,domain}/`` files; as in the official corpus,
the list gives ToyCar and ToyTrain clips other clips' full names (so other labels and
domains) than the ground truth, which stage 1 uses. Each section is
another machine of the type's family. The types sound as the development types of the
2024 synthetic corpus (:data:`asd_lib.corpus.dcase2024.synthetic.TYPE_MODELS`), numbered
from 0000; every section of a type shares its attribute names (the official sections
shift different attributes), so the attributes are illustrative.
"""
import dataclasses
from typing import Dict, Optional, Sequence

from asd_lib.corpus.dcase2022.layout import LAYOUT, MACHINE_TYPES
from asd_lib.corpus.dcase2024.synthetic import TYPE_MODELS as TYPE_MODELS_2024
from asd_lib.corpus.section_synthetic import TypeModel, size_field, write_corpus
from asd_lib.corpus.sounds import DEFAULT_SEVERITY

TYPE_MODELS: Dict[str, TypeModel] = {
    m: dataclasses.replace(TYPE_MODELS_2024[m], start=0, long_clips=False) for m in MACHINE_TYPES
}
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


def write_dcase2022(out, seed: int, sizes: Dcase2022Sizes = Dcase2022Sizes(),
                    machines: Optional[Sequence[str]] = None, severity=DEFAULT_SEVERITY,
                    nj: int = 1) -> int:
    """Write a synthetic corpus in the official DCASE 2022 layout; returns the clip count
    (:func:`asd_lib.corpus.section_synthetic.write_corpus`)."""
    return write_corpus(LAYOUT, TYPE_MODELS, out, seed, sizes, machines or MACHINE_TYPES,
                        severity, nj)
