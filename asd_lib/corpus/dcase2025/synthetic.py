"""Synthetic DCASE 2025 Task 2 corpus: 15 machine types, one section each, domain shift,
hidden attributes and supplemental recordings.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2025.layout`) by
:mod:`asd_lib.corpus.section_synthetic`: ``dev_data/<M>`` for the 7 development types and
``eval_data/<M>`` for the 8 evaluation types, each with ``train/``, ``test/``,
``attributes_00.csv`` and ``supplemental/``, plus ``eval_data_list_2025.csv`` (CRLF). The
development types are those every year from 2022 has
(:data:`asd_lib.corpus.section_synthetic.DEV_TYPE_MODELS`), numbered from 0000 as the
released 2025 names are; bearing, slider, ToyTrain, AutoTrash, Polisher, ScrewFeeder and
ToyPet hide their attributes. The evaluation types' attribute names follow the official
full names (``id_C1_spd_2_mic_2``, ``spd_6_n_D``, ``pow_4_n_A``, ``vol_12000``,
``mic_imp34dt05_mic_pos_A_grind_100_bkg_A``); their values are illustrative.

Supplemental recordings (``supplemental/section_00_<machine|noise>_NNNN_noAttribute.wav``,
from 0001) are the type's normal sound without background, or the background alone; the
official names and which types get which kind are not verified, so both the names and
the kinds here (noise for every other type) are our choice.
"""
import dataclasses
from typing import Dict

from asd_lib.corpus.section_synthetic import DEV_TYPE_MODELS, TypeModel, attr, size_field


def _toy(family: str, ids: str, target_id: str, **kw) -> TypeModel:
    """The ToyADMOS2 naming ``id_<X>_spd_<s>_mic_<m>``."""
    return TypeModel(family, (attr("id", "timbre", ids, target_id),
                              attr("spd", "speed", "1 2", "3"),
                              attr("mic", "timbre", "2", "2 3")), **kw)


_EVAL_MODELS = {
    "AutoTrash": _toy("slider", "A1 B1", "C1"),
    "HomeCamera": _toy("slider", "A1 A2", "B2"),
    "ToyPet": _toy("ToyCar", "A1 B1", "C2"),
    "ToyRCCar": _toy("ToyCar", "A1 B2", "C2"),
    "BandSealer": TypeModel("ToyConveyor", (attr("spd", "speed", "1 2", "5 6"),
                                            attr("n", "background", "D", "E"))),
    "CoffeeGrinder": TypeModel("pump", (attr("mic", "timbre", "imp34dt05", "imp23absu"),
                                        attr("mic_pos", "timbre", "A B", "C"),
                                        attr("grind", "load", "100 300", "300"),
                                        attr("bkg", "background", "A", "E Z"))),
    "Polisher": TypeModel("pump", (attr("pow", "load", "1 2 3", "4 5"),
                                   attr("n", "background", "A", "B"))),
    "ScrewFeeder": TypeModel("ToyConveyor", (attr("vol", "speed", "12000 12750", "15000"),)),
}
TYPE_MODELS: Dict[str, TypeModel] = {
    m: dataclasses.replace(model, supplemental="noise" if i % 2 else "machine")
    for i, (m, model) in enumerate(
        list(DEV_TYPE_MODELS.items()) + list(_EVAL_MODELS.items()))
}
"""Per-type sound family, attributes (source / target values) and supplemental kind."""


@dataclasses.dataclass(frozen=True)
class Dcase2025Sizes:
    """Clips per machine type (one section); defaults make a corpus a CPU demo can use."""

    duration: float = size_field(2.0, "clip seconds")
    source_train: int = size_field(40, "source-domain training clips per machine type")
    target_train: int = size_field(4, "target-domain training clips per machine type")
    test_per_condition: int = size_field(
        8, "test clips per domain and label (source/target x normal/anomaly)")
    supplemental: int = size_field(4, "supplemental recordings per machine type")


OFFICIAL_SIZES = Dcase2025Sizes(duration=10.0, source_train=990, target_train=10,
                                test_per_condition=50, supplemental=100)
"""The official counts: 990 + 10 training clips, 4 x 50 test clips, 100 supplemental
recordings per type; 10 s clips (the official lengths are not verified)."""
