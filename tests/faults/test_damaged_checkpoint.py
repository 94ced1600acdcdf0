"""A damaged or missing ``exp/<tag>/checkpoint.pth`` when stage 3 is run again.

Every checkpoint keeps the one it replaces as ``checkpoint.prev.pth``; training resumes
from that one when ``checkpoint.pth`` cannot be read or is gone, says so in the log, and
ends with the weights of an uninterrupted run. Without a checkpoint the snapshots of an
earlier run are never overwritten by a fresh start, and without a readable checkpoint or
snapshot training stops: errors naming the fix, with the experiment left as it was
(``test_checkpoint_fallbacks.py``: resuming from a snapshot).
"""
import logging
import shutil

import pytest
import torch
import yaml
from faultkit import EPOCHS, fault, snapshot, temp_files

from asd_lib.utils.checkpoint import load_safe


@pytest.fixture
def copied(trained, tmp_path):
    """A copy of the trained experiment, its saved config naming its new place."""
    exp = tmp_path / "exp"
    shutil.copytree(trained.exp, exp, symlinks=True)
    config = yaml.safe_load((exp / "config.yaml").read_text())
    (exp / "config.yaml").write_text(yaml.safe_dump({**config, "exp_dir": str(exp)},
                                                    sort_keys=True))
    return exp


def truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def same_weights(a, b) -> None:
    a, b = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    for part in ("model", "head"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)


@fault('truncated checkpoint.pth (stage 3 re-run)', 'recovery',
       'resumes from checkpoint.prev.pth, logged, to the same weights')
def test_truncated_checkpoint_resumes_from_the_one_before(trained, copied, caplog):
    exp = copied
    assert load_safe(exp / "checkpoint.prev.pth")["global_epoch"] == EPOCHS - 1
    truncate(exp / "checkpoint.pth")
    epoch1 = (exp / "snapshots" / "epoch1.pth").read_bytes()
    with caplog.at_level(logging.INFO):
        trained.train(exp)
    warning = next(m for m in caplog.messages if m.startswith(f"{exp / 'checkpoint.pth'}: "))
    assert warning.startswith(f"{exp / 'checkpoint.pth'}: cannot read checkpoint (")
    assert warning.endswith("); resuming from checkpoint.prev.pth, the checkpoint it replaced "
                            "(the epochs after it are trained again and their snapshots "
                            "rewritten)")
    assert (f"resuming from {exp / 'checkpoint.prev.pth'}: stage 0 (arcface), at the end of "
            f"global epoch {EPOCHS - 1}") in caplog.messages
    assert load_safe(exp / "checkpoint.pth")["global_epoch"] == EPOCHS
    for name in ("latest.pth", "checkpoint.pth"):
        same_weights(trained.exp / name, exp / name)
    assert (exp / "snapshots" / "epoch1.pth").read_bytes() == epoch1
    assert len((exp / "train_history.csv").read_text().splitlines()) == 1 + EPOCHS
    assert temp_files(exp) == []


@fault('checkpoint.pth deleted (stage 3 re-run)', 'recovery',
       'resumes from checkpoint.prev.pth, logged')
def test_deleted_checkpoint_resumes_from_the_one_before(trained, copied, caplog):
    exp = copied
    (exp / "checkpoint.pth").unlink()
    with caplog.at_level(logging.INFO):
        trained.train(exp)
    assert (f"{exp / 'checkpoint.pth'}: missing; resuming from checkpoint.prev.pth, the "
            "checkpoint it replaced (the epochs after it are trained again and their "
            "snapshots rewritten)") in caplog.messages
    same_weights(trained.exp / "checkpoint.pth", exp / "checkpoint.pth")


@fault('truncated checkpoint.pth, no earlier one and no readable snapshot',
       'refused with the fix', 'names each file that failed and the fix; nothing changed')
def test_truncated_checkpoint_without_an_earlier_one_is_refused(trained, copied):
    exp = copied
    (exp / "checkpoint.prev.pth").unlink()
    for name in ["checkpoint.pth"] + [f"snapshots/epoch{e}.pth" for e in range(1, EPOCHS + 1)]:
        truncate(exp / name)
    before = snapshot(exp)
    with pytest.raises(ValueError) as err:
        trained.train(exp)
    cause = "PytorchStreamReader failed reading zip archive: failed finding central directory"
    assert str(err.value) == (
        f"{exp / 'checkpoint.pth'}: cannot read checkpoint ({cause}); there is no "
        f"checkpoint.prev.pth to resume from instead, and no snapshot in {exp / 'snapshots'} "
        f"can be read either (epoch2.pth: {cause}; epoch1.pth: {cause}): train with another "
        f"--tag, or delete {exp} to train it again from epoch 1")
    assert snapshot(exp) == before


@fault('every checkpoint deleted, snapshots kept', 'refused with the fix',
       'a fresh start would overwrite the snapshots: names them and the fix; nothing changed')
def test_fresh_start_over_the_snapshots_of_an_earlier_run_is_refused(trained, copied):
    exp = copied
    (exp / "checkpoint.pth").unlink()
    (exp / "checkpoint.prev.pth").unlink()
    before = snapshot(exp)
    with pytest.raises(ValueError) as err:
        trained.train(exp)
    assert str(err.value) == (
        f"{exp}: no checkpoint.pth or checkpoint.prev.pth to resume from, but snapshots/ holds "
        f"{EPOCHS} snapshot(s) of an earlier run (the last epoch{EPOCHS}.pth) that training "
        f"from epoch 1 would overwrite: train with another --tag, or move {exp / 'snapshots'} "
        "away to train here again")
    assert snapshot(exp) == before
