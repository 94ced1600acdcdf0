"""Synthetic DCASE 2021 Task 2 corpus: 7 machine types, 6 sections each, domain shift.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2021.layout`) by
:mod:`asd_lib.corpus.section_synthetic`: ``dev_data/<M>`` with sections 00-02 and
``eval_data/<M>`` with sections 03-05, each with ``train/``, ``source_test/`` and
``target_test/`` (no attribute files in 2021), plus ``eval_data_list_2021.csv`` (CRLF). Each
section is another machine of the type's family; the target domain has 3 training clips
per section in the official sizes. Training names end with free-form attribute strings
after the official examples (``strength_1``, ``serial_no_030``, ``pattern_00``, and the
toys' ``A1Spd28VMic1``); their values are illustrative. Test names carry no attributes;
the evaluation test names keep the domain and the full names in the list use the
evaluation index, as the official list does.
"""
import dataclasses
from typing import Dict

from asd_lib.corpus.section_synthetic import TypeModel, attr, size_field

TYPE_MODELS: Dict[str, TypeModel] = {
    "fan": TypeModel("fan", (attr("strength", "speed", "1 2", "3"),)),
    "gearbox": TypeModel("ToyCar", (attr("wt", "load", "0 50", "100"),
                                    attr("mV", "speed", "1500 2000", "2500"))),
    "pump": TypeModel("pump", (attr("serial_no", "timbre", "010 020", "030"),)),
    "slider": TypeModel("slider", (attr("vel", "speed", "300 500", "900"),)),
    "ToyCar": TypeModel("ToyCar", (attr("", "timbre", "A1 A2", "B1"),
                                   attr("Spd", "speed", "28V 31V", "31V"),
                                   attr("Mic", "timbre", "1", "2")), compact=True),
    "ToyTrain": TypeModel("ToyConveyor", (attr("", "timbre", "A1 A2", "C2"),
                                          attr("Spd", "speed", "6 8", "6"),
                                          attr("Mic", "timbre", "1", "1")), compact=True),
    "valve": TypeModel("valve", (attr("pattern", "timbre", "00 01", "02"),)),
}
"""Per-type sound family, attributes (source / target values) and naming style."""


@dataclasses.dataclass(frozen=True)
class Dcase2021Sizes:
    """Clips per section (6 per machine type); defaults make a corpus a CPU demo can use."""

    duration: float = size_field(2.0, "clip seconds")
    source_train: int = size_field(16, "source-domain training clips per section")
    target_train: int = size_field(3, "target-domain training clips per section")
    test_per_condition: int = size_field(
        4, "test clips per section, domain and label (source/target x normal/anomaly)")


OFFICIAL_SIZES = Dcase2021Sizes(duration=10.0, source_train=1000, target_train=3,
                                test_per_condition=100)
"""The official counts per section: 1000 + 3 training clips, 100 normal and 100 anomalous
test clips per domain (gearbox and slider's evaluation test sets are uneven), 10 s."""
