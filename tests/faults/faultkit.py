"""Helpers shared by the fault tests: the ``fault`` mark that feeds README's Reliability
table, entry points in subprocesses, directory snapshots.

    python tests/faults/faultkit.py     prints the Reliability table of README.md
"""
import ast
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import soundfile as sf
import yaml

from asd_lib.utils import fileio

REPO = Path(__file__).resolve().parents[2]
KILLPOINT = Path(__file__).resolve().parent / "killpoint.py"
SR = 16000
EPOCHS = 2  # of the shared toy training run (conftest.py)


FAULTS_DIR = Path(__file__).resolve().parent
OUTCOMES = ("clear error", "recovery", "byte-identical resume", "handled and logged",
            "refused with the fix")


def fault(injected: str, outcome: str, detail: str):
    """Mark a fault test with the fault or bad input it injects, what asd_lib does (one of
    :data:`OUTCOMES`) and how; README.md's Reliability table lists every marked test."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r}; choose one of {OUTCOMES}")
    return pytest.mark.fault(injected=injected, outcome=outcome, detail=detail)


def fault_rows() -> List[tuple]:
    """(injected, outcome, detail, test) of every ``@fault(...)`` in tests/faults/, read from
    the source so that the table needs no test run."""
    rows = []
    for path in sorted(FAULTS_DIR.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "fault":
                    args = [ast.literal_eval(a) for a in decorator.args]
                    rows.append((*args, f"{path.name}::{node.name}"))
    return rows


def reliability_table() -> str:
    """The Markdown table of README.md's Reliability section."""
    lines = ["| fault or bad input | what happens | how | test (tests/faults/) |",
             "|:--|:--|:--|:--|"]
    lines += [f"| {i} | {o} | {d} | `{t}` |" for i, o, d, t in fault_rows()]
    return "\n".join(lines) + "\n"


def entry_env() -> Dict[str, str]:
    """Environment of an entry point run: one thread (results equal the in-process runs)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def run_entry(module: str, args: List[str], cwd, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m <module> <args>`` to completion, output captured."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=cwd,
                          env=entry_env(), capture_output=True, text=True, timeout=timeout)


def run_killed_before_rename(target: str, module: str, args: List[str], cwd,
                             timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``module`` under :mod:`killpoint`: SIGKILL just before ``target`` is renamed
    into place. Fails unless the process died of that signal."""
    proc = subprocess.run([sys.executable, str(KILLPOINT), target, module, *map(str, args)],
                          cwd=cwd, env=entry_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-3000:])
    return proc


def kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> None:
    """Poll ``ready()`` every millisecond while ``proc`` runs; SIGKILL ``proc`` as soon as
    it holds. Fails if ``proc`` ends first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"ended ({proc.returncode}) before the kill point"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.001)
    proc.kill()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def as_new_process(monkeypatch) -> None:
    """Make the next in-process entry-point call behave like a new process: atomic_write
    sweeps each directory of dead writers' temporary files once per process."""
    monkeypatch.setattr(fileio, "_SWEPT_DIRS", set())


def snapshot(directory) -> Dict[str, object]:
    """Every entry under ``directory``: file bytes, or ``("link", target)`` for symlinks."""
    directory = Path(directory)
    state = {}
    for path in sorted(directory.rglob("*")):
        key = str(path.relative_to(directory))
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_file():
            state[key] = path.read_bytes()
    return state


def copy_experiment(source, exp) -> Path:
    """A copy of the experiment dir ``source`` at ``exp``, its saved config naming its new
    place."""
    shutil.copytree(source, exp, symlinks=True)
    config = yaml.safe_load((Path(exp) / "config.yaml").read_text())
    (Path(exp) / "config.yaml").write_text(yaml.safe_dump({**config, "exp_dir": str(exp)},
                                                          sort_keys=True))
    return Path(exp)


def temp_files(directory) -> List[str]:
    """Names of the temporary files (``.<name>...tmp``) under ``directory``."""
    return sorted(str(p.relative_to(directory)) for p in Path(directory).rglob(".*.tmp"))


def write_wav(path, samples, sr: int = SR, subtype: str = "PCM_16") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, sr, subtype=subtype)
    return path


def write_scp(path, rows) -> Path:
    """A Kaldi text file from ``(key, value)`` rows, in the order given."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key} {value}\n" for key, value in rows))
    return path


def tone(freq: float, num: int, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(num) / sr)


if __name__ == "__main__":
    print(reliability_table(), end="")
