"""Training loop: configuration checks, schedules, held-out split, resume equals uninterrupted."""
import math
import os
import shutil
import signal

import kaldiio
import numpy as np
import pytest
import torch
import yaml

from asd_lib.bin import infer
from asd_lib.data.dataset import DumpedSet
from asd_lib.train import trainer as trainer_module
from asd_lib.train.optim import SCHEDULERS
from asd_lib.train.stages import parse_stages
from asd_lib.train.trainer import held_out_split
from asd_lib.utils.config import ConfigError
from asd_lib.utils.fileio import read_kv, write_kv
from inference_helpers import copy_as_test_set, run_stage4
from train_helpers import train_with

SR = 16000
NUM_SAMPLES = SR  # 1 s clips -> 128 x 32 STgram input


def make_dumped_set(path, classes=("fan_id_00", "fan_id_02", "pump_id_00"), per_class=8, seed=0):
    """A dumped data dir whose classes are tones at different pitches plus noise."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    t = np.arange(NUM_SAMPLES) / SR
    entries, tables = {}, {k: [] for k in ("wav.scp", "utt2class", "utt2machine", "utt2section")}
    for c, name in enumerate(classes):
        machine, section = name.split("_", 1)
        for i in range(per_class):
            utt = f"{machine}-normal_{section}_{i:08d}"
            wave = 0.3 * np.sin(2 * np.pi * (300 + 400 * c) * t) + 0.05 * rng.standard_normal(NUM_SAMPLES)
            entries[utt] = (wave * 32767).astype(np.int16)
            tables["wav.scp"].append((utt, f"/corpus/{machine}/train/normal_{section}_{i:08d}.wav"))
            tables["utt2class"].append((utt, name))
            tables["utt2machine"].append((utt, machine))
            tables["utt2section"].append((utt, section))
    kaldiio.save_ark(str(path / "feats.ark"), entries, scp=str(path / "feats.scp"),
                     write_function="numpy")
    for name, rows in tables.items():
        write_kv(path / name, rows)
    # kaldiio writes the scp in insertion order; data dirs are sorted.
    write_kv(path / "feats.scp", read_kv(path / "feats.scp").items())
    (path / "sample_rate").write_text(f"{SR}\n")
    return path


def write_config(path, epochs=2, lr=1e-3):
    config = {
        "model": "stgram_mfn", "model_conf": {"table": "liu8"},
        "head": "arcface", "head_conf": {"margin": 0.7, "scale": 30.0},
        "valid_fraction": 0.25, "num_workers": 0,
        "stages": [{"name": "arcface", "epochs": epochs, "batch_size": 8,
                    "losses": [{"name": "margin_cross_entropy"}],
                    "optim": "adam", "optim_conf": {"lr": lr},
                    "scheduler": "cosine", "scheduler_conf": {"start_epoch": 1, "min_lr_ratio": 0.1}}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def weights(exp_dir, name="latest.pth"):
    return torch.load(exp_dir / name, weights_only=True)


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    return make_dumped_set(tmp_path_factory.mktemp("dump") / "train")


def test_unknown_config_key_names_file_and_key(tmp_path, dumped):
    conf = tmp_path / "bad.yaml"
    conf.write_text("model: stgram_mfn\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key 'learning_rate'"):
        train_with(conf, train_dir=dumped, exp_dir=tmp_path / "e")


def test_wrong_type_in_config_is_rejected(tmp_path, dumped):
    conf = tmp_path / "bad.yaml"
    conf.write_text("seed: abc\n")
    with pytest.raises(ValueError):
        train_with(conf, train_dir=dumped, exp_dir=tmp_path / "e")


def test_stage_with_unknown_key_is_rejected():
    with pytest.raises(ConfigError, match=r"stages\[0\]: unknown key\(s\) \['epoch'\]"):
        parse_stages([{"name": "a", "epoch": 3, "losses": [{"name": "margin_cross_entropy"}]}])
    stages = parse_stages([{"name": "a", "epochs": 3, "losses": [{"name": "x", "weight": 0.5}]}])
    assert stages[0].epochs == 3 and stages[0].losses[0].weight == 0.5


def test_cosine_schedule_matches_formula():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1e-4)
    scheduler = SCHEDULERS.build("cosine", optimizer=optimizer, epochs=300, start_epoch=20,
                                 t_max=300, min_lr_ratio=0.1)
    lrs = []
    for _ in range(300):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == lrs[19] == pytest.approx(1e-4)
    t = 100 - 20
    expected = 1e-5 + (1e-4 - 1e-5) * (1 + math.cos(math.pi * t / 300)) / 2
    assert lrs[100] == pytest.approx(expected, rel=1e-12)
    assert lrs[-1] > 1e-5  # t_max = 300 is not reached within 300 epochs (public code)


def test_held_out_split_is_stratified_and_deterministic():
    labels = [0] * 40 + [1] * 20 + [2] * 1
    train_idx, valid_idx = held_out_split(labels, 0.05, seed=3)
    assert sorted(train_idx + valid_idx) == list(range(61))
    held = [labels[i] for i in valid_idx]
    assert held.count(0) == 2 and held.count(1) == 1 and held.count(2) == 0
    assert held_out_split(labels, 0.05, seed=3) == (train_idx, valid_idx)


def test_training_lowers_loss_and_writes_outputs(tmp_path, dumped):
    exp = tmp_path / "exp"
    conf = write_config(tmp_path / "c.yaml", epochs=3)
    train_with(conf, train_dir=dumped, exp_dir=exp)
    history = (exp / "train_history.csv").read_text().splitlines()
    losses = [float(line.split(",")[3]) for line in history[1:]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert (exp / "best.pth").is_symlink() and (exp / "latest.pth").resolve().name == "epoch3.pth"
    saved = yaml.safe_load((exp / "config.yaml").read_text())
    assert saved["head_conf"] == {"margin": 0.7, "scale": 30.0} and "asd_lib_version" in saved
    info = yaml.safe_load((exp / "model_info.yaml").read_text())
    assert info["num_samples"] == NUM_SAMPLES and info["label_scheme"] == "unrecorded"
    assert info["classes"] == ["fan_id_00", "fan_id_02", "pump_id_00"]
    assert read_kv(exp / "train_labels/utt2class") == read_kv(dumped / "utt2class")
    # A finished run is left alone: same weights after re-running the command.
    before = weights(exp)
    train_with(conf, train_dir=dumped, exp_dir=exp)
    assert all(torch.equal(before["model"][k], v) for k, v in weights(exp)["model"].items())

    # Inference on the training set itself: the tones are learnt, so scores of the true class
    # are low on average, and the outputs are complete.
    test_set = copy_as_test_set(dumped, tmp_path / "test_set")
    out = run_stage4(exp, dumped, tmp_path / "scores", {"test": test_set}, checkpoint="latest")
    scores = read_kv(out / "train/utt2score")
    assert len(scores) == 24
    assert len(kaldiio.load_scp(str(out / "train/embeddings.scp"))) == 24
    test_out = out / "test"
    rows = (test_out / "anomaly_score_fan_id_00.csv").read_text().splitlines()
    assert len(rows) == 8 and rows[0].startswith("normal_id_00_00000000.wav,")
    decisions = (test_out / "decision_result_fan_id_00.csv").read_text().splitlines()
    assert {d.split(",")[1] for d in decisions} <= {"0", "1"} and len(decisions) == 8


def test_training_takes_the_rate_from_the_dump_and_records_it(tmp_path, dumped):
    """The rate is stage 2's only: training builds the model for the dump's rate and
    records it in model_info.yaml (the config holds none), and inference refuses a dump
    made at another rate or clip length than the experiment's."""
    data = tmp_path / "dump"
    shutil.copytree(dumped, data)
    (data / "sample_rate").write_text("19200\n")  # System-3's run.sh --sample_rate 19200
    exp = tmp_path / "exp"
    train_with(write_config(tmp_path / "c.yaml", epochs=1), train_dir=data, exp_dir=exp)
    info = yaml.safe_load((exp / "model_info.yaml").read_text())
    assert info["sample_rate"] == 19200 and info["num_samples"] == NUM_SAMPLES
    assert "sample_rate" not in yaml.safe_load((exp / "config.yaml").read_text())

    infer_args = ["--exp_dir", str(exp), "--data_dir", str(data), "--out_dir",
                  str(tmp_path / "scores"), "--checkpoint", "latest", "--train_dir", str(data),
                  "--train_out_dir", str(tmp_path / "scores"), "--score", "neg_log_prob"]
    (data / "sample_rate").write_text("16000\n")  # another system's stage 2 re-dumped it
    with pytest.raises(ValueError) as error:
        infer.main(infer_args)
    assert str(error.value) == (f"{data}: dumped as 16000-sample clips at 16000 Hz, but {exp} "
                                "needs 16000-sample clips at 19200 Hz; re-run stage 2 with "
                                "--sample_rate 19200 --segment_sec 0.833333")
    (data / "sample_rate").unlink()  # an older dump records no rate; the length still counts
    clips = kaldiio.load_scp(str(dumped / "feats.scp"))
    halves = {utt: wave[:NUM_SAMPLES // 2] for utt, wave in clips.items()}
    kaldiio.save_ark(str(data / "feats.ark"), halves, scp=str(data / "feats.scp"),
                     write_function="numpy")
    with pytest.raises(ValueError, match="dumped as 8000-sample clips at an unrecorded rate, "
                                         "but .* --segment_sec 0.833333$"):
        infer.main(infer_args)
    assert not (tmp_path / "scores" / "utt2score").exists()
    with pytest.raises(ValueError, match=r"sample_rate: missing, so the rate of the dumped "
                                         r"clips is unknown; re-run stage 2"):
        train_with(tmp_path / "c.yaml", train_dir=data, exp_dir=tmp_path / "unknown_rate")
    (data / "sample_rate").write_text("16 kHz\n")
    with pytest.raises(ValueError, match=r"sample_rate: '16 kHz' is not a sample rate in Hz"):
        DumpedSet(data).sample_rate


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path, dumped, monkeypatch):
    conf = write_config(tmp_path / "c.yaml", epochs=3)
    train_with(conf, train_dir=dumped, exp_dir=tmp_path / "full")

    original = trainer_module.Trainer._run_epoch

    def interrupted(self, s, stage, optimizer, train_mode, global_epoch, partial=None):
        if train_mode and global_epoch == 3:
            raise KeyboardInterrupt  # killed during the third epoch
        return original(self, s, stage, optimizer, train_mode, global_epoch, partial)

    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_with(conf, train_dir=dumped, exp_dir=tmp_path / "resumed")
    assert (tmp_path / "resumed" / "latest.pth").resolve().name == "epoch2.pth"
    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", original)
    train_with(conf, train_dir=dumped, exp_dir=tmp_path / "resumed")

    full, resumed = weights(tmp_path / "full"), weights(tmp_path / "resumed")
    for part in ("model", "head"):
        for key, value in full[part].items():
            assert torch.equal(value, resumed[part][key]), key


def test_sigterm_checkpoints_mid_epoch_and_resume_is_bit_exact(tmp_path, dumped, monkeypatch):
    """SIGTERM during epoch 2 (after its 2nd batch): a mid-epoch checkpoint, exit 143, and
    the resumed run ends with exactly the weights of an uninterrupted one."""
    conf = write_config(tmp_path / "c.yaml", epochs=3)
    train_with(conf, train_dir=dumped, exp_dir=tmp_path / "full")

    original = trainer_module.Trainer._run_epoch
    state = {"epoch": 0, "batches": 0}

    def counting(self, s, stage, optimizer, train_mode, global_epoch, partial=None):
        state["epoch"] = global_epoch if train_mode else state["epoch"]
        state["batches"] = 0
        return original(self, s, stage, optimizer, train_mode, global_epoch, partial)

    def stop_after_second_batch_of_epoch_2(self):
        state["batches"] += 1
        if state["epoch"] == 2 and state["batches"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # what a scheduler sends
        return self.stop_requested

    handler_before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", counting)
    monkeypatch.setattr(trainer_module.Trainer, "_should_stop", stop_after_second_batch_of_epoch_2)
    with pytest.raises(SystemExit) as exit_info:
        train_with(conf, train_dir=dumped, exp_dir=tmp_path / "resumed")
    assert exit_info.value.code == 143
    saved = torch.load(tmp_path / "resumed" / "checkpoint.pth", weights_only=True)
    assert saved["global_epoch"] == 1 and saved["partial"]["batches_done"] == 2
    assert signal.getsignal(signal.SIGTERM) is handler_before  # the trainer restored it
    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", original)
    monkeypatch.undo()
    train_with(conf, train_dir=dumped, exp_dir=tmp_path / "resumed")

    full, resumed = weights(tmp_path / "full"), weights(tmp_path / "resumed")
    for part in ("model", "head"):
        for key, value in full[part].items():
            assert torch.equal(value, resumed[part][key]), key
    history = (tmp_path / "resumed" / "train_history.csv").read_text().splitlines()
    assert len(history) == 4  # header + 3 epochs, epoch 2 recorded once


def test_resume_with_changed_config_is_refused(tmp_path, dumped):
    exp = tmp_path / "exp"
    train_with(write_config(tmp_path / "a.yaml", epochs=1), train_dir=dumped, exp_dir=exp)
    with pytest.raises(ConfigError, match="changed: stages"):
        train_with(write_config(tmp_path / "b.yaml", epochs=1, lr=5e-3), train_dir=dumped,
                   exp_dir=exp)


def test_bf16_channels_last_training_tracks_fp32_and_keeps_fp32_weights(tmp_path, dumped):
    """Autocast bf16 + channels-last (for CUDA; CPU autocast runs the same code here): the
    first epoch's loss is within 1% of fp32's, it falls as fast, and what is saved is fp32."""
    conf = write_config(tmp_path / "c.yaml", epochs=3)
    histories = {}
    for name, extra in (("fp32", {}), ("bf16", {"precision": "bf16", "channels_last": True})):
        exp = tmp_path / name
        train_with(conf, train_dir=dumped, exp_dir=exp, num_threads=1, **extra)
        lines = (exp / "train_history.csv").read_text().splitlines()
        column = lines[0].split(",").index("train_loss")
        histories[name] = [float(line.split(",")[column]) for line in lines[1:]]
    fp32, bf16 = histories["fp32"], histories["bf16"]
    assert bf16 != fp32  # another computation...
    assert abs(bf16[0] - fp32[0]) < 0.01 * fp32[0], (bf16, fp32)  # ...that tracks fp32
    assert bf16[-1] < 0.2 * bf16[0] and fp32[-1] < 0.2 * fp32[0]  # and learns as fast
    saved = weights(tmp_path / "bf16")["model"]
    assert all(t.dtype == torch.float32 for t in saved.values() if t.is_floating_point())
    convs = [t for t in saved.values() if t.dim() == 4 and t.shape[1] > 1 and t.shape[2:] != (1, 1)]
    assert convs and all(t.is_contiguous(memory_format=torch.channels_last) and
                         not t.is_contiguous() for t in convs)
    assert yaml.safe_load((tmp_path / "bf16" / "config.yaml").read_text())["precision"] == "bf16"


def test_precision_must_be_a_known_one(tmp_path, dumped):
    conf = tmp_path / "c.yaml"
    conf.write_text("precision: fp16\n")
    with pytest.raises(ConfigError, match=r"c.yaml: precision must be one of \['fp32', 'bf16'\]"):
        train_with(conf, train_dir=dumped, exp_dir=tmp_path / "exp")
