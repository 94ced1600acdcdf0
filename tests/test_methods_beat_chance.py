"""Every DCASE 2020 method, trained briefly on the CPU from its debug config on a tiny
synthetic corpus (fan and pump, four IDs each, 1 s clips), lowers its training loss and
ranks the corpus's anomalous clips above the normal ones (mean per-ID AUC above chance).
Each ID has 12 normal and 12 anomalous test clips: with 6 and 6, the mean AUC of one
method moved by 0.06 between seeds, as much as its margin over the bound.

Each run takes about 80 optimiser steps (the debug configs' epochs scaled up), which
BatchNorm needs before the eval-mode model means anything.
"""
import csv
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from asd_lib.bin import make_labels, make_synthetic, prepare_data
from asd_lib.data.audio import dump_wav_scp
from asd_lib.utils.fileio import read_kv
from inference_helpers import hide_test_labels, outputs, run_stage4
from train_helpers import train_with

pytestmark = pytest.mark.slow

CONF = Path(__file__).resolve().parents[1] / "egs/dcase20/asd1/conf"
# config -> epochs for about 80 steps on 96 training clips (OS-SCL, whose SupCon term at
# full weight slows its classifier down, about 100-120)
METHODS = {
    "train_stgram_mfn.debug.yaml": 14,
    "tuning/train_clp_scf.debug.yaml": 7,
    "tuning/train_tastgram_noisy_arcmix.debug.yaml": 7,
    "tuning/train_osscl_tfstgram.debug.yaml": 10,
    "tuning/train_osscl_mel.debug.yaml": 12,
    "tuning/train_mobilenetv2_ssl.debug.yaml": 12,
    "tuning/train_ae_baseline.debug.yaml": 40,  # a small, fast model: more epochs
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Dumped train and dev_test sets of a tiny synthetic DCASE 2020 corpus."""
    root = tmp_path_factory.mktemp("chance")
    make_synthetic.main(["--layout", "dcase2020", "--out", str(root / "corpus"), "--machines",
                         "fan,pump", "--duration", "1", "--train_per_id", "12",
                         "--test_normal_per_id", "12", "--test_anomaly_per_id", "12",
                         "--eval_test_per_id", "2", "--nj", "1", "--verbose", "0"])
    prepare_data.main(["--dataset", "dcase2020", "--corpus_dir", str(root / "corpus"),
                       "--data_dir", str(root / "data"), "--use_additional", "false",
                       "--verbose", "0"])
    make_labels.main(["--scheme", "machine_section", str(root / "data/train")])
    dumped = {}
    for name in ("train", "dev_test"):
        out = root / "dump" / name
        shutil.copytree(root / "data" / name, out)
        dump_wav_scp(out / "wav.scp", out / "feats", sample_rate=16000, segment_sec=1.0)
        (out / "sample_rate").write_text("16000\n")
        dumped[name] = out
    return dumped


def config_with_epochs(source: Path, target: Path, epochs: int) -> Path:
    """The config with every stage (and per-type override) trained for ``epochs``."""
    config = yaml.safe_load(source.read_text())
    plans = [config["stages"]] + [o["stages"] for o in config.get("split_overrides", {}).values()
                                  if "stages" in o]
    for stages in plans:
        for stage in stages:
            stage["epochs"] = epochs
            stage.get("scheduler_conf", {}).pop("t_max", None)
    config["valid_fraction"] = 0.1
    target.write_text(yaml.safe_dump(config))
    return target


def training_losses(exp_dir: Path):
    paths = [exp_dir / "train_history.csv"] if (exp_dir / "train_history.csv").exists() \
        else sorted(exp_dir.glob("*/train_history.csv"))
    assert paths, f"no training history in {exp_dir}"
    for path in paths:
        with open(path, newline="") as f:
            yield [float(row["train_loss"]) for row in csv.DictReader(f)]


def mean_auc(scores, data_dir: Path) -> float:
    """Mean over machine IDs of the AUC (the official DCASE 2020 average)."""
    labels = read_kv(data_dir / "utt2label")
    groups = defaultdict(list)
    for utt, machine in read_kv(data_dir / "utt2machine").items():
        groups[(machine, read_kv(data_dir / "utt2section")[utt])].append(utt)
    return float(np.mean([roc_auc_score([labels[u] == "anomaly" for u in utts],
                                        [scores[u] for u in utts]) for utts in groups.values()]))


@pytest.mark.parametrize("config", sorted(METHODS), ids=lambda c: Path(c).name.split(".")[0])
def test_method_learns_and_beats_chance(config, corpus, tmp_path):
    conf = config_with_epochs(CONF / config, tmp_path / "conf.yaml", METHODS[config])
    exp = tmp_path / "exp"
    train_with(conf, train_dir=corpus["train"], exp_dir=exp, num_threads=1, verbose=0)
    for curve in training_losses(exp):
        assert curve[-1] < curve[0], curve
    decode = CONF / (CONF / config).read_text().split(
        "# Scoring (stage 4): --inference_config conf/")[1].split()[0]
    out = run_stage4(exp, corpus["train"], tmp_path / "scores", {"dev_test": corpus["dev_test"]},
                     args=["--config", str(decode)], checkpoint="latest")
    scores = {u: float(s) for u, s in read_kv(out / "dev_test/utt2score").items()}
    auc = mean_auc(scores, corpus["dev_test"])
    # No score may use what the evaluation data hides: the test set's class, domain and
    # attribute files shuffled and its labels emptied, stage 4 writes the same bytes.
    blind = tmp_path / "dev_test_blind"
    shutil.copytree(corpus["dev_test"], blind)
    hide_test_labels(blind)
    before = outputs(out / "dev_test")
    run_stage4(exp, corpus["train"], out, {"dev_test": blind}, args=["--config", str(decode)],
               checkpoint="latest")
    assert outputs(out / "dev_test") == before
    print(f"{config}: mean AUC {auc:.3f}")
    assert auc > 0.6
