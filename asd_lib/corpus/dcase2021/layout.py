"""DCASE 2021 Challenge Task 2 (ASD under domain shifted conditions): the layout's facts.

Sources of the facts below:

* machine types (the same 7 in the development and the evaluation set), sections 00-02
  (development) and 03-05 (additional training and evaluation test), folders and file
  names: the baseline ``y-kawagu/dcase2021_task2_baseline_ae`` (``README.md``), the
  organisers' later baseline ``nttcslab/dcase2023_task2_baseline_ae``
  (``README_legacy.md``, ``datasets/machine_type_legacy.yaml``,
  ``tools/data_download_2021.sh``) and the task description (Kawaguchi et al.,
  "Description and discussion on DCASE 2021 challenge task 2", arXiv 2106.04492);
* archives: Zenodo records 4562016 (development ``dev_data_<M>.zip``), 4660992
  (additional training ``eval_data_<M>_train.zip``) and 4884786 (evaluation test
  ``eval_data_<M>_test.zip``), as ``tools/data_download_2021.sh`` fetches them (the 2021
  README's ``eval_data_train_<M>.zip`` is not the released name). No MD5 sums are
  published: a download is checked by the CRC32 of every zip member
  (:func:`asd_lib.corpus.download.check_zip`);
* the evaluation list ``datasets/eval_data_list_2021.csv`` of the 2023 baseline (CRLF;
  rows ``section_03_source_test_0000.wav,section_03_source_test_anomaly_0000.wav``: the
  label is in the full name), which gives the attributes;
* the labels and domains of the evaluation test clips: the official evaluator
  ``y-kawagu/dcase2021_task2_evaluator`` (commit 1787468,
  ``ground_truth_data/ground_truth_<M>_section_<SS>_<domain>_test.csv``;
  :mod:`asd_lib.corpus.ground_truth`), downloaded into ``<corpus>/ground_truth/``. The list
  agrees with it on all 8,635 clips.

What makes 2021 differ from the later years: the test clips lie in ``source_test/`` and
``target_test/`` (no ``test/``), their names carry no attributes
(``section_00_source_test_normal_0000.wav``) and the evaluation test names keep the
domain (``section_03_target_test_0012.wav``), so the official score files are one per
domain (:mod:`asd_lib.metrics.dcase2021`). Training attribute strings are free-form
(``strength_1_ambient``, ``A1Spd28VMic1``) and read as one opaque string. The evaluation
test sets of gearbox (every section) and slider (section 05) have uneven numbers of
clips per domain and label.
"""
from typing import Tuple

from asd_lib.corpus import evaluator_sums
from asd_lib.corpus.ground_truth import Evaluator
from asd_lib.corpus.section_layout import Archives, SectionLayout

MACHINE_TYPES: Tuple[str, ...] = ("fan", "gearbox", "pump", "slider", "ToyCar", "ToyTrain",
                                  "valve")

LAYOUT = SectionLayout(
    name="dcase2021",
    title="DCASE 2021",
    dev_types=MACHINE_TYPES,
    eval_types=MACHINE_TYPES,
    dev_sections=("00", "01", "02"),
    eval_sections=("03", "04", "05"),
    archives=Archives(dev_record="record/4562016", train_record="record/4660992",
                      test_record="record/4884786", dev_name="dev_data_{machine}.zip"),
    eval_list_line_end="\r\n",
    test_dirs=("source_test", "target_test"),
    test_attributes=False,
    eval_names_keep_domain=True,
    attribute_files=False,
    evaluator=Evaluator("y-kawagu/dcase2021_task2_evaluator",
                        "178746837e5ffe46f8c8bfc6498e7d538b25bc41",
                        evaluator_sums.DCASE2021),
)
