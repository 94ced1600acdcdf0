"""Tests for the cluster launchers utils/run_slurm.sh and utils/run_sge.sh (with stub sbatch,
squeue, scancel, qsub and qdel on PATH that run the array tasks on this machine), the
debugging launcher utils/run_stdout.sh, and the backend switch of the recipes' cmd.sh."""
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UTILS = REPO / "utils"
RECIPES = sorted(REPO.glob("egs/*/asd1"))  # TEMPLATE (the master copies) and every recipe
DCASE20 = REPO / "egs/dcase20/asd1"

# sbatch: records its arguments (one per line), answers like `sbatch --parsable` and runs
# the tasks of --array=A-B[%M] one after another in the background, in a session of their
# own, with the output of each in --output (%a: the task index), as Slurm would. The task
# given by STUB_KILL is "killed by the scheduler": never run, a Slurm message in its output.
# While the tasks run, the file running exists; squeue reports the job RUNNING until then.
# STUB_TASK_PATH is put before the tasks' PATH (to replace a program that a task runs).
SBATCH = r"""#!/usr/bin/env bash
set -eu
n=$(find "${STUB_DIR}" -name 'sbatch.*.args' | wc -l)
printf '%s\n' "$@" >"${STUB_DIR}/sbatch.${n}.args"
if [ -n "${STUB_SUBMIT_ERROR:-}" ]; then
  echo "sbatch: error: Batch job submission failed: ${STUB_SUBMIT_ERROR}" >&2
  exit 1
fi
for arg in "$@"; do
  case "${arg}" in
    --array=*) array=${arg#--array=} ;;
    --output=*) output=${arg#--output=} ;;
  esac
done
script=${!#}
range=${array%%\%*}
touch "${STUB_DIR}/running"
setsid bash -c '
  for ((task = $1; task <= $2; task++)); do
    out=${3//"%a"/${task}}
    if [ "${task}" = "${STUB_KILL:-}" ]; then
      echo "slurmstepd: error: *** JOB 42 ON stub CANCELLED AT now DUE TO TIME LIMIT ***" >"${out}"
      continue
    fi
    PATH=${STUB_TASK_PATH:-}${STUB_TASK_PATH:+:}${PATH} SLURM_ARRAY_JOB_ID=42 \
      SLURM_ARRAY_TASK_ID=${task} bash "$4" >"${out}" 2>&1 || true
  done
  rm -f "${STUB_DIR}/running"' _ "${range%-*}" "${range#*-}" "${output}" "${script}" \
  </dev/null >/dev/null 2>&1 &
echo $! >"${STUB_DIR}/tasks.pid"
echo "42;stub"
"""

SQUEUE = r"""#!/usr/bin/env bash
echo "$*" >>"${STUB_DIR}/squeue.calls"
if [ -n "${STUB_PURGED:-}" ] && [ ! -e "${STUB_DIR}/running" ]; then
  echo "slurm_load_jobs error: Invalid job id specified" >&2
  exit 1
fi
if [ -e "${STUB_DIR}/running" ]; then echo RUNNING; fi
"""

# scancel / qdel: record the call and end the stub's tasks.
CANCEL = r"""#!/usr/bin/env bash
echo "$(basename "$0") $*" >>"${STUB_DIR}/cancel.calls"
if [ -f "${STUB_DIR}/tasks.pid" ]; then kill -- "-$(cat "${STUB_DIR}/tasks.pid")" 2>/dev/null; fi
rm -f "${STUB_DIR}/running"
"""

# qsub with -sync y: records its arguments, prints the submission line, then runs the tasks
# of -t A-B in order (output to -o, where $TASK_ID is the index) and waits for them; the
# task given by STUB_KILL is killed by the scheduler, as for sbatch.
QSUB = r"""#!/usr/bin/env bash
set -eu
n=$(find "${STUB_DIR}" -name 'qsub.*.args' | wc -l)
printf '%s\n' "$@" >"${STUB_DIR}/qsub.${n}.args"
prev=
for arg in "$@"; do
  case "${prev}" in
    -t) tasks=${arg} ;;
    -o) output=${arg} ;;
    -N) name=${arg} ;;
  esac
  prev=${arg}
done
script=${!#}
echo "Your job-array 7.${tasks}:1 (\"${name}\") has been submitted"
setsid bash -c 'echo $$ >"${STUB_DIR}/tasks.pid"
  for ((task = $1; task <= $2; task++)); do
    rc=0
    out=${3//"\$TASK_ID"/${task}}
    if [ "${task}" = "${STUB_KILL:-}" ]; then
      echo "job 7.${task} exceeded hard wallclock time" >"${out}"
      continue
    fi
    PATH=${STUB_TASK_PATH:-}${STUB_TASK_PATH:+:}${PATH} JOB_ID=7 SGE_TASK_ID=${task} \
      bash "$4" >"${out}" 2>&1 || rc=$?
    echo "Job 7.${task} exited with exit code ${rc}."
  done' _ "${tasks%-*}" "${tasks#*-}" "${output}" "${script}" </dev/null &
wait $!
"""


@pytest.fixture
def stubs(tmp_path):
    """Environment with the stub scheduler commands first on PATH; their records in stub/."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", SBATCH), ("squeue", SQUEUE), ("scancel", CANCEL),
                       ("qsub", QSUB), ("qdel", CANCEL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_DIR": str(stub_dir)}


def run(args, cwd, env, **kwargs):
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, **kwargs)


def submitted(env, tool="sbatch", n=0):
    """The arguments of the n-th call of the stub `tool`."""
    return (Path(env["STUB_DIR"]) / f"{tool}.{n}.args").read_text().splitlines()


def read_log(path):
    """Lines of a launcher log, checked to have run_local.sh's header and footer."""
    lines = Path(path).read_text().splitlines()
    assert lines[0].startswith("# ") and lines[1].startswith("# Started at ")
    assert re.fullmatch(r"# Accounting: time=\d+ threads=1", lines[-2])
    return lines


SLURM = UTILS / "run_slurm.sh"
SGE = UTILS / "run_sge.sh"


# ---------------------------------------------------------------- run_slurm.sh


def test_slurm_one_array_job_with_local_logs(tmp_path, stubs):
    res = run([SLURM, "JOB=1:3", "exp/log/x.JOB.log", "printf", "<%s>\\n", "job JOB", "it's"],
              tmp_path, stubs)
    assert res.returncode == 0, res.stderr
    qdir = tmp_path / "exp/log/q"
    assert submitted(stubs) == [
        "--export=ALL", "--parsable", "--job-name=x.JOB", "--array=1-3",
        f"--output={qdir}/x.JOB.%a.out", f"{qdir}/x.JOB.sh"]
    for job in (1, 2, 3):
        lines = read_log(tmp_path / f"exp/log/x.{job}.log")
        assert lines[0] == f"# printf \\<%s\\>\\\\n job\\ {job} it\\'s"
        assert lines[3:5] == [f"<job {job}>", "<it's>"]
        assert re.fullmatch(r"# Ended \(code 0\) at .+", lines[-1])
        assert (qdir / f"x.JOB.{job}.rc").read_text() == "0\n"
        assert (qdir / f"x.JOB.{job}.out").read_text().startswith(
            f"# slurm job 42 task {job} on ")


def test_slurm_single_job_keeps_literal_job(tmp_path, stubs):
    res = run([SLURM, "one.log", "echo", "JOB"], tmp_path, stubs)
    assert res.returncode == 0, res.stderr
    assert "--array=1-1" in submitted(stubs)
    assert read_log(tmp_path / "one.log")[3] == "JOB"


def test_slurm_builtin_rules_map_job_options(tmp_path, stubs):
    res = run([SLURM, "--gpu", "2", "--mem", "4G", "--time", "1:00:00", "--num-threads", "3",
               "--max-jobs-run", "2", "JOB=2:5", "log/o.JOB.log", "true"], tmp_path, stubs)
    assert res.returncode == 0, res.stderr
    args = submitted(stubs)
    assert args[:5] == ["--export=ALL", "--gres=gpu:2", "--mem=4G", "--time=1:00:00",
                        "--cpus-per-task=3"]
    assert "--array=2-5%2" in args
    # gpu 0 and one thread ask for nothing.
    res = run([SLURM, "--gpu", "0", "--num-threads", "1", "log/p.log", "true"], tmp_path, stubs)
    assert res.returncode == 0, res.stderr
    assert submitted(stubs, n=1)[:3] == ["--export=ALL", "--parsable", "--job-name=p"]


def test_slurm_config_rules_partitions_and_defaults(tmp_path, stubs):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/slurm.conf").write_text(
        "# site rules\n"
        "command sbatch --export=ALL --account=asd   # every job\n"
        "option gpu=0 -p cpu\n"
        "option gpu=* -p gpu --gres=gpu:$0\n"
        "default mem=2G\n"
        "option mem=* --mem-per-cpu=$0\n"
        "option num_threads=* -c $0\n")
    # conf/slurm.conf of the working directory is the default config.
    assert run([SLURM, "a.log", "true"], tmp_path, stubs).returncode == 0
    assert submitted(stubs)[:5] == ["--export=ALL", "--account=asd", "-p", "cpu",
                                    "--mem-per-cpu=2G"]
    res = run([SLURM, "--conf", "conf/slurm.conf", "--gpu", "4", "--mem", "8G",
               "--num-threads", "2", "b.log", "true"], tmp_path, stubs)
    assert res.returncode == 0, res.stderr
    assert submitted(stubs, n=1)[:9] == ["--export=ALL", "--account=asd", "-p", "gpu",
                                         "--gres=gpu:4", "--mem-per-cpu=8G", "-c", "2",
                                         "--parsable"]


def test_slurm_config_errors(tmp_path, stubs):
    conf = tmp_path / "s.conf"
    conf.write_text("command sbatch\noption gpu=0\n")
    res = run([SLURM, "--conf", conf, "--gpu", "1", "a.log", "true"], tmp_path, stubs)
    assert res.returncode == 2
    assert f"--gpu 1: {conf} has no rule for it" in res.stderr
    conf.write_text("command sbatch\n\noption partition=* -p $0\n")
    res = run([SLURM, "--conf", conf, "a.log", "true"], tmp_path, stubs)
    assert res.returncode == 2
    assert (f"{conf} line 3: 'partition=*': the names are gpu, mem, time and num_threads"
            in res.stderr)
    conf.write_text("sbatch --export=ALL\n")
    res = run([SLURM, "--conf", conf, "a.log", "true"], tmp_path, stubs)
    assert res.returncode == 2 and f"{conf} line 1: expected 'command ...'" in res.stderr
    conf.write_text("option gpu=* --gres=gpu:$0\n")
    res = run([SLURM, "--conf", conf, "a.log", "true"], tmp_path, stubs)
    assert res.returncode == 2 and "has no 'command' line" in res.stderr
    res = run([SLURM, "--conf", tmp_path / "missing.conf", "a.log", "true"], tmp_path, stubs)
    assert res.returncode == 2 and "missing.conf: no such file" in res.stderr
    assert not (Path(stubs["STUB_DIR"]) / "sbatch.0.args").exists()


def test_slurm_failure_names_first_failing_log(tmp_path, stubs):
    res = run([SLURM, "JOB=1:4", "log/f.JOB.log",
               "bash", "-c", "echo output of JOB; exit $(( JOB % 2 == 0 ? 3 : 0 ))"],
              tmp_path, stubs)
    assert res.returncode == 1
    assert "run_slurm.sh: 2 / 4 failed (job 42), log is in log/f.2.log" in res.stderr
    assert "output of 2" in res.stderr and "# Ended (code 3) at " in res.stderr
    assert read_log(tmp_path / "log/f.3.log")[-1].startswith("# Ended (code 0) at ")


@pytest.mark.parametrize("purged", [False, True])
def test_slurm_task_killed_by_the_scheduler(tmp_path, stubs, purged):
    env = {**stubs, "STUB_KILL": "2", **({"STUB_PURGED": "1"} if purged else {})}
    res = run([SLURM, "--status-wait", "0", "JOB=1:3", "log/k.JOB.log", "echo", "JOB"],
              tmp_path, env)
    assert res.returncode == 1
    assert "run_slurm.sh: 1 / 3 failed (job 42), log is in log/k.2.log" in res.stderr
    assert "task 2 ended without an exit status" in res.stderr
    assert "CANCELLED AT now DUE TO TIME LIMIT" in res.stderr
    assert read_log(tmp_path / "log/k.3.log")[3] == "3"


def test_slurm_submission_failure(tmp_path, stubs):
    env = {**stubs, "STUB_SUBMIT_ERROR": "Invalid partition name specified"}
    res = run([SLURM, "JOB=1:2", "log/s.JOB.log", "true"], tmp_path, env)
    assert res.returncode == 1
    assert "run_slurm.sh: submission failed: sbatch --export=ALL" in res.stderr
    assert "Invalid partition name specified" in res.stderr
    assert not (tmp_path / "log/s.1.log").exists()


def test_slurm_interrupt_cancels_the_job(tmp_path, stubs):
    proc = subprocess.Popen([str(SLURM), "JOB=1:2", "log/i.JOB.log", "sleep", "30"],
                            cwd=tmp_path, env=stubs, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while not (tmp_path / "log/i.1.log").exists():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 130
    assert "interrupted; cancelling job 42" in proc.stderr.read()
    assert (Path(stubs["STUB_DIR"]) / "cancel.calls").read_text() == "scancel 42\n"


def test_slurm_usage_errors(tmp_path, stubs):
    for args, message in (
        (["--scheduler", "pbs", "a.log", "true"], "--scheduler must be slurm or sge"),
        (["--max-jobs-run", "0", "a.log", "true"], "--max-jobs-run must be a positive integer"),
        (["log/a.JOB.log", "true"], "contains JOB but no range"),
        (["JOB=0:2", "log/a.JOB.log", "true"], "need 1 <= first <= last"),
        (["JOB=1:x", "a.log", "true"], "bad job range 'JOB=1:x'"),
        (["a.log"], "expected a log file and a command"),
    ):
        res = run([SLURM, *args], tmp_path, stubs)
        assert res.returncode == 2 and message in res.stderr, (args, res.stderr)
    assert not (Path(stubs["STUB_DIR"]) / "sbatch.0.args").exists()


# ---------------------------------------------------------------- run_sge.sh


def test_sge_one_qsub_array_job(tmp_path, stubs):
    res = run([SGE, "--gpu", "1", "--mem", "2G", "--time", "2:00:00", "--num-threads", "4",
               "--max-jobs-run", "2", "JOB=1:3", "log/g.JOB.log", "echo", "JOB"],
              tmp_path, stubs)
    assert res.returncode == 0, res.stderr
    qdir = tmp_path / "log/q"
    assert submitted(stubs, "qsub") == [
        "-V", "-S", "/bin/bash", "-j", "y", "-l", "gpu=1", "-l", "mem_free=2G,ram_free=2G",
        "-l", "h_rt=2:00:00", "-pe", "smp", "4", "-N", "g.JOB", "-t", "1-3", "-tc", "2",
        "-o", f"{qdir}/g.JOB.$TASK_ID.out", "-sync", "y", f"{qdir}/g.JOB.sh"]
    for job in (1, 2, 3):
        assert read_log(tmp_path / f"log/g.{job}.log")[3] == str(job)
        assert (qdir / f"g.JOB.{job}.out").read_text().startswith(f"# sge job 7 task {job} on ")


def test_sge_failure_and_missing_status(tmp_path, stubs):
    res = run([SGE, "JOB=1:3", "log/f.JOB.log", "bash", "-c", "echo out JOB; exit $((JOB - 1))"],
              tmp_path, stubs)
    assert res.returncode == 1
    assert "run_sge.sh: 2 / 3 failed (job 7), log is in log/f.2.log" in res.stderr
    assert "out 2" in res.stderr
    res = run([SGE, "--status-wait", "0", "JOB=1:3", "log/k.JOB.log", "true"], tmp_path,
              {**stubs, "STUB_KILL": "3"})
    assert res.returncode == 1
    assert "run_sge.sh: 1 / 3 failed (job 7), log is in log/k.3.log" in res.stderr
    assert "task 3 ended without an exit status" in res.stderr
    assert "exceeded hard wallclock time" in res.stderr


def test_sge_interrupt_deletes_the_job(tmp_path, stubs):
    proc = subprocess.Popen([str(SGE), "JOB=1:2", "log/i.JOB.log", "sleep", "30"],
                            cwd=tmp_path, env=stubs, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while not (tmp_path / "log/i.1.log").exists():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 130
    assert "interrupted; cancelling job 7" in proc.stderr.read()
    assert (Path(stubs["STUB_DIR"]) / "cancel.calls").read_text() == "qdel 7\n"


# ---------------------------------------------------------------- run_stdout.sh


def test_stdout_runs_jobs_in_order_and_prints_the_logs(tmp_path):
    res = subprocess.run([str(UTILS / "run_stdout.sh"), "--gpu", "1", "JOB=1:3", "log/s.JOB.log",
                          "bash", "-c", "echo out JOB; echo err JOB >&2; exit $((JOB == 2))"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    logs = [read_log(tmp_path / f"log/s.{job}.log") for job in (1, 2, 3)]
    assert res.stdout.splitlines() == logs[0] + logs[1] + logs[2]
    for job, lines in zip((1, 2, 3), logs):
        assert lines[3:5] == [f"out {job}", f"err {job}"]
        assert lines[-1].startswith(f"# Ended (code {int(job == 2)}) at ")
    assert res.stderr == "run_stdout.sh: 1 / 3 failed, log is in log/s.2.log\n"


# ---------------------------------------------------------------- cmd.sh


def test_cmd_sh_and_scheduler_configs_are_identical_in_every_recipe():
    assert REPO / "egs/TEMPLATE/asd1" in RECIPES and DCASE20 in RECIPES
    for name in ("cmd.sh", "conf/slurm.conf", "conf/queue.conf"):
        master = (REPO / "egs/TEMPLATE/asd1" / name).read_bytes()
        for recipe in RECIPES:
            copy = recipe / name
            assert copy.is_file(), f"{copy} is missing: copy egs/TEMPLATE/asd1/{name}"
            assert copy.read_bytes() == master, f"{copy} differs from egs/TEMPLATE/asd1/{name}"


@pytest.mark.parametrize("backend,launcher", [
    (None, "utils/run_local.sh"), ("local", "utils/run_local.sh"),
    ("stdout", "utils/run_stdout.sh"), ("slurm", "utils/run_slurm.sh --conf conf/slurm.conf"),
    ("sge", "utils/run_sge.sh --conf conf/queue.conf")])
def test_cmd_sh_backend_from_environment(backend, launcher):
    env = {k: v for k, v in os.environ.items() if k != "ASD_CMD_BACKEND"}
    if backend:
        env["ASD_CMD_BACKEND"] = backend
    show = '. ./cmd.sh && echo "${train_cmd}|${cuda_cmd}|${decode_cmd}"'
    res = subprocess.run(["bash", "-c", show], cwd=DCASE20, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"{launcher}|{launcher}|{launcher}\n"


def test_cmd_sh_unknown_backend():
    res = subprocess.run(["bash", "-c", ". ./cmd.sh; echo after"], cwd=DCASE20,
                         env={**os.environ, "ASD_CMD_BACKEND": "pbs"}, capture_output=True,
                         text=True)
    assert "unknown backend 'pbs' (ASD_CMD_BACKEND)" in res.stderr
    assert res.stdout == "after\n"  # sourced: returns 1 instead of exiting the caller


@pytest.mark.parametrize("backend,tool,gpu_request", [
    ("slurm", "sbatch", ["--gres=gpu:2"]), ("sge", "qsub", ["-l", "gpu=2"])])
def test_training_with_ngpu_asks_the_scheduler_for_gpus(tmp_path, stubs, backend, tool,
                                                         gpu_request):
    recipe = tmp_path / "egs/asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(recipe)], check=True,
                   capture_output=True)
    # The job's python is a stand-in that prints its arguments and fails.
    fake_bin = tmp_path / "fake_bin"
    fake_bin.mkdir()
    (fake_bin / "python").write_text('#!/bin/sh\necho "stand-in python $*"\nexit 1\n')
    (fake_bin / "python").chmod(0o755)
    env = {**stubs, "ASD_CMD_BACKEND": backend, "STUB_TASK_PATH": str(fake_bin)}
    res = subprocess.run(["./run.sh", "--stage", "3", "--stop-stage", "3", "--ngpu", "2"],
                         cwd=recipe, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    args = submitted(env, tool)
    assert any(args[i:i + len(gpu_request)] == gpu_request for i in range(len(args)))
    assert args[-1] == str(recipe / "exp/train_stgram_mfn/log/q/train.sh")
    assert "1 / 1 failed" in res.stderr and "exp/train_stgram_mfn/log/train.log" in res.stderr
    log = (recipe / "exp/train_stgram_mfn/log/train.log").read_text()
    assert re.search(r"^stand-in python .*asd_lib\.bin\.train .*--ngpu 2", log, re.M)


# ---------------------------------------------------------------- shellcheck


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_clean():
    scripts = ["utils/run_slurm.sh", "utils/run_sge.sh", "utils/run_stdout.sh",
               "egs/TEMPLATE/asd1/cmd.sh", "egs/dcase20/asd1/cmd.sh", "tests/slurm/cluster.sh"]
    res = subprocess.run(["shellcheck", "-x", "--source-path=SCRIPTDIR", *scripts], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
