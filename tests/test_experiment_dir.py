"""The experiment dir read back through load_experiment alone: detection's front-end of one
model and of one model per machine type, the command of each inference's run.sh in the
results table, and report.md's command with each option once."""
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml

from asd_lib import detect as detect_module
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.experiment import (
    RunCommand,
    command_from,
    load_experiment,
    read_run_command,
    unique_options,
)
from asd_lib.inference.config import InferenceConfig, InferenceRecord
from asd_lib.inference.thresholds import FILE_NAME, Threshold, write_thresholds
from asd_lib.report.aggregate import collect_results, format_tables, group_trials
from asd_lib.report.report import write_report
from asd_lib.utils.fileio import write_kv

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 8000
NUM_SAMPLES = 4000


def write_run_sh(directory: Path, recipe: Path, command: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.sh").write_text(f'#!/usr/bin/env bash\ncd {recipe} && {command} "$@"\n')


def write_part(part: Path, machine: str) -> None:
    """config.yaml, model_info.yaml and train_labels/ of one trained model."""
    part.mkdir(parents=True, exist_ok=True)
    (part / "config.yaml").write_text(yaml.safe_dump({
        "model": "stgram_mfn", "head": "arcface", "sample_rate": SAMPLE_RATE,
        "train_dir": "dump/train", "stages": [{"epochs": 2}]}))
    (part / "model_info.yaml").write_text(yaml.safe_dump({
        "num_samples": NUM_SAMPLES, "classes": [f"{machine}_id_00"]}))
    utt = f"{machine}-normal_id_00_0001"
    labels = part / "train_labels"
    write_kv(labels / "utt2class", [(utt, f"{machine}_id_00")])
    write_kv(labels / "utt2machine", [(utt, machine)])
    write_kv(labels / "utt2section", [(utt, "id_00")])
    (part / "held_out.list").write_text(f"{utt}\n")


@pytest.fixture(params=["single", "split_by_machine"])
def recipe(request, tmp_path):
    """A recipe dir with ``exp/sys`` (one model, or one per machine type: fan, pump), its
    run.sh and an inference dir ``exp/sys/knn_best`` with its record and thresholds."""
    exp = tmp_path / "exp" / "sys"
    if request.param == "single":
        write_part(exp, "fan")
    else:
        for machine in ("fan", "pump"):
            write_part(exp / machine, machine)
        (exp / "config.yaml").write_text(yaml.safe_dump({"sample_rate": SAMPLE_RATE}))
        (exp / "model_info.yaml").write_text(yaml.safe_dump({"parts": ["fan", "pump"]}))
    (tmp_path / "dump/train").mkdir(parents=True)
    write_run_sh(exp, tmp_path, "./asd.sh --tag sys")
    inference = exp / "knn_best"
    inference.mkdir()
    InferenceRecord(InferenceConfig(backend="knn"), "best", "dcase2020", "dump/train").write(inference)
    write_thresholds(inference / "train" / FILE_NAME,
                     {("fan", "id_00"): Threshold(0.5, 4, "held_out")})
    return tmp_path


def test_an_experiment_read_without_weights(recipe):
    experiment = load_experiment(recipe / "exp/sys", checkpoint=None)
    split = "parts" in yaml.safe_load((recipe / "exp/sys/model_info.yaml").read_text())
    assert list(experiment.part_dirs) == (["fan", "pump"] if split else [None])
    assert (experiment.num_samples, experiment.sample_rate) == (NUM_SAMPLES, SAMPLE_RATE)
    assert sorted(set(experiment.labels.tables["utt2machine"].values())) == (
        ["fan", "pump"] if split else ["fan"])
    assert len(experiment.held_out) == (2 if split else 1)
    assert experiment.resolve_recipe_path("dump/train") == recipe / "dump/train"
    with pytest.raises(ValueError, match="read without a checkpoint"):
        experiment.parts


def test_detect_dumps_clips_as_the_experiment_was_trained(recipe, monkeypatch, tmp_path):
    """detect takes the clip length, sample rate and training set of the experiment from
    load_experiment, for one model and for one model per machine type."""
    seen = {}

    def fake_inference(exp_dir, checkpoint, data_dir, out_dir, dataset, config, train_dir,
                       train_out_dir, ngpu=0):
        waves = load_scp_arrays(Path(data_dir) / "feats.scp")
        seen.update(exp_dir=exp_dir, checkpoint=checkpoint, train_dir=train_dir,
                    lengths={len(w) for w in waves.values()})
        write_kv(Path(out_dir) / "utt2score", [(u, "0.25" if u.endswith("0") else "0.75")
                                               for u in sorted(waves)])

    monkeypatch.setattr(detect_module, "run_inference", fake_inference)
    wavs = []
    for i, seconds in enumerate((0.3, 1.0)):  # shorter than a clip: tiled; longer: cropped
        path = tmp_path / f"clip{i}.wav"
        soundfile.write(path, np.full(int(seconds * SAMPLE_RATE), 0.1 * (i + 1)), SAMPLE_RATE,
                        subtype="PCM_16")
        wavs.append(str(path))
    found = detect_module.detect(recipe / "exp/sys/knn_best",
                                 detect_module.read_inputs(wavs, None), "fan", "id_00")
    assert [(d.key, d.score, d.decision) for d in found] == [(wavs[0], 0.25, 0),
                                                             (wavs[1], 0.75, 1)]
    assert seen == {"exp_dir": recipe / "exp/sys", "checkpoint": "best",
                    "train_dir": recipe / "dump/train", "lengths": {NUM_SAMPLES}}


def test_each_inference_row_shows_the_command_of_its_own_run_sh(tmp_path):
    exp = tmp_path / "exp"
    base = "./asd.sh --train_config conf/a.yaml --inference_config conf/decode/neg_log_prob.yaml"
    commands = {"neg_log_prob_best": base,
                "knn_best": f"{base} --stage 4 --inference_config conf/decode/knn.yaml"}
    write_run_sh(exp / "sys", tmp_path / "recipe", base)
    for tag, command in commands.items():
        write_run_sh(exp / "sys" / tag, tmp_path / "recipe", command)
    old = exp / "sys/mahalanobis_best"  # made before inferences kept a run.sh
    for tag in (*commands, old.name):
        (exp / "sys" / tag / "dev_test").mkdir(parents=True)
        (exp / "sys" / tag / "dev_test/result.json").write_text(json.dumps(
            {"dataset": "dcase2020", "average": {"AUC": 0.8, "pAUC": 0.7, "mAUC": 0.6}}))
    rows, skipped = collect_results([exp], tmp_path)
    assert skipped == []
    text = format_tables(group_trials(rows, tmp_path))
    assert ("| sys | knn_best | dev_test | 80.00 | 70.00 | 60.00 | `cd recipe && ./asd.sh "
            "--train_config conf/a.yaml --inference_config conf/decode/knn.yaml --stage 4` |"
            in text)
    assert ("| sys | neg_log_prob_best | dev_test | 80.00 | 70.00 | 60.00 | `cd recipe && "
            f"{base}` |" in text)
    assert f"| sys | mahalanobis_best | dev_test | 80.00 | 70.00 | 60.00 | `cd recipe && {base}` |" \
        in text


def test_unique_options_keeps_the_first_place_and_the_last_value():
    command = (r"./asd.sh --test_sets dev_test\ eval_test --stage 0 --stop-stage 5 "
               r"--train_args --seed\ 1 --tag 'a b' --stage 4 --stop_stage=5 "
               "--inference_config conf/decode/knn.yaml --tag \"c d\"")
    assert unique_options(command) == (
        r"./asd.sh --test_sets dev_test\ eval_test --stage 4 --stop_stage=5 "
        "--train_args --seed\\ 1 --tag \"c d\" --inference_config conf/decode/knn.yaml")
    assert unique_options("./asd.sh") == "./asd.sh"
    run = RunCommand(Path("/r/egs/x"), "./asd.sh --stage 0 --stage 3")
    assert command_from(run, "/r") == "cd egs/x && ./asd.sh --stage 3"
    assert command_from(run, "/r/egs/x") == "./asd.sh --stage 3"


def test_report_shows_each_option_of_the_command_once(tmp_path):
    exp = tmp_path / "exp/sys"
    write_part(exp, "fan")
    write_run_sh(exp, tmp_path, "./asd.sh --dataset dcase2020 --train_config conf/a.yaml "
                                "--inference_config conf/decode/neg_log_prob.yaml --stage 0 "
                                "--train_config conf/b.yaml")
    report = write_report(exp).read_text()
    assert ("```sh\n./asd.sh --dataset dcase2020 --train_config conf/b.yaml "
            "--inference_config conf/decode/neg_log_prob.yaml --stage 0\n```") in report
    assert "Model `stgram_mfn` with head `arcface`, 2 epochs on `dump/train`" in report


def test_a_run_sh_without_its_line_is_named(tmp_path):
    (tmp_path / "run.sh").write_text("#!/usr/bin/env bash\n./asd.sh\n")
    with pytest.raises(ValueError, match=r"run.sh: no line `cd DIR && COMMAND"):
        read_run_command(tmp_path)
    assert read_run_command(tmp_path / "missing") is None


def test_experiment_dirs_have_one_reader():
    """asd_lib.experiment reads exp/<tag>; the former second reader is gone and no other
    reader opens an experiment's files itself."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("asd_lib.report.experiment")
    readers = [REPO / "asd_lib" / name for name in ("detect.py", "export.py", "ensemble.py")]
    readers += sorted((REPO / "asd_lib/report").glob("*.py"))
    readers += sorted((REPO / "asd_lib/inference").glob("*.py"))
    for path in readers:
        text = path.read_text()
        for name in ('"model_info.yaml"', '"config.yaml"', '"run.sh"', '"train_labels"',
                     '"held_out.list"', "read_model_info", "read_saved_config"):
            assert name not in text, f"{path.relative_to(REPO)} reads {name} itself"
