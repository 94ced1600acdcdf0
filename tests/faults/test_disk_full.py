"""A full disk while an output is written (simulated: the write raises ENOSPC part-way).

The error names the file and the fix; the partial temporary file is removed; the
previous file keeps its content: a training run stopped by a full disk resumes from its
previous checkpoint and ends with exactly the weights of an uninterrupted run.
"""
import errno
import logging
import os
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
from faultkit import EPOCHS, fault, snapshot, temp_files

from asd_lib.bin import infer
from asd_lib.utils.checkpoint import load_safe
from asd_lib.utils.fileio import atomic_write


class FillingDisk:
    """A file whose disk holds only ``room`` more bytes: the write that passes that
    point stores what fits, then raises ``OSError(ENOSPC)``."""

    def __init__(self, f, room: int):
        self._f, self._room = f, room

    def write(self, data):
        data = data if isinstance(data, str) else memoryview(data).cast("B")
        if len(data) > self._room:
            self._f.write(data[:self._room])
            self._f.flush()
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


def fill_disk_on(monkeypatch, name: str, nth: int, room: int) -> dict:
    """The ``nth`` temporary file of ``name`` opened by atomic_write fills the disk."""
    real_fdopen, seen = os.fdopen, {"count": 0}

    def fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        if isinstance(fd, int) and Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(
                f".{name}."):
            seen["count"] += 1
            if seen["count"] == nth:
                return FillingDisk(f, room)
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)
    return seen


def no_space_message(path) -> str:
    return (f"[Errno {errno.ENOSPC}] {path}: cannot write it (No space left on device); the "
            f"partial file was removed and any previous {Path(path).name} is unchanged: free "
            "disk space (or quota) and re-run the same command")


@fault('full disk while writing a file', 'recovery',
       'the previous file is kept, the partial one removed')
def test_atomic_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "utt2score"
    path.write_text("a 1.0\n")
    fill_disk_on(monkeypatch, "utt2score", 1, room=10)
    with pytest.raises(OSError) as err:
        with atomic_write(path) as f:
            f.write("a 2.0\nb 3.0\n" * 4)
    assert err.value.errno == errno.ENOSPC and str(err.value) == no_space_message(path)
    assert path.read_text() == "a 1.0\n" and temp_files(tmp_path) == []


@fault('full disk during a checkpoint', 'byte-identical resume',
       'the previous checkpoint is kept; training resumes')
def test_full_disk_during_a_checkpoint_write_then_resume(trained, tmp_path, monkeypatch, caplog):
    exp = tmp_path / "exp"
    with monkeypatch.context() as full_disk, pytest.raises(OSError) as err:
        # The checkpoint after the last epoch fails half-way (its first 64 KiB fit).
        seen = fill_disk_on(full_disk, "checkpoint.pth", EPOCHS, room=1 << 16)
        trained.train(exp)
    assert seen["count"] == EPOCHS
    assert err.value.errno == errno.ENOSPC
    assert str(err.value) == no_space_message(exp / "checkpoint.pth")
    assert temp_files(exp) == []
    # The previous checkpoint is whole: it loads and says where to resume.
    state = load_safe(exp / "checkpoint.pth")
    assert state["global_epoch"] == EPOCHS - 1 and len(state["history"]) == EPOCHS - 1
    assert (exp / "latest.pth").resolve().name == f"epoch{EPOCHS - 1}.pth"

    with caplog.at_level(logging.INFO):
        trained.train(exp)
    assert any(m.startswith(f"resuming from {exp / 'checkpoint.pth'}: stage 0 (arcface), at "
                            f"the end of global epoch {EPOCHS - 1}") for m in caplog.messages)
    for name in ("latest.pth", "checkpoint.pth"):
        resumed, full = torch.load(exp / name, weights_only=True), \
            torch.load(trained.exp / name, weights_only=True)
        for part in ("model", "head"):
            for key, value in full[part].items():
                assert torch.equal(value, resumed[part][key]), (name, key)
    assert len((exp / "train_history.csv").read_text().splitlines()) == 1 + EPOCHS


def arrays_fill_disk(monkeypatch, after: int) -> None:
    """kaldiio writes ``after`` arrays, then the next one hits a full disk."""
    real, calls = kaldiio.matio.write_array, {"n": 0}

    def write_array(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(kaldiio.matio, "write_array", write_array)


@fault('full disk while writing embeddings', 'recovery',
       'the previous embeddings are kept')
def test_full_disk_while_writing_embeddings_keeps_the_previous_ones(trained, tmp_path,
                                                                     monkeypatch):
    out = tmp_path / "out"
    args = ["--exp_dir", str(trained.exp), "--data_dir", str(trained.data), "--out_dir", str(out),
            "--train_dir", str(trained.data), "--train_out_dir", str(out),
            "--score", "neg_log_prob", "--num_threads", "1", "--verbose", "0"]
    infer.main(args + ["--checkpoint", "epoch1"])
    before = snapshot(out)
    old = kaldiio.load_scp(str(out / "embeddings.scp"))
    old = {utt: old[utt] for utt in old}
    arrays_fill_disk(monkeypatch, after=3)
    with pytest.raises(OSError) as err:
        infer.main(args + ["--checkpoint", "latest"])
    assert str(err.value) == no_space_message(out / "embeddings.scp")
    assert snapshot(out) == before and temp_files(out) == []
    table = kaldiio.load_scp(str(out / "embeddings.scp"))
    for utt, vector in old.items():
        np.testing.assert_array_equal(table[utt], vector)
