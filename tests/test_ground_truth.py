"""Labels and domains of the evaluation test clips come from the official evaluators' ground
truth: for every year the prepared ``eval_test`` agrees with evaluator-style files, including
the synthetic 2022 corpus, whose list disagrees with its ground truth for ToyCar and ToyTrain
as the official one does; without the files stage 1 falls back to the list with a warning."""
import csv
import importlib
import logging
import re
import shutil
from pathlib import Path

import pytest

from asd_lib.bin import make_synthetic
from asd_lib.corpus import get_corpus
from asd_lib.corpus.dcase2022 import layout as dcase2022
from asd_lib.corpus.ground_truth import Truth, read_file
from asd_lib.utils.fileio import read_kv

prepare_2022 = get_corpus("dcase2022").prepare_data

TINY = ["--duration", "0.25"]
SECTIONED = ["--source_train", "4", "--target_train", "2", "--test_per_condition", "2"]
CASES = {  # year -> (machines, size options)
    "dcase2020": ("fan", ["--train_per_id", "1", "--test_normal_per_id", "1",
                          "--test_anomaly_per_id", "1", "--eval_test_per_id", "4"]),
    "dcase2021": ("ToyCar", ["--source_train", "4", "--target_train", "3",
                             "--test_per_condition", "2"]),
    "dcase2022": ("ToyCar,valve", SECTIONED),
    "dcase2023": ("ToyDrone", SECTIONED),
    "dcase2024": ("RoboticArm", SECTIONED),
}
TRUTH_FILE = re.compile(r"ground_truth_(?P<m>[A-Za-z0-9]+)_section_\d{2}_(?:(?P<d>source|target)_)?"
                        r"test\.csv")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("truth")
    for name, (machines, sizes) in CASES.items():
        make_synthetic.main(["--layout", name, "--out", str(root / name), "--machines", machines,
                             "--nj", "1", "--verbose", "0", *TINY, *sizes])
    return {name: root / name for name in CASES}


def evaluator_truth(corpus: Path, name: str):
    """``{(machine, file name): (label, domain)}`` read from the evaluator-style files as the
    evaluators read them (2020: the rows of ``eval_data_list.csv``)."""
    labels, domains = {}, {}
    if name == "dcase2020":
        machine = None
        for row in csv.reader((corpus / "eval_data_list.csv").open()):
            if len(row) == 1:
                machine = row[0]
            elif row:
                labels[(machine, row[0])] = ("normal", "anomaly")[int(row[2])]
                domains[(machine, row[0])] = "source"
    for path in sorted((corpus / "ground_truth").glob("*/*.csv")):
        match = TRUTH_FILE.fullmatch(path.name)
        for file_name, value in csv.reader(path.open()):
            key = (match["m"], file_name)
            if path.parent.name == "ground_truth_domain":
                domains[key] = ("source", "target")[int(value)]
            else:
                labels[key] = ("normal", "anomaly")[int(value)]
                if match["d"]:
                    domains[key] = match["d"]
    return {key: (labels[key], domains[key]) for key in labels}


def listed_truth(corpus: Path, layout):
    return {(r.machine, r.eval_name): (r.clip.label, r.clip.domain)
            for r in layout.read_eval_list(corpus / layout.eval_list_name)}


def prepared(data: Path):
    files = {f: read_kv(data / "eval_test" / f) for f in ("wav.scp", "utt2machine", "utt2label",
                                                          "utt2domain")}
    return {(files["utt2machine"][u], Path(p).name): (files["utt2label"][u], files["utt2domain"][u])
            for u, p in files["wav.scp"].items()}


@pytest.mark.parametrize("name", list(CASES))
def test_prepared_eval_test_agrees_with_the_evaluator_files(corpora, tmp_path, name):
    get_corpus(name).prepare_data(corpora[name], tmp_path / "data", True, None)
    truth = evaluator_truth(corpora[name], name)
    assert len(truth) == len(list(corpora[name].glob("eval_data/*/*test/*.wav")))
    assert prepared(tmp_path / "data") == truth
    assert {label for label, _ in truth.values()} == {"normal", "anomaly"}


def test_2022_list_disagrees_for_toycar_and_the_ground_truth_wins(corpora, tmp_path, caplog):
    corpus = corpora["dcase2022"]
    truth, listed = evaluator_truth(corpus, "dcase2022"), listed_truth(corpus, dcase2022.LAYOUT)
    differ = sorted(k for k in truth if truth[k] != listed[k])
    assert {m for m, _ in differ} == {"ToyCar"}  # valve's list agrees, as the official one
    with caplog.at_level(logging.WARNING):
        prepare_2022(corpus, tmp_path / "data")
    got = prepared(tmp_path / "data")
    assert got == truth and all(got[k] != listed[k] for k in differ)
    warnings = [r.getMessage() for r in caplog.records if "ground truth" in r.getMessage()]
    assert warnings == [
        f"{len(differ)} of 48 evaluation test clips (ToyCar {len(differ)}) have another label or "
        f"domain in eval_data_list_2022.csv than in the official evaluator's ground truth "
        f"({corpus / 'ground_truth'}): using the ground truth"]
    # a clip the list names wrongly keeps its file name as utterance ID; attributes: the list's
    machine, file_name = differ[0]
    utt = f"{machine}-{file_name[:-len('.wav')]}"
    assert read_kv(tmp_path / "data/eval_test/utt2label")[utt] == truth[differ[0]][0]
    assert utt in read_kv(tmp_path / "data/eval_test/utt2attr")


def test_without_the_evaluator_files_the_list_is_used_with_a_warning(corpora, tmp_path, caplog):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpora["dcase2022"], corpus, ignore=shutil.ignore_patterns("ground_truth"))
    with caplog.at_level(logging.WARNING):
        prepare_2022(corpus, tmp_path / "data")
    assert prepared(tmp_path / "data") == listed_truth(corpus, dcase2022.LAYOUT)
    assert (f"{corpus / 'ground_truth'}: no ground truth of the official evaluator "
            "Kota-Dohi/dcase2022_evaluator for ToyCar, valve, so their labels and domains come "
            "from eval_data_list_2022.csv; run stage 0 with --download true") in caplog.text


def test_without_the_list_the_ground_truth_still_labels(corpora, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpora["dcase2023"], corpus, ignore=shutil.ignore_patterns("*.csv"))
    shutil.copytree(corpora["dcase2023"] / "ground_truth", corpus / "ground_truth",
                    dirs_exist_ok=True)
    get_corpus("dcase2023").prepare_data(corpus, tmp_path / "data", True, None)
    assert prepared(tmp_path / "data") == evaluator_truth(corpus, "dcase2023")
    assert not (tmp_path / "data/eval_test/utt2attr").exists()
    assert "ToyDrone-section_00_0000" in read_kv(tmp_path / "data/eval_test/utt2label")


def test_evaluator_files_by_hand(tmp_path):
    evaluator = dcase2022.LAYOUT.evaluator
    folder = tmp_path / "gt"
    paths = [p for p in evaluator.paths(["fan"]) if "section_03" in p]
    assert paths == ["ground_truth_data/ground_truth_fan_section_03_test.csv",
                     "ground_truth_domain/ground_truth_fan_section_03_test.csv"]
    for path, body in zip(paths, ("section_03_0000.wav,1\nsection_03_0001.wav,0\n",
                                  "section_03_0000.wav,0\nsection_03_0001.wav,1\n")):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(body)
    assert evaluator.missing(folder, ["fan"]) == ["fan"]  # sections 04 and 05 are absent
    files = {p: evaluator.files[p] for p in paths}
    one_section = type(evaluator)(evaluator.repo, evaluator.commit, files)
    assert one_section.missing(folder, ["fan"]) == []
    assert one_section.read(folder, ["fan"]) == {
        ("fan", "section_03_0000.wav"): Truth("anomaly", "source"),
        ("fan", "section_03_0001.wav"): Truth("normal", "target")}
    bad = folder / paths[0]
    bad.write_text("section_03_0000.wav,2\n")
    with pytest.raises(ValueError, match=re.escape(f"{bad}:1: expected '<file>.wav,<0|1>', got "
                                                   "'section_03_0000.wav,2'; download the "
                                                   "evaluator's file again")):
        read_file(bad)


def test_pinned_evaluator_files_of_each_year():
    counts = {"dcase2021": 42, "dcase2022": 42, "dcase2023": 14, "dcase2024": 18}
    for name, count in counts.items():
        evaluator = importlib.import_module(f"asd_lib.corpus.{name}.layout").LAYOUT.evaluator
        assert len(evaluator.files) == count and len(evaluator.commit) == 40
    assert importlib.import_module("asd_lib.corpus.dcase2025.layout").LAYOUT.evaluator is None
    assert dcase2022.LAYOUT.evaluator.files[
        "ground_truth_domain/ground_truth_ToyCar_section_03_test.csv"][1] == 4400
    assert dcase2022.LAYOUT.evaluator.per_domain is False
