"""Checkpoints: full training state for resuming, model-only snapshots for inference.

``exp/<tag>/checkpoint.pth``  full state (model, head, optimiser, scheduler, stage, epoch,
                               best held-out loss, history), rewritten atomically each epoch;
``exp/<tag>/checkpoint.prev.pth``  the full state it replaced (one epoch earlier), which
                               training resumes from when ``checkpoint.pth`` is unreadable;
``exp/<tag>/snapshots/epoch<N>.pth``  model + head weights after global epoch N;
``exp/<tag>/latest.pth``, ``best.pth``  symlinks to snapshots.

Everything is loaded with ``torch.load(..., weights_only=True)``: a file whose pickle
names code (a whole ``nn.Module``, any class or function beyond tensors and containers) is
refused as such, never loaded with the check turned off.
"""
import io
import os
import pickle
import re
from pathlib import Path
from typing import List, Mapping

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


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read (truncated, overwritten, not a checkpoint);
    ``reason`` says what failed."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: cannot read checkpoint ({reason}); the file is damaged "
                         "(truncated or overwritten): restore it from a copy, or retrain")
        self.reason = reason


class CodeInCheckpointError(ValueError):
    """A checkpoint whose pickle names code, refused (loading it could run that code)."""


def load_safe(path, map_location="cpu"):
    """Load a checkpoint without executing pickled code; name the file on failure: a
    :class:`CodeInCheckpointError` for one that holds code, a :class:`CheckpointError`
    for one that cannot be read."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises several types for a damaged file
        if isinstance(exc, pickle.UnpicklingError):  # torch's text advises weights_only=False
            code = _code_globals(path, exc)
            if code:
                listed = ", ".join(code[:3]) + (f" and {len(code) - 3} more"
                                                if len(code) > 3 else "")
                raise CodeInCheckpointError(
                    f"{path}: holds pickled code ({listed}), not only weights: refused, as "
                    "loading it could run that code. Use a checkpoint that asd_lib saved, "
                    "or save the model's state_dict() instead of the model") from None
            raise CheckpointError(path, "not a PyTorch checkpoint, or a damaged one: its "
                                  "pickle cannot be read") from None
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(path, first_line[:200]) from exc


_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def _code_globals(path, exc: Exception) -> List[str]:
    """The classes and functions named by the pickle of ``path`` that a weights-only load
    refuses (torch's own list where it has one, torch >= 2.5; else its message)."""
    find = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint", None)
    if find is not None:
        try:
            return sorted(find(path))
        except Exception:  # not a checkpoint torch.save wrote
            return []
    return _UNSUPPORTED_GLOBAL.findall(str(exc))


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
    """Load a state dict; a key or shape mismatch is an error naming the file and
    summing the mismatch up (:func:`weights_mismatch`)."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: holds no {what} weights (a {type(state).__name__} where a "
                         "state dict belongs); use a checkpoint that asd_lib saved")
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        found = weights_mismatch(module.state_dict(), state) or str(exc)[:200]
        raise ValueError(
            f"{path}: the {what} weights do not fit this model ({found}); the checkpoint was "
            "made with another model config: use its own exp dir or retrain"
        ) from exc


def weights_mismatch(expected: Mapping, given: Mapping, shown: int = 3) -> str:
    """How ``given`` (a state dict) differs from ``expected`` (the model's), naming at
    most ``shown`` keys of each kind: keys missing, keys unexpected, tensors of another
    shape; ``""`` where they fit."""
    def listed(names: List[str]) -> str:
        more = f", and {len(names) - shown} more" if len(names) > shown else ""
        return ", ".join(names[:shown]) + more

    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    reshaped = [f"{k} ({_shape(given[k])} in the file, {_shape(expected[k])} here)"
                for k in expected if k in given and _shape(given[k]) != _shape(expected[k])]
    parts = [f"{len(names)} key{'s' if len(names) > 1 else ''} {kind}: {listed(names)}"
             for kind, names in (
        ("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped))
        if names]
    return "; ".join(parts)


def _shape(value) -> str:
    return "x".join(map(str, value.shape)) if hasattr(value, "shape") else type(value).__name__
