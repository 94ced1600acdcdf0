"""DCASE 2022 Challenge Task 2 (ASD applying domain generalization): the layout's facts.

Sources of the facts below:

* machine types (the same 7 in the development and the evaluation set), sections 00-02
  (development) and 03-05 (additional training and evaluation test), folders and file
  names (test names carry the attributes; evaluation test files are
  ``section_03_0000.wav``): the baseline ``Kota-Dohi/dcase2022_task2_baseline_ae``
  (``README.md``), the organisers' later baseline ``nttcslab/dcase2023_task2_baseline_ae``
  (``README_legacy.md``, ``datasets/machine_type_legacy.yaml``,
  ``tools/data_download_2022.sh``) and the task description (Dohi et al., "Description and
  discussion on DCASE 2022 challenge task 2", arXiv 2206.05876);
* archives: Zenodo records 6355122 (development ``dev_<M>.zip``; the README's
  ``dev_data_<M>.zip`` is not the released name), 6462969 (additional training
  ``eval_data_<M>_train.zip``) and 6586456 (evaluation test ``eval_data_<M>_test.zip``), as
  ``tools/data_download_2022.sh`` fetches them. No MD5 sums are published: a download is
  checked by the CRC32 of every zip member (:func:`asd_lib.corpus.download.check_zip`);
* the evaluation list ``datasets/eval_data_list_2022.csv`` of the 2023 baseline (LF line
  endings, unlike the other years; rows
  ``section_03_0000.wav,section_03_source_test_normal_0000_vel_21.wav``), which gives the
  attributes;
* the labels and domains of the evaluation test clips: the official evaluator
  ``Kota-Dohi/dcase2022_evaluator`` (commit de8719b, ``ground_truth_data/`` and
  ``ground_truth_domain/``; :mod:`asd_lib.corpus.ground_truth`), downloaded into
  ``<corpus>/ground_truth/``. For ToyCar and ToyTrain the list disagrees with it on 608 of
  1,200 labels and 592 of 1,200 domains (e.g. ToyCar ``section_03_0001.wav``: target in the
  list, source in ``ground_truth_domain``); it agrees only with the
  ``ground_truth_attributes/`` folder the evaluator repository added later. The challenge
  was ranked with ``ground_truth_data/`` and ``ground_truth_domain/``, so stage 1 uses
  them. The other five types agree on all 3,000 clips.

Irregularities: each section has its own domain-shift attributes (``attributes_0X.csv``
per section); attribute values contain ``.``, ``-`` or ``V`` (``volt_3.0``, ``m-n_X``,
``spd_34V``); the ToyCar and ToyTrain full names number each (domain, label) from 0000 and
are shuffled against the evaluation index, the other types' full names keep it.
"""
from typing import Tuple

from asd_lib.corpus import evaluator_sums
from asd_lib.corpus.ground_truth import Evaluator
from asd_lib.corpus.section_layout import Archives, SectionLayout

MACHINE_TYPES: Tuple[str, ...] = ("bearing", "fan", "gearbox", "slider", "ToyCar", "ToyTrain",
                                  "valve")

LAYOUT = SectionLayout(
    name="dcase2022",
    title="DCASE 2022",
    dev_types=MACHINE_TYPES,
    eval_types=MACHINE_TYPES,
    dev_sections=("00", "01", "02"),
    eval_sections=("03", "04", "05"),
    archives=Archives(dev_record="record/6355122", train_record="record/6462969",
                      test_record="record/6586456"),
    eval_list_line_end="\n",
    evaluator=Evaluator("Kota-Dohi/dcase2022_evaluator",
                        "de8719b7d35280ff3a39487c9d1003413eef7818",
                        evaluator_sums.DCASE2022),
    list_disagrees=("ToyCar", "ToyTrain"),
)
