"""Resuming from a snapshot when no checkpoint of an experiment can be read.

``checkpoint.pth`` and ``checkpoint.prev.pth`` hold the full training state; a snapshot
``snapshots/epoch<N>.pth`` holds the model and head weights after global epoch N and
nothing else (:mod:`asd_lib.utils.checkpoint`). When every checkpoint is damaged, training
goes on from the newest snapshot that loads, rebuilding what it can (our choice, logged):

- the stage and the epoch within it, from N and the stages' epochs;
- the learning-rate schedule, replayed to that epoch;
- the history and the best held-out loss of the stage, from ``train_history.csv``.

What no snapshot holds starts afresh: the optimiser's state (e.g. Adam's moment
estimates), so the epochs after N are trained again but not bit-identically to an
uninterrupted run. Where a snapshot does not hold the trained weights, resuming from it
is refused: with ``ema_decay`` it holds the moving averages, and the weights of a loss term
that has any (an ``nn.Module`` objective with parameters or buffers) are in no snapshot.
"""
import csv
import logging
import math
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from asd_lib.train.stages import Stage
from asd_lib.utils.checkpoint import CheckpointError, load_safe

LOST = ("the optimiser state (e.g. Adam's moment estimates) starts afresh, so the epochs "
        "after it are not bit-identical to an uninterrupted run")


def snapshots_newest_first(exp_dir) -> List[Path]:
    return sorted(Path(exp_dir, "snapshots").glob("epoch*.pth"), key=lambda p: -int(p.stem[5:]))


def newest_readable_snapshot(exp_dir) -> Tuple[Optional[Path], Optional[dict], List[str]]:
    """``(path, weights, damaged)``: the newest snapshot that loads (``(None, None, ...)``
    if none does) and the reasons the newer ones did not."""
    damaged = []
    for path in snapshots_newest_first(exp_dir):
        try:
            return path, load_safe(path), damaged
        except CheckpointError as err:
            damaged.append(f"{path.name}: {err.reason}")
    return None, None, damaged


def position(stages: Sequence[Stage], global_epoch: int) -> Tuple[int, int]:
    """``(stage index, epochs done in it)`` after ``global_epoch`` epochs."""
    start = 0
    for index, stage in enumerate(stages):
        if global_epoch <= start + stage.epochs:
            return index, global_epoch - start
        start += stage.epochs
    raise ValueError(f"epoch {global_epoch} is beyond the {start} epochs of the stages")


def history_until(exp_dir, global_epoch: int) -> List[Dict]:
    """The rows of ``train_history.csv`` up to ``global_epoch``, typed as the trainer
    writes them (empty without the file)."""
    path = Path(exp_dir) / "train_history.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{key: value if key == "stage" else int(value) if key == "epoch" else float(value)
             for key, value in row.items()} for row in rows if int(row["epoch"]) <= global_epoch]


def snapshot_state(exp_dir, stages: Sequence[Stage], has_ema: bool, loss_state: dict,
                   held_out: bool, why: str) -> Tuple[Path, dict]:
    """``(snapshot, state)`` to resume from, in the form of a checkpoint whose optimiser
    and scheduler states are None (:func:`replay_schedule`); ``why`` says why no
    checkpoint could be used. A ValueError naming the fix where no snapshot serves."""
    path, weights, damaged = newest_readable_snapshot(exp_dir)
    skipped = f" ({'; '.join(damaged)})" if damaged else ""
    if path is None:
        raise ValueError(f"{why}, and no snapshot in {Path(exp_dir) / 'snapshots'} can be "
                         f"read either{skipped}: train with another --tag, or delete "
                         f"{exp_dir} to train it again from epoch 1")
    if has_ema or loss_state:
        lacking = ("the moving averages of ema_decay, not the trained weights" if has_ema
                   else "no weights of the loss terms (" + ", ".join(loss_state) + ")")
        raise ValueError(f"{why}; {path} holds {lacking}, so training cannot go on from it: "
                         f"train with another --tag, or delete {exp_dir} to train it again "
                         "from epoch 1")
    global_epoch = int(path.stem[5:])
    stage_index, done = position(stages, global_epoch)
    history = history_until(exp_dir, global_epoch)
    criterion = "valid_loss" if held_out else "train_loss"
    best = [row[criterion] for row in history
            if row["stage"] == stages[stage_index].name and not math.isnan(row[criterion])]
    logging.warning("%s; resuming from %s, the newest readable snapshot%s: weights only, %s",
                    why, path, skipped, LOST)
    return path, {"model": weights["model"], "head": weights["head"], "losses": loss_state,
                  "ema": None, "optimizer": None, "scheduler": None,
                  "stage_index": stage_index, "epoch_in_stage": done,
                  "global_epoch": global_epoch, "best_loss": min(best, default=math.inf),
                  "history": history, "partial": None}


def replay_schedule(scheduler, epochs: int) -> None:
    """Step ``scheduler`` through ``epochs`` epochs without training (the learning rate of
    a resumed stage whose scheduler state is lost)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)`")
        for _ in range(epochs):
            scheduler.step()
