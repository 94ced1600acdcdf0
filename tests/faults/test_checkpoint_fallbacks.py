"""The fall-backs of a damaged checkpoint survive the recovery: the checkpoint that failed
to load is overwritten, never rotated into ``checkpoint.prev.pth``; when no checkpoint can
be read, training goes on from the newest readable snapshot, weights only, and says what
is lost (:mod:`asd_lib.train.fallback`), unless the snapshots do not hold the trained
weights (``ema_decay``): then it stops with the fix."""
import csv
import logging

import pytest
import torch
from faultkit import EPOCHS, copy_experiment, fault, snapshot, temp_files

from asd_lib.utils.checkpoint import load_safe
from train_helpers import train_with

TRUNCATED = "PytorchStreamReader failed reading zip archive: failed finding central directory"


def truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def history(exp):
    with open(exp / "train_history.csv", newline="") as f:
        return list(csv.DictReader(f))


def retrain(trained, exp, caplog) -> None:
    with caplog.at_level(logging.INFO):
        trained.train(exp)


@fault('truncated checkpoint.pth, then the recovery\'s next checkpoint', 'recovery',
       'the file that failed to load is overwritten, never rotated into checkpoint.prev.pth')
def test_a_checkpoint_that_failed_to_load_is_never_rotated(trained, tmp_path, caplog):
    exp = copy_experiment(trained.exp, tmp_path / "exp")
    previous = (exp / "checkpoint.prev.pth").read_bytes()
    truncate(exp / "checkpoint.pth")
    retrain(trained, exp, caplog)
    assert (exp / "checkpoint.prev.pth").read_bytes() == previous
    assert load_safe(exp / "checkpoint.prev.pth")["global_epoch"] == EPOCHS - 1
    assert load_safe(exp / "checkpoint.pth")["global_epoch"] == EPOCHS


@fault('checkpoint.pth and checkpoint.prev.pth both damaged (and the newest snapshot)',
       'recovery', 'resumes from the newest readable snapshot, weights only: logs which '
       'files failed and that the optimiser state starts afresh; the schedule is replayed')
def test_no_readable_checkpoint_resumes_from_the_newest_readable_snapshot(
        trained, tmp_path, caplog):
    exp = copy_experiment(trained.exp, tmp_path / "exp")
    for name in ("checkpoint.pth", "checkpoint.prev.pth", f"snapshots/epoch{EPOCHS}.pth"):
        truncate(exp / name)
    retrain(trained, exp, caplog)
    assert (f"{exp / 'checkpoint.pth'}: cannot read checkpoint ({TRUNCATED}); "
            f"checkpoint.prev.pth: cannot read it either ({TRUNCATED}); resuming from "
            f"{exp / 'snapshots'}/epoch{EPOCHS - 1}.pth, the newest readable snapshot "
            f"(epoch{EPOCHS}.pth: {TRUNCATED}): weights only, the optimiser state (e.g. "
            "Adam's moment estimates) starts afresh, so the epochs after it are not "
            "bit-identical to an uninterrupted run") in caplog.messages
    state = load_safe(exp / "checkpoint.pth")
    assert state["global_epoch"] == EPOCHS and len(state["history"]) == EPOCHS
    assert load_safe(exp / "latest.pth")["model"].keys() == state["model"].keys()
    before, after = history(trained.exp), history(exp)
    assert after[:-1] == before[:-1]  # the epochs before the snapshot, read back
    assert after[-1]["lr"] == before[-1]["lr"]  # the cosine schedule replayed to the epoch
    assert after[-1]["train_loss"] != before[-1]["train_loss"]  # Adam without its moments
    uninterrupted = torch.load(trained.exp / "latest.pth", weights_only=True)["model"]
    assert any(not torch.equal(value, state["model"][key])
               for key, value in uninterrupted.items() if value.is_floating_point())
    assert temp_files(exp) == []


@fault('checkpoint.pth and checkpoint.prev.pth both damaged, with ema_decay',
       'refused with the fix', 'the snapshots hold moving averages, not the trained weights: '
       'says so and names the fix; nothing changed')
def test_no_readable_checkpoint_with_ema_is_refused(trained, tmp_path):
    config = tmp_path / "ema.yaml"
    config.write_text(trained.config.read_text() + "ema_decay: 0.9\n")
    exp = tmp_path / "exp"
    values = {"train_dir": trained.data, "exp_dir": exp, "num_threads": 1, "verbose": 0}
    train_with(config, **values)
    for name in ("checkpoint.pth", "checkpoint.prev.pth"):
        truncate(exp / name)
    before = snapshot(exp)
    with pytest.raises(ValueError) as err:
        train_with(config, **values)
    assert str(err.value) == (
        f"{exp / 'checkpoint.pth'}: cannot read checkpoint ({TRUNCATED}); checkpoint.prev.pth: "
        f"cannot read it either ({TRUNCATED}); {exp / 'snapshots'}/epoch{EPOCHS}.pth holds the "
        "moving averages of ema_decay, not the trained weights, so training cannot go on from "
        f"it: train with another --tag, or delete {exp} to train it again from epoch 1")
    assert snapshot(exp) == before
