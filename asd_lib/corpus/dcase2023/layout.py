"""DCASE 2023 Challenge Task 2 (first-shot unsupervised ASD): the layout's facts.

Sources of the facts below:

* machine types (7 development types; 7 other evaluation types, ``bandsaw``, ``grinder``,
  ``shaker`` in lower case), one section ``00`` per type, folders and file names: the
  organisers' baseline ``nttcslab/dcase2023_task2_baseline_ae`` (``README_legacy.md``,
  ``datasets/machine_type_2023_{dev,eval}.yaml``, ``tools/data_download_2023.sh``) and the
  task description (Dohi et al., "Description and discussion on DCASE 2023 challenge task
  2", arXiv 2305.07828);
* archives: Zenodo records 7882613 (development ``dev_<M>.zip``, the re-release with fixed
  attributes of 2023-05-01 that supersedes records 7690148 and 7690157), 7830345
  (additional training ``eval_data_<M>_train.zip``) and 7860847 (evaluation test
  ``eval_data_<M>_test.zip``), as ``tools/data_download_2023.sh`` fetches them; their MD5
  sums as soundata publishes them (``soundata/datasets/dcase23_task2.py``, ``REMOTES``);
* the evaluation list ``datasets/eval_data_list_2023.csv`` of the baseline (CRLF; rows
  ``section_00_0005.wav,section_00_source_test_anomaly_0005_vel_15.wav``), which gives the
  attributes. No checksum is published for it: a download is checked by parsing it;
* the labels and domains of the evaluation test clips: the evaluator
  ``nttcslab/dcase2023_task2_evaluator`` (commit 3aa8a9f, ``ground_truth_data/`` and
  ``ground_truth_domain/``; :mod:`asd_lib.corpus.ground_truth`), downloaded into
  ``<corpus>/ground_truth/``; the list agrees with it on all 1,400 clips.

Irregularities: the full names of the ToyDrone, ToyNscale, ToyTank and Vacuum evaluation
clips number each (domain, label) from 0001 and are shuffled against the evaluation
index; bandsaw, grinder and shaker have uneven numbers of clips per (domain, label). No
attribute is hidden in 2023. Clip lengths of the evaluation types are not verified
(the development clips are 10 s): they are read from the files.
"""
from typing import Dict, Tuple

from asd_lib.corpus import evaluator_sums
from asd_lib.corpus.ground_truth import Evaluator
from asd_lib.corpus.section_layout import Archives, SectionLayout

DEV_TYPES: Tuple[str, ...] = ("bearing", "fan", "gearbox", "slider", "ToyCar", "ToyTrain", "valve")
EVAL_TYPES: Tuple[str, ...] = ("bandsaw", "grinder", "shaker", "ToyDrone", "ToyNscale", "ToyTank",
                               "Vacuum")
MACHINE_TYPES: Tuple[str, ...] = DEV_TYPES + EVAL_TYPES

ARCHIVE_MD5: Dict[str, str] = {
    "dev_bearing.zip": "8a813bc8d8f156b5395bfccdfac7673c",
    "dev_fan.zip": "9348591e96fb0ad499a1e33b082562fc",
    "dev_gearbox.zip": "b6e55f6a31faa0fc8569ec0afdd53ccf",
    "dev_slider.zip": "b3f8dee36b4718c36d659a4fd1c4afe0",
    "dev_ToyCar.zip": "4e3bf15f4101ed4ed4f1fecde2e2b2a3",
    "dev_ToyTrain.zip": "6b02a6c65eebb3b8b1ae59a6b25bb897",
    "dev_valve.zip": "b2051a2022eadb53cd97581120811cae",
    "eval_data_bandsaw_train.zip": "9274dfe63de028743823f1123f8b4b47",
    "eval_data_grinder_train.zip": "17569c1f9df23621a0dbabc430684a35",
    "eval_data_shaker_train.zip": "35f821b5645b731fb5a1750e33b95fc3",
    "eval_data_ToyDrone_train.zip": "7fea367d1384a1521ae24f72203238de",
    "eval_data_ToyNscale_train.zip": "9332822f3e47afd984c01f2ecb5ca3af",
    "eval_data_ToyTank_train.zip": "b1fd3ab7de7561290df2d477de1c9d33",
    "eval_data_Vacuum_train.zip": "1c8de33d9a8c7850a1f7aaddb97d87be",
    "eval_data_bandsaw_test.zip": "2a8e8f39f6584ab366a8f4da52d4d7a6",
    "eval_data_grinder_test.zip": "631b3e1608b6077772829a6e68c82c77",
    "eval_data_shaker_test.zip": "ba98c98caa96051ec80e24e44b8fca56",
    "eval_data_ToyDrone_test.zip": "fdae7b8d1f4cadb2bea88bc93e2367db",
    "eval_data_ToyNscale_test.zip": "62f5f5043d8fb3a305b1c2e1025872de",
    "eval_data_ToyTank_test.zip": "f5639bf58c47169c622751f19c6fc321",
    "eval_data_Vacuum_test.zip": "a32524fd8c45b574a560685b38acc4e1",
}
"""MD5 of the 21 official archives (soundata's dcase23_task2 loader)."""

LAYOUT = SectionLayout(
    name="dcase2023",
    title="DCASE 2023",
    dev_types=DEV_TYPES,
    eval_types=EVAL_TYPES,
    dev_sections=("00",),
    eval_sections=("00",),
    archives=Archives(dev_record="record/7882613", train_record="record/7830345",
                      test_record="record/7860847", md5=ARCHIVE_MD5),
    eval_list_line_end="\r\n",
    evaluator=Evaluator("nttcslab/dcase2023_task2_evaluator",
                        "3aa8a9fe09a9a55d9dccb74fd4f17ba9791fb5ea",
                        evaluator_sums.DCASE2023),
)
