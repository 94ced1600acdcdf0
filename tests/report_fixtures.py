"""A tiny trained experiment shared by test_report.py and test_detect_onnx.py.

Built once per test session under pytest's base temp dir, laid out like a recipe dir:
a synthetic DCASE 2020 corpus of one machine type (fan: 4 dev + 3 additional IDs, 1 s
clips), data dirs with labels, the stage 2 dump, 2 epochs of a small STgram-MFN, stage 4 on
train and dev_test (with decisions) into exp/train_tiny/neg_log_prob_best, stage 5 scoring,
and the run.sh stage 3 would write.
"""
import shutil
from pathlib import Path

import yaml

from asd_lib.bin import dump, infer, make_labels, make_synthetic, prepare_data, score
from train_helpers import train_with

TAG = "train_tiny"
INFERENCE_TAG = "neg_log_prob_best"
DATA_FILES = ("wav.scp", "utt2machine", "utt2section", "utt2domain", "utt2label", "utt2class",
              "label_scheme")
CONFIG = {
    "model": "stgram_mfn", "model_conf": {"embedding_dim": 32, "table": "liu8"},
    "head": "arcface", "head_conf": {"margin": 0.7, "scale": 30.0},
    "valid_fraction": 0.25, "num_workers": 0,
    "stages": [{"name": "arcface", "epochs": 2, "batch_size": 8,
                "losses": [{"name": "margin_cross_entropy"}], "optim": "adam",
                "optim_conf": {"lr": 1e-3}, "scheduler": "cosine",
                "scheduler_conf": {"start_epoch": 1, "min_lr_ratio": 0.1}}],
}


def tiny_experiment(tmp_path_factory) -> Path:
    """The recipe-like root holding ``corpus data dump exp/train_tiny``; built on first use."""
    root = tmp_path_factory.getbasetemp() / "tiny_recipe"
    if (root / ".done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    corpus = root / "corpus"
    make_synthetic.main(["--layout", "dcase2020", "--out", str(corpus), "--machines", "fan",
                         "--duration", "1", "--train_per_id", "4", "--test_normal_per_id", "2",
                         "--test_anomaly_per_id", "2", "--eval_test_per_id", "2", "--nj", "1",
                         "--verbose", "0"])
    prepare_data.main(["--dataset", "dcase2020", "--corpus_dir", str(corpus),
                       "--data_dir", str(root / "data"), "--verbose", "0"])
    make_labels.main([str(root / "data/train"), "--verbose", "0"])
    for dset in ("train", "dev_test"):
        out = root / "dump" / dset
        out.mkdir(parents=True)
        dump.main(["--wav_scp", str(root / "data" / dset / "wav.scp"), "--out_prefix",
                   str(out / "feats"), "--segment_sec", "1", "--verbose", "0"])
        for name in DATA_FILES:
            if (root / "data" / dset / name).is_file():
                shutil.copy(root / "data" / dset / name, out / name)
        (out / "sample_rate").write_text("16000\n")  # as stage 2 records it
    config = root / "conf" / "train_tiny.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump(CONFIG))
    exp = root / "exp" / TAG
    train_with(config, train_dir=root / "dump/train", exp_dir=exp, num_threads=1, verbose=0)
    (exp / "run.sh").write_text(
        "#!/usr/bin/env bash\n# Re-runs this experiment with the options it was made with.\n"
        f'cd {root} && ./asd.sh --train_config conf/train_tiny.yaml --test_sets dev_test\\ '
        'eval_test --stage 0 --stop-stage 5 "$@"\n')
    scores = exp / INFERENCE_TAG
    for dset in ("train", "dev_test"):
        infer.main(["--exp_dir", str(exp), "--data_dir", str(root / "dump" / dset),
                    "--out_dir", str(scores / dset), "--train_dir", str(root / "dump/train"),
                    "--train_out_dir", str(scores / "train"), "--score", "neg_log_prob",
                    "--batch_size", "8", "--num_threads", "1", "--verbose", "0"])
    score.main(["--data_dir", str(root / "dump/dev_test"), "--score_dir",
                str(scores / "dev_test"), "--verbose", "0"])
    (root / ".done").touch()
    return root
