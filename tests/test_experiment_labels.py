"""An experiment owns the labels it was trained with: relabelling the data (another label
scheme) leaves its scores unchanged, training refuses to resume on other data, and stage 4
refuses a training set that is not the one the experiment saw. One experiment scored with
several inference configurations keeps one result tree per configuration."""
import shutil

import pytest
import yaml

from asd_lib.experiment import read_training_labels
from asd_lib.utils.fileio import read_kv, write_kv
from inference_helpers import copy_as_test_set, decode_config, outputs, run_stage4
from test_systems2024 import make_dumped_set
from test_train import write_config
from train_helpers import train_with


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("owned")
    data = make_dumped_set(root / "dump" / "train", clips_per_class=4)
    (data / "label_scheme").write_text("machine_section_attr\n")
    exp = root / "exp"
    train_with(write_config(root / "c.yaml", epochs=1), train_dir=data, exp_dir=exp,
               num_threads=1, verbose=0)
    return root, data, exp


def relabel_by_machine(data):
    """Scheme B: one class per machine type."""
    machines = read_kv(data / "utt2machine")
    write_kv(data / "utt2class", ((u, m) for u, m in machines.items()))
    (data / "label_scheme").write_text("machine\n")


def test_relabelled_data_leaves_the_experiment_scores_unchanged(trained, tmp_path):
    root, data, exp = trained
    dump = tmp_path / "dump"
    shutil.copytree(data.parent, dump)
    test = copy_as_test_set(dump / "train", dump / "dev_test")
    configs = {"neg_log_prob": decode_config("dcase24", "neg_log_prob"),
               "per_class": decode_config("dcase24", "kmeans_membank_per_class")}
    before = {}
    for name, config in configs.items():
        out = run_stage4(exp, dump / "train", tmp_path / name, {"dev_test": test},
                         args=["--config", str(config)], dataset="dcase2024")
        before[name] = {s: outputs(out / s) for s in ("train", "dev_test")}
    labels = read_training_labels(exp)
    assert labels.label_scheme == "machine_section_attr"
    assert yaml.safe_load((exp / "model_info.yaml").read_text())["label_scheme"] == \
        "machine_section_attr"

    relabel_by_machine(dump / "train")
    for name, config in configs.items():
        out = run_stage4(exp, dump / "train", tmp_path / name, {"dev_test": test},
                         args=["--config", str(config)], dataset="dcase2024")
        assert {s: outputs(out / s) for s in ("train", "dev_test")} == before[name], name
    assert read_training_labels(exp).tables["utt2class"] == labels.tables["utt2class"]


def test_training_refuses_to_resume_on_other_data(trained, tmp_path):
    root, data, exp = trained
    other = tmp_path / "train"
    shutil.copytree(data, other)
    relabel_by_machine(other)
    before = (exp / "model_info.yaml").read_bytes()
    with pytest.raises(ValueError, match=r"was trained on other data: 0 of its clips are gone, "
                                         r"0 are new and 20 have another class .*classes then: "
                                         r"5, now: 2\); train a new experiment with another --tag"):
        train_with(root / "c.yaml", train_dir=other, exp_dir=exp, num_threads=1, verbose=0)
    assert (exp / "model_info.yaml").read_bytes() == before
    assert read_kv(exp / "train_labels/utt2class") == read_kv(data / "utt2class")


def test_stage4_refuses_a_training_set_of_other_clips(trained, tmp_path):
    root, data, exp = trained
    fewer = tmp_path / "train"
    shutil.copytree(data, fewer)
    for name in ("feats.scp", "wav.scp", "utt2class", "utt2machine", "utt2section",
                 "utt2domain", "utt2attr"):
        rows = list(read_kv(fewer / name).items())
        write_kv(fewer / name, rows[1:])
    with pytest.raises(ValueError, match=r"is not the set .*exp was trained on \(1 trained "
                                         r"clips missing, 0 new\)"):
        run_stage4(exp, fewer, tmp_path / "out", dataset="dcase2024")


def test_two_inference_configs_keep_two_result_trees(trained, tmp_path):
    root, data, exp = trained
    for name in ("knn", "kmeans_membank"):
        run_stage4(exp, data, exp / f"{name}_best", dataset="dcase2024",
                   args=["--config", str(decode_config("dcase24", name))])
    knn = read_kv(exp / "knn_best/train/utt2score")
    kmeans = read_kv(exp / "kmeans_membank_best/train/utt2score")
    assert knn.keys() == kmeans.keys() and knn != kmeans
    for name, backend in (("knn", "knn"), ("kmeans_membank", "kmeans_membank")):
        record = yaml.safe_load((exp / f"{name}_best/inference.yaml").read_text())
        assert record["inference_config"]["backend"] == backend
        assert record["checkpoint"] == "best"
