"""Synthetic DCASE 2024 Task 2 corpus: 16 machine types, one section each, domain shift.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2024.layout`) by
:mod:`asd_lib.corpus.section_synthetic` (sound, attributes, domain shift, anomalies):
``dev_data/<M>`` for the 7 development types and ``eval_data/<M>`` for the 9 evaluation
types, each with ``train/``, ``test/`` and ``attributes_00.csv``, plus
``eval_data_list_2024.csv`` (CRLF) that maps the eval test files ``section_00_NNNN.wav`` to
their full names.

**Names** follow the official irregularities, varied over the types: the first index is
0000 or 0001; some types number the target clips after the source ones (RoboticArm
0050-0099 after 0000-0049); RoboticArm and BrushlessMotor join attribute name and value
(``weight15_BckgF``, ``spd1000_BckgC``); RoboticArm's full eval names have no ``test`` token;
eval test indices start at 0000 or 0001. The attribute names of types whose attributes the
task description does not list are illustrative.
"""
import dataclasses
from typing import Dict

from asd_lib.corpus.section_synthetic import DEV_TYPE_MODELS, TypeModel, attr, size_field

TYPE_MODELS: Dict[str, TypeModel] = {
    **DEV_TYPE_MODELS,
    "ToyCar": dataclasses.replace(DEV_TYPE_MODELS["ToyCar"], start=1, long_clips=True),
    "ToyTrain": dataclasses.replace(DEV_TYPE_MODELS["ToyTrain"], start=1, long_clips=True),
    "3DPrinter": TypeModel("slider", (attr("mdl", "timbre", "A", "B"),
                                      attr("spd", "speed", "1 2", "2 3")),
                           start=1, eval_start=1),
    "AirCompressor": TypeModel("pump", (attr("prs", "load", "1 2", "3"),), start=1, eval_start=1),
    "Scanner": TypeModel("slider", (attr("res", "timbre", "1", "2"),
                                    attr("len", "speed", "2 3", "1")), start=1, eval_start=1),
    "ToyCircuit": TypeModel("ToyConveyor", (attr("id", "timbre", "A1 A2 B1", "C1"),
                                            attr("spd", "speed", "1 2", "4"),
                                            attr("mic", "timbre", "1", "2")),
                            start=1, long_clips=True),
    "HoveringDrone": TypeModel("fan", (attr("prop", "timbre", "A B", "C"),
                                       attr("spd", "speed", "1 2", "3")),
                               start=1, long_clips=True),
    "HairDryer": TypeModel("fan", (attr("mdl", "timbre", "A B", "C"),
                                   attr("spd", "speed", "1 2", "3"))),
    "ToothBrush": TypeModel("ToyCar", (attr("mdl", "timbre", "A B", "C"),
                                       attr("mode", "load", "1 2", "3")), start=1),
    "RoboticArm": TypeModel("slider", (attr("weight", "load", "00 15", "30"),
                                       attr("Bckg", "background", "A C", "B E")),
                            target_after_source=True, joined=True),
    "BrushlessMotor": TypeModel("pump", (attr("spd", "speed", "1000 2000", "1500"),
                                         attr("Bckg", "background", "A C", "G")),
                                target_after_source=True, joined=True),
}
"""Per-type sound family, attributes (source / target values) and naming quirks: the
development types of every year from 2022
(:data:`asd_lib.corpus.section_synthetic.DEV_TYPE_MODELS`), ToyCar and ToyTrain numbered
from 0001 with clips 20% longer, and the 9 evaluation types."""


@dataclasses.dataclass(frozen=True)
class Dcase2024Sizes:
    """Clips per machine type (one section); defaults make a corpus a CPU demo can use."""

    duration: float = size_field(
        2.0, "clip seconds (ToyCar, ToyTrain, ToyCircuit, HoveringDrone 20%% longer)")
    source_train: int = size_field(40, "source-domain training clips per machine type")
    target_train: int = size_field(4, "target-domain training clips per machine type")
    test_per_condition: int = size_field(
        8, "test clips per domain and label (source/target x normal/anomaly)")


OFFICIAL_SIZES = Dcase2024Sizes(duration=10.0, source_train=990, target_train=10,
                                test_per_condition=50)
"""The official counts: 990 + 10 training clips, 4 x 50 test clips, 10 s (12 s) clips."""
