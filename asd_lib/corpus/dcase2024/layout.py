"""DCASE 2024 Challenge Task 2 (first-shot ASD under domain shift): the layout's facts.

Sources of the facts below:

* machine types, the one section per type, file names, hidden attributes and the
  ``attributes_00.csv`` layout: the task description (Nishida et al., "Description and
  discussion on DCASE 2024 Challenge Task 2", arXiv 2406.07250) and the official baseline
  ``nttcslab/dcase2023_task2_baseline_ae`` (``tools/data_download_2024.sh``);
* archive URLs: Zenodo records 10902294 (development, ``dev_<M>.zip``), 11259435 (additional
  training, ``eval_data_<M>_train[_r2].zip``) and 11363076 (evaluation test,
  ``eval_data_<M>_test.zip``), as fetched by that script. No MD5 sums of these archives are
  published in the baseline, the evaluator or a dataset loader (soundata stops at 2023), so a
  download is checked by size (non-empty) and by the CRC32 of every zip member instead
  (:func:`asd_lib.corpus.download.check_zip`);
* the evaluation ground truth ``eval_data_list_2024.csv``: it is not on Zenodo but in the
  baseline repository (``datasets/eval_data_list_2024.csv``, read by its
  ``tools/rename_eval_wav.py``); rows are ``section_00_NNNN.wav,<full name>`` under a
  machine-type header row, with CRLF line endings; the label and domain are read from the
  full name. No checksum is published, so a download is checked by parsing it
  (:meth:`~asd_lib.corpus.section_layout.SectionLayout.read_eval_list`); the attributes
  come from it;
* the labels and domains of the evaluation test clips: the official evaluator
  ``nttcslab/dcase2024_task2_evaluator`` (commit b5d17f6, ``ground_truth_data/`` and
  ``ground_truth_domain/``; :mod:`asd_lib.corpus.ground_truth`), downloaded into
  ``<corpus>/ground_truth/``; the list agrees with it on all 1,800 clips.

Official irregularities handled here: the first index of a numbering is 0000 or 0001
depending on the type (never assumed); attributes are usually ``key_value`` pairs but not
always (RoboticArm ``weight15_BckgF``, BrushlessMotor ``spd1000_BckgC``) and are hidden
(``noAttribute``) for some types; RoboticArm's full eval test names have no ``test`` token.

The layout is the one every year from 2021 shares (:mod:`asd_lib.corpus.section_layout`);
data preparation (:mod:`asd_lib.corpus.section_prepare`) writes ``train`` (dev train +
additional train of the evaluation types), ``dev_test`` and ``eval_test``; with
``separate_eval_train`` the additional training clips go to ``eval_train`` instead of
``train`` (for systems trained per split).
"""
from typing import Dict, Tuple

from asd_lib.corpus import evaluator_sums
from asd_lib.corpus.ground_truth import Evaluator
from asd_lib.corpus.section_layout import Archives, SectionLayout

DEV_TYPES: Tuple[str, ...] = ("bearing", "fan", "gearbox", "slider", "ToyCar", "ToyTrain", "valve")
EVAL_TYPES: Tuple[str, ...] = ("3DPrinter", "AirCompressor", "Scanner", "ToyCircuit",
                               "HoveringDrone", "HairDryer", "ToothBrush", "RoboticArm",
                               "BrushlessMotor")
MACHINE_TYPES: Tuple[str, ...] = DEV_TYPES + EVAL_TYPES

HIDDEN_ATTRIBUTES: Dict[str, Tuple[str, ...]] = {
    "gearbox": ("train", "test"), "slider": ("train", "test"), "ToyTrain": ("train", "test"),
    "AirCompressor": ("train", "test"), "HoveringDrone": ("train", "test"),
    "ToothBrush": ("train", "test"), "BrushlessMotor": ("train",),
}
"""Machine type -> splits whose names end ``_NNNN_noAttribute.wav``."""

LAYOUT = SectionLayout(
    name="dcase2024",
    title="DCASE 2024",
    dev_types=DEV_TYPES,
    eval_types=EVAL_TYPES,
    dev_sections=("00",),
    eval_sections=("00",),
    archives=Archives(
        dev_record="record/10902294",
        train_record="records/11259435",
        test_record="records/11363076",
        renamed={f"eval_data_{m}_train.zip": f"eval_data_{m}_train_r2.zip"
                 for m in ("3DPrinter", "RoboticArm")},
    ),
    eval_list_line_end="\r\n",
    hidden_attributes=HIDDEN_ATTRIBUTES,
    no_test_token=("RoboticArm",),
    evaluator=Evaluator("nttcslab/dcase2024_task2_evaluator",
                        "b5d17f63769bf4372a5412a7ede1f814c9590047",
                        evaluator_sums.DCASE2024),
)
"""3DPrinter and RoboticArm were re-released (``_r2``); the first releases are superseded.
RoboticArm's full eval test names (in the eval list) omit the ``test`` token:
``section_00_source_normal_0035_weight15_BckgF.wav``."""
