"""DCASE 2025 Challenge Task 2 (first-shot unsupervised ASD): the layout's facts.

Sources of the facts below:

* machine types (7 development types; 8 other evaluation types), one section ``00`` per
  type, folders and file names, the types whose attributes are hidden (development
  bearing, slider, ToyTrain; evaluation AutoTrash, Polisher, ScrewFeeder, ToyPet: names
  end ``_NNNN_noAttribute.wav`` in training and test) and the ``supplemental/`` folders:
  the organisers' baseline ``nttcslab/dcase2023_task2_baseline_ae`` (branch
  ``2025t2/v4.x.x``: ``README.md``, ``data_download_2025{dev,add,eval}.sh``;
  ``main``: ``datasets/machine_type_2025_{dev,eval}.yaml``,
  ``datasets/ground_truth_attributes/dcase2025t2``) and the task description (Nishida et
  al., "Description and discussion on DCASE 2025 challenge task 2", arXiv 2506.10097);
* archives: Zenodo records 15097779 (development ``dev_<M>.zip``; the README's
  ``dev_data_<M>.zip`` is not the released name), 15392814 (additional training
  ``eval_data_<M>_train.zip``) and 15519362 (evaluation test ``eval_data_<M>_test.zip``),
  as ``tools/data_download_2025.sh`` fetches them (``zenodo.org/records/``). No MD5 sums
  are published: a download is checked by the CRC32 of every zip member
  (:func:`asd_lib.corpus.download.check_zip`);
* the evaluation list ``datasets/eval_data_list_2025.csv`` of the baseline (CRLF; rows
  ``section_00_0000.wav,section_00_target_test_anomaly_0012_id_C1_spd_2_mic_2.wav``; unlike
  the 2024 list, its full names show the attributes that the files of AutoTrash,
  Polisher, ScrewFeeder and ToyPet hide). The code and ground-truth files of the
  official evaluator (nttcslab/dcase2025_task2_evaluator) were not available: its README
  documents the 2023 evaluator's inputs, layout and official score, which the scorer
  (:mod:`asd_lib.metrics.domain_shift`) computes. So the labels and domains of the
  evaluation test clips come from the list and could not be checked against the
  evaluator's ground truth (:mod:`asd_lib.corpus.ground_truth`), as they were for
  2021-2024 (where the list disagrees for DCASE 2022 ToyCar and ToyTrain).

Irregularities: CoffeeGrinder's attribute values contain underscores
(``mic_imp34dt05_mic_pos_A_grind_100_bkg_A``), so attribute strings are never split; the
indices of the full names are not contiguous for some types; clip lengths are not
verified (read from the files).

The supplemental recordings (clean machine sound or noise only, 100 per type according
to the README listing ``supplemental/section_00_machine_0001_<attr>.wav`` ..
``_0100_``) come inside the development and additional-training archives. Their file
name grammar, and which types have machine or noise recordings, could not be verified:
data preparation globs the folder (``supplemental=True`` writes ``data/supplemental``;
``supplemental_in_train=True`` adds the recordings to the training set as an extra,
optional training set; :mod:`asd_lib.corpus.section_prepare`). No system uses them by
default, nor does the official baseline.
"""
from typing import Tuple

from asd_lib.corpus.section_layout import Archives, SectionLayout

DEV_TYPES: Tuple[str, ...] = ("bearing", "fan", "gearbox", "slider", "ToyCar", "ToyTrain", "valve")
EVAL_TYPES: Tuple[str, ...] = ("AutoTrash", "HomeCamera", "ToyPet", "ToyRCCar", "BandSealer",
                               "CoffeeGrinder", "Polisher", "ScrewFeeder")
MACHINE_TYPES: Tuple[str, ...] = DEV_TYPES + EVAL_TYPES
HIDDEN = ("train", "test")

LAYOUT = SectionLayout(
    name="dcase2025",
    title="DCASE 2025",
    dev_types=DEV_TYPES,
    eval_types=EVAL_TYPES,
    dev_sections=("00",),
    eval_sections=("00",),
    archives=Archives(dev_record="records/15097779", train_record="records/15392814",
                      test_record="records/15519362"),
    eval_list_line_end="\r\n",
    supplemental=True,
    listed_attributes_hidden=False,
    hidden_attributes={m: HIDDEN for m in ("bearing", "slider", "ToyTrain", "AutoTrash",
                                           "Polisher", "ScrewFeeder", "ToyPet")},
)
