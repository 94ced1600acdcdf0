"""Progress lines of a training epoch: when they come, and their rates and times left,
checked by hand against a fake clock."""
import functools
import logging

import pytest
import torch

from asd_lib.bin import train
from asd_lib.train import trainer as trainer_module
from asd_lib.train.progress import Progress, duration_text
from test_train import make_dumped_set, weights, write_config


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="asd_lib.train.progress")
    return lambda: [r.getMessage() for r in caplog.records]


def test_duration_text():
    assert [duration_text(s) for s in (0, 9.4, 61, 252, 3600, 73860)] == \
        ["0s", "9s", "1m01s", "4m12s", "1h00m", "20h31m"]


def test_a_line_every_interval_with_the_epoch_and_run_times_left(lines):
    clock = Clock()
    progress = Progress(total_epochs=10, interval=30, clock=clock)
    progress.start_epoch(1, batches=100)
    for batch in range(1, 11):  # 10 batches of 8 clips, 2 s each: nothing before 30 s
        clock.now += 2
        progress.update(batch, 8)
    assert lines() == []
    for batch in range(11, 16):  # batch 15 ends at 30 s
        clock.now += 2
        progress.update(batch, 8)
    # 120 clips in 30 s; 85 batches at 2 s left in this epoch; 9 later epochs of
    # 100 batches x 2 s (no whole epoch timed yet): 170 + 9 x 200 = 1970 s
    assert lines() == ["epoch 1/10, batch 15/100: 4.0 clips/s, epoch left 2m50s, "
                       "run left ~32m50s"]
    for batch in range(16, 31):  # the next line 30 s after the last, at batch 30
        clock.now += 2
        progress.update(batch, 8)
    assert lines()[1:] == ["epoch 1/10, batch 30/100: 4.0 clips/s, epoch left 2m20s, "
                           "run left ~32m20s"]


def test_later_epochs_are_timed_by_the_last_whole_epoch(lines):
    clock = Clock()
    progress = Progress(total_epochs=4, interval=40, clock=clock)
    progress.start_epoch(1, batches=50)
    clock.now += 250  # training, held-out pass and checkpoint of epoch 1
    progress.start_epoch(2, batches=50)
    for batch in range(1, 11):
        clock.now += 4
        progress.update(batch, 16)
    # 4 s a batch: 40 batches (160 s) left; epochs 3 and 4 take 250 s each
    assert lines() == ["epoch 2/4, batch 10/50: 4.0 clips/s, epoch left 2m40s, "
                       "run left ~11m00s"]


def test_a_resumed_epoch_rates_only_the_batches_run_since(lines):
    clock = Clock()
    progress = Progress(total_epochs=2, interval=30, clock=clock)
    progress.start_epoch(2, batches=40, done=30)
    clock.now += 30
    progress.update(35, 5)  # 5 batches in 30 s: 6 s a batch, 5 left
    assert lines() == ["epoch 2/2, batch 35/40: 0.2 clips/s, epoch left 30s, run left ~30s"]


def test_a_disabled_progress_says_nothing_and_a_bad_interval_is_refused(lines):
    clock = Clock()
    progress = Progress(total_epochs=1, interval=1, clock=clock, enabled=False)
    progress.start_epoch(1, batches=5)
    for batch in range(1, 6):
        clock.now += 10
        progress.update(batch, 1)
    assert lines() == []
    with pytest.raises(ValueError, match="interval must be > 0"):
        Progress(total_epochs=1, interval=0)


def test_training_logs_progress_lines_and_the_same_weights(tmp_path, monkeypatch, capfd):
    dumped = make_dumped_set(tmp_path / "dump" / "train")
    conf = write_config(tmp_path / "c.yaml", epochs=1)
    monkeypatch.setattr(trainer_module, "Progress", functools.partial(Progress, interval=1e9))
    train.main(["--config", str(conf), "--train_dir", str(dumped), "--exp_dir",
                str(tmp_path / "quiet")])
    assert "clips/s" not in capfd.readouterr().err
    monkeypatch.setattr(trainer_module, "Progress", functools.partial(Progress, interval=1e-9))
    train.main(["--config", str(conf), "--train_dir", str(dumped), "--exp_dir",
                str(tmp_path / "told")])
    told = [line.split("INFO: ")[1] for line in capfd.readouterr().err.splitlines()
            if "clips/s" in line]
    # 18 training clips in batches of 8: a line after each batch
    assert [line[:len("epoch 1/1, batch 1/3")] for line in told] == \
        [f"epoch 1/1, batch {b}/3" for b in (1, 2, 3)]
    assert all("clips/s, epoch left " in line and ", run left ~" in line for line in told)
    quiet, loud = weights(tmp_path / "quiet"), weights(tmp_path / "told")
    assert all(torch.equal(quiet["model"][k], loud["model"][k]) for k in quiet["model"])
