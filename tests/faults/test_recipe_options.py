"""Numeric options of asd.sh as a careless or hostile user gives them: each is checked as a
plain number in its range before any stage runs (utils/check_options.sh), so a bad value
stops the run with one line naming the option, instead of reaching bash arithmetic (where
``--nj 1.5`` skipped stage 2 with exit 0 and ``--nj 'nj[$(touch X)]'`` ran ``touch``).
The recipe is the DCASE 2020 one copied with setup.sh; stage 2 has a two-clip data dir."""
import os
import re
import subprocess
from pathlib import Path

import pytest
from faultkit import REPO, fault, snapshot, tone, write_scp, write_wav

from asd_lib.bin import dump
from asd_lib.data.audio import SEGMENT_SEC_RANGE


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    """A recipe dir whose data/train holds two 1 s clips, ready for stage 2."""
    target = tmp_path_factory.mktemp("egs") / "options" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(target)], check=True,
                   capture_output=True)
    wavs = [write_wav(target / "corpus" / f"{utt}.wav", tone(440 * (i + 1), 16000))
            for i, utt in enumerate(("fan-a", "fan-b"))]
    data = target / "data/train"
    write_scp(data / "wav.scp", zip(("fan-a", "fan-b"), wavs))
    write_scp(data / "utt2machine", [("fan-a", "fan"), ("fan-b", "fan")])
    write_scp(data / "utt2section", [("fan-a", "id_00"), ("fan-b", "id_00")])
    return target


def run(recipe: Path, args) -> subprocess.CompletedProcess:
    return subprocess.run(["./run.sh", *args], cwd=recipe, capture_output=True, text=True,
                          env={**os.environ, "DCASE2020": "", "OMP_NUM_THREADS": "1"},
                          timeout=300)


def assert_refused(recipe: Path, args, message: str) -> None:
    """Exit status 2 with ``message`` as the only line, nothing written, nothing run."""
    before = snapshot(recipe)
    proc = run(recipe, args)
    assert proc.returncode == 2, (args, proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"Error: {message}"), (args, proc.stderr)
    assert snapshot(recipe) == before, args


STAGE2 = ["--stage", "2", "--stop-stage", "2"]
JOBS = "a whole number of parallel jobs, from 1 to 100000"


@fault("`--nj` 1.5, 2x, 0, 08 or `'nj[$(touch X)]'`; `--ngpu 1.5`; `--stage` 7 or abc; "
       "`--sample_rate 8k`; `--max_clipped 2`; `--stage` after `--stop-stage`", "clear error",
       "checked as plain numbers in range before any stage: exit 2, one line naming the "
       "option, the value and the range; no bash arithmetic on the value, nothing run")
def test_numeric_options_are_plain_numbers_in_range(recipe):
    for value in ("1.5", "2x", "0", "08", "-1", " 2", "99999999999999999999"):
        assert_refused(recipe, [*STAGE2, "--nj", value], f"--nj '{value}': must be {JOBS}")
    assert_refused(recipe, [*STAGE2, "--nj", "nj[$(touch X)]"],
                   f"--nj 'nj[$(touch X)]': must be {JOBS}")
    assert not (recipe / "X").exists()
    assert_refused(recipe, ["--stage", "4", "--ngpu", "1.5"],
                   "--ngpu '1.5': must be a whole number of GPUs, from 0 (CPU) to 1024")
    for value in ("7", "abc", "1.0"):
        assert_refused(recipe, ["--stage", value], f"--stage '{value}': must be a stage from 0 to 6")
    assert_refused(recipe, ["--stop-stage", "x[$(touch X)]"],
                   "--stop-stage 'x[$(touch X)]': must be a stage from 0 to 6")
    assert_refused(recipe, ["--stage", "5", "--stop-stage", "2"],
                   "--stage '5': must be at most --stop-stage 2, or nothing would run")
    assert_refused(recipe, [*STAGE2, "--sample_rate", "8k"],
                   "--sample-rate '8k': must be a sample rate in Hz, a whole number from 8000 "
                   "to 192000")
    assert_refused(recipe, [*STAGE2, "--max_clipped", "2"],
                   "--max-clipped '2': must be a share of samples, a plain number from 0 to 1")
    assert not (recipe / "X").exists() and not (recipe / "dump").exists()
    proc = run(recipe, [*STAGE2, "--nj", "3", "--segment_sec", "1.5", "--sample_rate", "8000",
                        "--max_clipped", "0.5"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "dumped 2 clips of train with 2 jobs" in proc.stderr
    assert (recipe / "dump/train/.done").read_text().split()[1:] == [
        "sr=8000", "sec=1.5", "short=tile", "copy=auto", "pipes=false", "clipped=0.5"]


@fault("`--segment_sec` 1e9, inf, nan or 0.0001 (recipe or `bin/dump.py`)", "clear error",
       "asd.sh: exit 2 naming the option and the 1-60 s range; bin/dump.py: names the option "
       "and its range before reading any audio")
def test_segment_sec_out_of_range_names_the_option_and_the_range(recipe, capsys):
    for value in ("1e9", "inf", "nan", "0.0001", "0", "61", "-1"):
        assert_refused(recipe, [*STAGE2, "--segment_sec", value],
                       f"--segment-sec '{value}': must be a clip length in seconds, a plain "
                       "number from 1 to 60")
    shell = (REPO / "utils/check_options.sh").read_text()
    bounds = tuple(float(re.search(rf"^SEGMENT_SEC_{end}=(\S+)$", shell, re.M)[1])
                   for end in ("MIN", "MAX"))
    assert bounds == SEGMENT_SEC_RANGE == (1.0, 60.0)
    scp = recipe / "data/train/wav.scp"
    for value, message in (
            ("1e9", "argument --segment_sec: expected a number of seconds from 0 to 60, got '1e9'"),
            ("inf", "argument --segment_sec: expected a number of seconds from 0 to 60, got 'inf'"),
            ("0.00001", "argument --segment_sec: 1e-05 s is not one sample at --sample_rate "
                        "16000; the recipe takes 1 to 60 s")):
        with pytest.raises(SystemExit) as exit_info:
            dump.main(["--wav_scp", str(scp), "--out_prefix", str(recipe / "x/feats"),
                       "--segment_sec", value])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1].endswith(f": error: {message}")
    assert not (recipe / "x").exists()


@fault("`--num_trials 0`, `--seeds '1,2'` or `--seeds '$(touch X)'` (recipes with trials)",
       "clear error", "trials: a whole number from 1 to 1000; seeds: whole numbers separated "
       "by spaces; one line naming the option, nothing run")
def test_trials_and_seeds_are_checked_where_the_recipe_has_them(tmp_path):
    script = tmp_path / "check.sh"
    script.write_text(f"set -euo pipefail\n. {REPO / 'utils/check_options.sh'}\n"
                      "stage=0 stop_stage=5 nj=4 ngpu=0 sample_rate=16000 segment_sec=10\n"
                      "max_clipped=0.01 num_trials=$1 seeds=$2\ncheck_asd_options\necho valid\n")

    def check(num_trials, seeds):
        return subprocess.run(["bash", str(script), num_trials, seeds], cwd=tmp_path,
                              capture_output=True, text=True)

    for num_trials, seeds in (("1", ""), ("3", "0 1 2"), ("", " 7 ")):
        proc = check(num_trials, seeds)
        assert proc.returncode == 0 and proc.stdout == "valid\n", proc.stderr
    for num_trials, seeds, message in (
            ("0", "", "--num-trials '0': must be a whole number of trials, from 1 to 1000"),
            ("2.5", "", "--num-trials '2.5': must be a whole number of trials, from 1 to 1000"),
            ("2", "1,2", "--seeds '1,2': must be a space-separated list of whole numbers "
                         "(seeds), e.g. '0 1 2'"),
            ("2", "$(touch X)", "--seeds '$(touch X)': must be a space-separated list of whole "
                                "numbers (seeds), e.g. '0 1 2'")):
        proc = check(num_trials, seeds)
        assert proc.returncode == 2 and proc.stdout == "", (num_trials, seeds)
        assert proc.stderr.splitlines()[-1].endswith(f"Error: {message}")
    assert not (tmp_path / "X").exists()
