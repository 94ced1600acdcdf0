"""Tests for utils/parse_options.sh, utils/run_local.sh and utils/split_scp.sh."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[1] / "utils"
OWN_SCRIPTS = ["parse_options.sh", "run_local.sh", "split_scp.sh", "validate_data_dir.sh",
               "check_options.sh", "corpus_listing.sh", "process_group.sh", "lock.sh"]

# A recipe-like script: defaults, a help message, then the options parser, under strict mode.
CALLER = """#!/usr/bin/env bash
set -euo pipefail
stage=1            # first stage to run
stop_stage=100     # last stage to run
use_gpu=false      # train on the GPU (a "#" in quotes is no comment)
train_config="conf/train a.yaml"
nj=4  # number of parallel jobs
help_message="Usage: $0 [options] <data-dir>
not_an_option=1  # inside the help text
"
. ./utils/parse_options.sh   # parse the command line
after_parsing=1  # declared too late to be an option
echo "stage=${stage} stop_stage=${stop_stage} use_gpu=${use_gpu}" \\
  "train_config=${train_config} nj=${nj}"
for arg in "$@"; do echo "arg=<${arg}>"; done
"""


@pytest.fixture
def recipe(tmp_path):
    """A recipe dir with a utils link (as made by setup.sh) and the calling script."""
    (tmp_path / "utils").symlink_to(UTILS)
    script = tmp_path / "run.sh"
    script.write_text(CALLER)
    script.chmod(0o755)
    return tmp_path


def run(args, cwd, **kwargs):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60, **kwargs)


# ---------------------------------------------------------------- parse_options.sh


def test_options_dash_underscore_and_equals_forms(recipe):
    res = run(
        ["./run.sh", "--stage", "3", "--stop-stage=5", "--train_config", "x y.yaml",
         "--use-gpu", "true", "--nj=7"],
        recipe,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "stage=3 stop_stage=5 use_gpu=true train_config=x y.yaml nj=7"
    ]


def test_defaults_kept_without_options(recipe):
    res = run(["./run.sh"], recipe)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (
        "stage=1 stop_stage=100 use_gpu=false train_config=conf/train a.yaml nj=4\n"
    )


@pytest.mark.parametrize("option", ["--foo-bar", "--after-parsing", "--not-an-option-x"])
def test_unknown_option_exits_2(recipe, option):
    res = run(["./run.sh", option, "1"], recipe)
    assert res.returncode == 2
    assert f"unknown option {option}" in res.stderr
    assert "--help" in res.stderr
    assert res.stdout == ""


def test_boolean_accepts_only_true_false(recipe):
    res = run(["./run.sh", "--use-gpu", "yes"], recipe)
    assert res.returncode == 2
    assert "--use-gpu takes true or false" in res.stderr
    res = run(["./run.sh", "--use-gpu=false"], recipe)
    assert res.returncode == 0
    assert "use_gpu=false" in res.stdout


def test_option_without_value_exits_2(recipe):
    res = run(["./run.sh", "--stage"], recipe)
    assert res.returncode == 2
    assert "--stage needs a value" in res.stderr


def test_config_is_sourced_and_command_line_wins(recipe):
    (recipe / "my.conf").write_text("stage=7\nnj=9\n")
    # --config comes after --nj, yet the command-line value still wins over the file.
    res = run(["./run.sh", "--nj", "2", "--config", "my.conf"], recipe)
    assert res.returncode == 0, res.stderr
    assert "stage=7 " in res.stdout and "nj=2" in res.stdout
    res = run(["./run.sh", "--config", "missing.conf"], recipe)
    assert res.returncode == 2
    assert "missing.conf" in res.stderr


def test_help_lists_every_declared_option_with_default(recipe):
    res = run(["./run.sh", "--help"], recipe)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.startswith("Usage: ./run.sh [options] <data-dir>\n")
    option_lines = [line for line in out.splitlines() if line.startswith("  --")]
    listed = [line.split()[0] for line in option_lines]
    assert listed == [
        "--stage", "--stop-stage", "--use-gpu", "--train-config", "--nj", "--config", "--help"
    ]
    by_name = {line.split()[0]: line for line in option_lines}
    assert re.search(r"\(default: 1\)\s+first stage to run$", by_name["--stage"])
    assert re.search(r"\(default: 100\)\s+last stage to run$", by_name["--stop-stage"])
    assert re.search(
        r"--use-gpu true\|false\s+\(default: false\)\s+train on the GPU \(a \"#\" in quotes",
        by_name["--use-gpu"],
    )
    assert by_name["--train-config"].rstrip().endswith("(default: conf/train a.yaml)")
    assert re.search(r"\(default: 4\)\s+number of parallel jobs$", by_name["--nj"])
    assert "after-parsing" not in out and "not-an-option" not in out.split("Options:")[1]


def test_positional_arguments_preserved(recipe):
    res = run(["./run.sh", "--stage", "2", "data/a b", "--nj", "3"], recipe)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("stage=2 ") and lines[0].endswith("nj=4")
    assert lines[1:] == ["arg=<data/a b>", "arg=<--nj>", "arg=<3>"]
    res = run(["./run.sh", "--", "--stage"], recipe)
    assert res.stdout.splitlines()[1:] == ["arg=<--stage>"]


# ---------------------------------------------------------------- run_local.sh


def read_log(path):
    lines = Path(path).read_text().splitlines()
    assert lines[0].startswith("# ")
    assert lines[1].startswith("# Started at ")
    assert re.fullmatch(r"# Accounting: time=\d+ threads=1", lines[-2])
    return lines


def test_run_local_substitutes_job_in_log_and_args(tmp_path):
    res = run(
        [str(UTILS / "run_local.sh"), "JOB=1:3", "log/x.JOB.log", "echo", "job JOB", "out.JOB"],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(tmp_path / "log")) == ["x.1.log", "x.2.log", "x.3.log"]
    for job in (1, 2, 3):
        lines = read_log(tmp_path / f"log/x.{job}.log")
        assert lines[0] == f"# echo job\\ {job} out.{job}"
        assert f"job {job} out.{job}" in lines
        assert re.fullmatch(r"# Ended \(code 0\) at .+", lines[-1])


def test_run_local_single_job_without_range(tmp_path):
    res = run([str(UTILS / "run_local.sh"), "deep/dir/one.log", "echo", "JOB"], tmp_path)
    assert res.returncode == 0, res.stderr
    lines = read_log(tmp_path / "deep/dir/one.log")
    assert "JOB" in lines  # no range: nothing substituted
    assert lines[-1].startswith("# Ended (code 0) at ")


def test_run_local_respects_max_jobs_run(tmp_path):
    # Each job appends "+" on start and "-" on end; the running count never exceeds 2
    # and reaches 2, since every job sleeps long enough for the next one to start.
    job = 'echo + >> events; sleep 0.4; echo - >> events'
    res = run(
        [str(UTILS / "run_local.sh"), "--max-jobs-run", "2", "--gpu", "1", "--mem", "4G",
         "--time", "1:00:00", "--num-threads", "2", "JOB=1:5", "log/p.JOB.log",
         "bash", "-c", job],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    events = (tmp_path / "events").read_text().split()
    assert events.count("+") == 5 and events.count("-") == 5
    running, peak = 0, 0
    for event in events:
        running += 1 if event == "+" else -1
        peak = max(peak, running)
    assert peak == 2


def test_run_local_failure_names_first_failing_log(tmp_path):
    # Jobs 2 and 4 fail; the first failing log is reported with its tail.
    res = run(
        [str(UTILS / "run_local.sh"), "JOB=1:4", "log/f.JOB.log",
         "bash", "-c", "echo output of JOB; exit $(( JOB % 2 == 0 ? 3 : 0 ))"],
        tmp_path,
    )
    assert res.returncode == 1
    assert "run_local.sh: 2 / 4 failed, log is in log/f.2.log" in res.stderr
    assert "output of 2" in res.stderr
    assert read_log(tmp_path / "log/f.2.log")[-1].startswith("# Ended (code 3) at ")
    assert read_log(tmp_path / "log/f.3.log")[-1].startswith("# Ended (code 0) at ")


def test_run_local_keeps_arguments_with_spaces_and_quotes(tmp_path):
    args = ["a b", "it's", 'say "hi"', "$HOME", "x|y", ""]
    res = run([str(UTILS / "run_local.sh"), "log/q.log", "printf", "<%s>\\n", *args], tmp_path)
    assert res.returncode == 0, res.stderr
    lines = read_log(tmp_path / "log/q.log")
    assert lines[3:-2] == [f"<{arg}>" for arg in args]


def test_run_local_usage_errors(tmp_path):
    script = str(UTILS / "run_local.sh")
    res = run([script, "--max-jobs-run", "0", "log/a.log", "true"], tmp_path)
    assert res.returncode == 2 and "positive integer" in res.stderr
    res = run([script, "log/a.JOB.log", "true"], tmp_path)
    assert res.returncode == 2 and "no range" in res.stderr
    res = run([script, "--queue", "x", "log/a.log", "true"], tmp_path)
    assert res.returncode == 2 and "unknown option --queue" in res.stderr
    assert not (tmp_path / "log").exists()


# ---------------------------------------------------------------- split_scp.sh


def test_split_scp_contiguous_near_equal(tmp_path):
    lines = [f"utt{i:02d} /x/{i}.wav" for i in range(10)]
    (tmp_path / "in.scp").write_text("\n".join(lines) + "\n")
    outs = [f"split/out.{k}.scp" for k in (1, 2, 3)]
    res = run([str(UTILS / "split_scp.sh"), "in.scp", *outs], tmp_path)
    assert res.returncode == 0, res.stderr
    parts = [(tmp_path / out).read_text().splitlines() for out in outs]
    assert [len(p) for p in parts] == [4, 3, 3]
    assert parts[0] + parts[1] + parts[2] == lines
    assert sorted(os.listdir(tmp_path / "split")) == ["out.1.scp", "out.2.scp", "out.3.scp"]


def test_split_scp_one_line_per_part_and_missing_final_newline(tmp_path):
    (tmp_path / "in.scp").write_text("a 1\nb 2\nc 3")
    res = run([str(UTILS / "split_scp.sh"), "in.scp", "o1", "o2", "o3"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert [(tmp_path / o).read_text() for o in ("o1", "o2", "o3")] == ["a 1\n", "b 2\n", "c 3\n"]


def test_split_scp_errors_leave_no_output(tmp_path):
    (tmp_path / "in.scp").write_text("a 1\nb 2\n")
    res = run([str(UTILS / "split_scp.sh"), "in.scp", "p/o1", "p/o2", "p/o3"], tmp_path)
    assert res.returncode == 1
    assert "in.scp (2 lines) into 3 parts" in res.stderr
    assert not (tmp_path / "p").exists() or os.listdir(tmp_path / "p") == []
    (tmp_path / "empty.scp").write_text("")
    res = run([str(UTILS / "split_scp.sh"), "empty.scp", "o1"], tmp_path)
    assert res.returncode == 1 and "empty.scp is empty" in res.stderr
    assert not (tmp_path / "o1").exists()


# ---------------------------------------------------------------- shellcheck


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_clean():
    res = run(["shellcheck", "-x", *OWN_SCRIPTS], UTILS)
    assert res.returncode == 0, res.stdout + res.stderr
