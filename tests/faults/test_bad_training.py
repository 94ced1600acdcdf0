"""Training that cannot learn: no clip left to train on, a stage whose sampler yields no
batch, a NaN training loss.

Each stops stage 3 with one error naming the config, the set or the exp dir and the fix.
Nothing of the failed run counts: no snapshot, ``best.pth`` or history row of the bad
epoch is written, the last good epoch's checkpoint stays the one a re-run resumes from,
and an experiment that never finished an epoch takes the corrected configuration.
"""
import math

import pytest
import torch
import yaml
from faultkit import EPOCHS, fault, snapshot, temp_files

from asd_lib.train import trainer as trainer_module
from asd_lib.utils.checkpoint import load_safe
from asd_lib.utils.config import ConfigError
from test_train import make_dumped_set
from train_helpers import train_with


def config_with(trained, path, stage=None, **changes):
    """The shared toy config with top-level ``changes`` and ``stage`` keys of stage 0."""
    config = yaml.safe_load(trained.config.read_text())
    config.update(changes)
    config["stages"][0].update(stage or {})
    path.write_text(yaml.safe_dump(config))
    return path


def train_on(config, data, exp):
    train_with(config, train_dir=data, exp_dir=exp, num_threads=1, verbose=0)


@fault('`valid_fraction: 1.0` (every clip held out)', 'clear error',
       'names the config file and the key; nothing written')
def test_valid_fraction_of_one_is_refused_before_anything_is_written(trained, tmp_path):
    config = config_with(trained, tmp_path / "all held out.yaml", valid_fraction=1.0)
    exp = tmp_path / "exp"
    with pytest.raises(ConfigError) as err:
        train_on(config, trained.data, exp)
    assert str(err.value) == (f"{config}: valid_fraction must be at least 0 and below 1 (the "
                              "share of every class held out), got 1.0")
    assert not exp.exists()


@fault('a training set too small for its `valid_fraction`', 'clear error',
       'names the set and the fix; no checkpoint, snapshot or best.pth')
def test_a_split_without_training_clips_saves_nothing_and_takes_the_fix(trained, tmp_path):
    data = make_dumped_set(tmp_path / "one clip per class", per_class=1)
    exp = tmp_path / "exp"
    config = config_with(trained, tmp_path / "c.yaml", valid_fraction=0.6)
    with pytest.raises(ValueError) as err:
        train_on(config, data, exp)
    assert str(err.value) == (f"{data}: no clip is left to train on (valid_fraction 0.6 holds "
                              "out all 3); lower valid_fraction")
    assert [name for name in snapshot(exp) if name.endswith(".pth")] == []
    # No epoch was trained: the corrected configuration is taken, not refused.
    config = config_with(trained, tmp_path / "c.yaml", valid_fraction=0.0)
    train_on(config, data, exp)
    assert load_safe(exp / "checkpoint.pth")["global_epoch"] == EPOCHS
    assert (exp / "best.pth").resolve().name == f"epoch{EPOCHS}.pth"


@fault('a stage whose sampler yields no batch', 'clear error',
       'names the stage and the fix; nothing saved')
def test_a_stage_without_a_batch_is_an_error(trained, tmp_path):
    config = config_with(trained, tmp_path / "c.yaml",
                         stage={"batch_size": 64, "sampler_conf": {"drop_last": True}})
    exp = tmp_path / "exp"
    with pytest.raises(ValueError) as err:
        train_on(config, trained.data, exp)
    assert str(err.value) == (
        f"{exp}: stage 0 ('arcface') made no training batch in epoch 1 (12 training clips, "
        "batch_size 64, sampler random); lower batch_size or set drop_last: false in "
        "sampler_conf")
    assert [name for name in snapshot(exp) if name.endswith(".pth")] == []


@fault('a NaN training loss', 'clear error',
       "names the epoch; the last good epoch's checkpoint is kept, nothing of the bad one saved")
def test_nan_loss_keeps_the_previous_epoch_and_saves_nothing_of_its_own(trained, tmp_path,
                                                                       monkeypatch):
    exp = tmp_path / "exp"
    forward = trainer_module.TrainingSystem.forward

    def nan_in_epoch_2(self, step, terms):
        loss, logits = forward(self, step, terms)
        # The trainer seeds torch with seed + global epoch (seed 0) before every epoch.
        return (loss * math.nan if torch.initial_seed() == 2 else loss), logits

    with monkeypatch.context() as poisoned:
        poisoned.setattr(trainer_module.TrainingSystem, "forward", nan_in_epoch_2)
        with pytest.raises(ValueError) as err:
            trained.train(exp)
    assert str(err.value) == (
        f"{exp}: the training loss of epoch 2 is nan; nothing of this epoch is saved (the "
        "checkpoint of epoch 1 is kept). Lower the learning rate or check the input (silent "
        "or clipped clips), then re-run stage 3")
    state = load_safe(exp / "checkpoint.pth")
    assert state["global_epoch"] == 1 and len(state["history"]) == 1
    files = snapshot(exp)
    assert sorted(name for name in files if name.endswith(".pth")) == [
        "best.pth", "checkpoint.pth", "latest.pth", "snapshots/epoch1.pth"]
    assert files["latest.pth"] == files["best.pth"] == ("link", "snapshots/epoch1.pth")
    assert len(files["train_history.csv"].decode().splitlines()) == 2
    assert temp_files(exp) == []
    epoch1 = torch.load(trained.exp / "snapshots" / "epoch1.pth", weights_only=True)
    saved = torch.load(exp / "snapshots" / "epoch1.pth", weights_only=True)
    for part in ("model", "head"):
        for key, value in epoch1[part].items():
            assert torch.equal(value, saved[part][key]), key

    # The re-run resumes from epoch 1 and ends where the uninterrupted run ended.
    trained.train(exp)
    full = torch.load(trained.exp / "latest.pth", weights_only=True)
    resumed = torch.load(exp / "latest.pth", weights_only=True)
    for part in ("model", "head"):
        for key, value in full[part].items():
            assert torch.equal(value, resumed[part][key]), key
