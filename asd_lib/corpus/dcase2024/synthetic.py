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
from typing import Dict, Optional, Sequence

from asd_lib.corpus.dcase2024.layout import LAYOUT, MACHINE_TYPES
from asd_lib.corpus.section_synthetic import TypeModel, attr, size_field, write_corpus
from asd_lib.corpus.sounds import DEFAULT_SEVERITY

TYPE_MODELS: Dict[str, TypeModel] = {
    "bearing": TypeModel("ToyConveyor", (attr("vel", "speed", "6 10 14", "22"),
                                         attr("loc", "timbre", "A B", "A B"))),
    "fan": TypeModel("fan", (attr("m-n", "background", "W X", "Y Z"),)),
    "gearbox": TypeModel("ToyCar", (attr("volt", "speed", "1.0 1.3", "1.8"),
                                    attr("wt", "load", "0 30", "80"))),
    "slider": TypeModel("slider", (attr("vel", "speed", "300 500", "900"),
                                   attr("ac", "load", "0.1 0.3", "0.5"))),
    "ToyCar": TypeModel("ToyCar", (attr("car", "timbre", "A1 A2", "B1"),
                                   attr("spd", "speed", "28V 31V", "31V"),
                                   attr("mic", "timbre", "1", "2")), start=1, long_clips=True),
    "ToyTrain": TypeModel("ToyConveyor", (attr("train", "timbre", "A1 A2", "B1"),
                                          attr("spd", "speed", "3 4", "5")),
                          start=1, long_clips=True),
    "valve": TypeModel("valve", (attr("v1pat", "timbre", "00 01", "02"),
                                 attr("v2pat", "timbre", "00", "01"))),
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
"""Per-type sound family, attributes (source / target values) and naming quirks."""


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


def write_dcase2024(out, seed: int, sizes: Dcase2024Sizes = Dcase2024Sizes(),
                    machines: Optional[Sequence[str]] = None, severity=DEFAULT_SEVERITY,
                    nj: int = 1) -> int:
    """Write a synthetic corpus in the official DCASE 2024 layout; returns the clip count
    (:func:`asd_lib.corpus.section_synthetic.write_corpus`: resumable, byte-identical for
    any ``nj``)."""
    return write_corpus(LAYOUT, TYPE_MODELS, out, seed, sizes, machines or MACHINE_TYPES,
                        severity, nj)
