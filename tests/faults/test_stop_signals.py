"""A run stopped from outside: SIGTERM or Ctrl-C (SIGINT) to run.sh, and SIGKILL, which no
script can catch. run.sh execs asd.sh, which runs its stages in a process group of its own
and passes a SIGTERM, SIGINT or SIGHUP to the whole group (utils/process_group.sh); a run
that finds a directory locked names the holder, also when the holder is a job left running
by a killed run (utils/lock.sh). The recipe's stage 1 is a stand-in data.sh whose job,
started through utils/run_local.sh as the trainer is, sleeps: a long stage made quick."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from faultkit import REPO, fault

pytestmark = pytest.mark.recipe

STAND_IN = """#!/usr/bin/env bash
set -euo pipefail
for arg in "$@"; do
    if [ "${arg}" = --print-corpus ]; then echo corpus; exit 0; fi
done
utils/run_local.sh log/job.log bash -c 'echo $$ > job.pid; exec sleep 300'
"""
STAGE1 = ["./run.sh", "--stage", "1", "--stop-stage", "1"]


@pytest.fixture
def recipe(tmp_path):
    target = tmp_path / "egs" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(target)], check=True,
                   capture_output=True)
    (target / "local/data.sh").unlink()  # a link to the shared utils/data.sh
    (target / "local/data.sh").write_text(STAND_IN)
    (target / "local/data.sh").chmod(0o755)
    return target


def session_processes(sid: int) -> list:
    """PIDs of the processes of session ``sid``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            pids.append(int(stat.parent.name))
    return pids


def default_sigint() -> None:
    """SIGINT at its default in run.sh, as a terminal starts it: a shell cannot trap a
    signal ignored when it starts, and the pytest worker may have come to ignore SIGINT
    (it did after other tests in the same worker)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(recipe: Path) -> subprocess.Popen:
    """run.sh in a session of its own; returns once the stage's job runs."""
    proc = subprocess.Popen(STAGE1, cwd=recipe, start_new_session=True, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "DCASE2020": ""}, preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while not (recipe / "job.pid").is_file() or not (recipe / "job.pid").read_text():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the stage's job never started"
        time.sleep(0.05)
    return proc


def stop_session(sid: int) -> None:
    for pid in session_processes(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until_gone(sid: int, seconds: float = 15) -> list:
    deadline = time.monotonic() + seconds
    while session_processes(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return session_processes(sid)


@fault("SIGTERM or SIGINT (Ctrl-C) to run.sh while a stage's job runs", "clear error",
       "the whole run stops, jobs included, with one line naming the signal, and ends by "
       "that signal")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_run_sh_stops_the_whole_run(recipe, sig):
    proc = start(recipe)
    try:
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == -sig, err
        assert wait_until_gone(proc.pid) == []
        assert (f"(process_group.sh) {sig.name} received: stopping the run and every job it "
                "started (process group") in err
    finally:
        stop_session(proc.pid)


@fault("a run killed with SIGKILL (kill -9 on asd.sh, or on the whole script)",
       "refused with the fix", "the next run names the holder at once: the run's stages "
       "(its process group lives on), or the orphaned job and how to stop it")
def test_after_kill_9_the_next_run_names_the_holder(recipe):
    proc = start(recipe)
    try:
        proc.kill()
        proc.wait()
        (record,) = [p for p in (recipe / "data/.lock.d").iterdir()
                     if Path(f"/proc/{p.name}").exists()]
        again = subprocess.run(STAGE1, cwd=recipe, capture_output=True, text=True, timeout=60,
                               env={**os.environ, "DCASE2020": ""})
        assert again.returncode == 1
        assert (f"data/ is in use by another run: PID {record.name} (./asd.sh --dataset "
                "dcase2020 ") in again.stderr
        os.kill(int(record.name), signal.SIGKILL)  # now the job is an orphan holding the lock
        job = int((recipe / "job.pid").read_text())
        began = time.monotonic()
        again = subprocess.run(STAGE1, cwd=recipe, capture_output=True, text=True, timeout=60,
                               env={**os.environ, "DCASE2020": ""})
        assert again.returncode == 1 and time.monotonic() - began < 20
        (line,) = again.stderr.splitlines()
        assert "data/ is in use by another run: PID " in line and f"PID {job} (sleep 300), " in line
        assert line.endswith(
            f"left running by a run that was killed; wait for them to end, or stop them: kill -- "
            f"-{record.name}. Wait for it to finish, or run with --lock_wait true to wait for it")
    finally:
        stop_session(proc.pid)
