"""Checkpoints: full training state for resuming, model-only snapshots for inference.

``exp/<tag>/checkpoint.pth``  full state (model, head, optimiser, scheduler, stage, epoch,
                               best held-out loss, history), rewritten atomically each epoch;
``exp/<tag>/checkpoint.prev.pth``  the full state it replaced (one epoch earlier), which
                               training resumes from when ``checkpoint.pth`` is unreadable;
``exp/<tag>/snapshots/epoch<N>.pth``  model + head weights after global epoch N;
``exp/<tag>/latest.pth``, ``best.pth``  symlinks to snapshots.

Everything is loaded with ``torch.load(..., weights_only=True)``.
"""
import io
import os
from pathlib import Path
from typing import List

import torch

from asd_lib.utils.fileio import atomic_copy, atomic_write

CHECKPOINT = "checkpoint.pth"
PREVIOUS_CHECKPOINT = "checkpoint.prev.pth"


def save_atomic(obj, path) -> None:
    """``torch.save`` to memory, then write the bytes to a temporary file beside ``path``
    and rename it onto ``path``.

    Serialising first keeps write errors plain: torch's archive writer turns an error of
    the file it writes into a bare ``RuntimeError``, while here a full disk raises the
    ``OSError`` of :func:`~asd_lib.utils.fileio.atomic_write` naming ``path``, with the
    partial file removed and the previous ``path`` still loadable.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_write(path, "wb") as f:
        f.write(buffer.getbuffer())


def save_rotated(obj, path, previous) -> None:
    """:func:`save_atomic` ``obj`` to ``path``, first making ``previous`` a copy of the
    ``path`` it replaces (:func:`~asd_lib.utils.fileio.atomic_copy`). Every step is atomic,
    so at every moment ``path`` and ``previous`` (once there is one) are complete
    checkpoints, ``previous`` the one before ``path``'s or the same."""
    if Path(path).exists():
        atomic_copy(path, previous)
    save_atomic(obj, path)


def load_safe(path, map_location="cpu"):
    """Load a checkpoint without executing pickled code; name the file on failure."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises several types for a damaged file
        raise ValueError(
            f"{path}: cannot read checkpoint ({exc}); the file is damaged (truncated or "
            "overwritten): restore it from a copy, or retrain"
        ) from exc


def training_state(exp_dir) -> List[Path]:
    """The checkpoints and snapshots under ``exp_dir`` (per-machine parts included): what
    makes it an experiment that has trained, sorted."""
    exp_dir = Path(exp_dir)
    return sorted(path for pattern in ("**/checkpoint*.pth", "**/snapshots/epoch*.pth")
                  for path in exp_dir.glob(pattern))


def point_link(link, target) -> None:
    """Atomically make ``link`` a relative symlink to ``target``."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)


def load_weights(module, state, what: str, path) -> None:
    """Load a state dict, turning a shape/key mismatch into an error naming the file."""
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(
            f"{path}: the {what} weights do not fit this model ({exc}); the checkpoint was "
            "made with another model config: use its own exp dir or retrain"
        ) from exc
