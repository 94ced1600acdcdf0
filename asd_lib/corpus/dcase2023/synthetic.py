"""Synthetic DCASE 2023 Task 2 corpus: 14 machine types, one section each, domain shift.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2023.layout`) by
:mod:`asd_lib.corpus.section_synthetic`: ``dev_data/<M>`` for the 7 development types and
``eval_data/<M>`` for the 7 evaluation types, each with ``train/``, ``test/`` and
``attributes_00.csv``, plus ``eval_data_list_2023.csv`` (CRLF). The development types are
those every year from 2022 has (:data:`asd_lib.corpus.section_synthetic.DEV_TYPE_MODELS`),
numbered from 0000 as the 2023 development names are; the evaluation types' attribute
names follow the official full names (``vel_15``, ``grindstone_3_plate_3``,
``speed_1000``, ``car_C1_spd_1_mic_2``), their values are illustrative, and the toy types
number their clips from 0001 as their official full names do.
"""
import dataclasses
from typing import Dict

from asd_lib.corpus.section_synthetic import DEV_TYPE_MODELS, TypeModel, attr, size_field

TYPE_MODELS: Dict[str, TypeModel] = {
    **DEV_TYPE_MODELS,
    "bandsaw": TypeModel("fan", (attr("vel", "speed", "5 10", "15"),)),
    "grinder": TypeModel("pump", (attr("grindstone", "timbre", "1 2", "3"),
                                  attr("plate", "load", "1 2", "3"))),
    "shaker": TypeModel("slider", (attr("speed", "speed", "600 800", "1000"),)),
    "ToyDrone": TypeModel("fan", (attr("car", "timbre", "A1 A2", "C1"),
                                  attr("spd", "speed", "1 2", "1"),
                                  attr("mic", "timbre", "1", "2")), start=1),
    "ToyNscale": TypeModel("ToyConveyor", (attr("car", "timbre", "A1 A2", "B2"),
                                           attr("spd", "speed", "1 2", "3"),
                                           attr("mic", "timbre", "1", "1")), start=1),
    "ToyTank": TypeModel("ToyCar", (attr("car", "timbre", "A1 A2", "C1"),
                                    attr("spd", "speed", "1 2", "1"),
                                    attr("mic", "timbre", "1", "1")), start=1),
    "Vacuum": TypeModel("fan", (attr("car", "timbre", "A1 A2", "C2"),
                                attr("spd", "speed", "L M", "H"),
                                attr("mic", "timbre", "1", "2")), start=1),
}
"""Per-type sound family, attributes (source / target values) and naming quirks."""


@dataclasses.dataclass(frozen=True)
class Dcase2023Sizes:
    """Clips per machine type (one section); defaults make a corpus a CPU demo can use."""

    duration: float = size_field(2.0, "clip seconds")
    source_train: int = size_field(40, "source-domain training clips per machine type")
    target_train: int = size_field(4, "target-domain training clips per machine type")
    test_per_condition: int = size_field(
        8, "test clips per domain and label (source/target x normal/anomaly)")


OFFICIAL_SIZES = Dcase2023Sizes(duration=10.0, source_train=990, target_train=10,
                                test_per_condition=50)
"""The official counts: 990 + 10 training clips, 4 x 50 test clips (the evaluation types
bandsaw, grinder and shaker have uneven groups), 10 s clips."""
