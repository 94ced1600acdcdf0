"""Faults of the shell recipe, as a user meets them: changed corpora, an experiment re-run
on other data, two runs in one recipe dir, a failed re-dump, the experiment's own run.sh,
and misused stage options. Each runs the DCASE 2020 recipe (copied with setup.sh) on a tiny
corpus on disk (fan and valve, 1 s clips)."""
import fcntl
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from faultkit import REPO, fault, snapshot

from asd_lib.bin import make_synthetic

pytestmark = pytest.mark.recipe

CONFIG = "--train_config conf/train_stgram_mfn.debug.yaml"
TINY = f"--nj 2 --segment_sec 1 --plot false {CONFIG}"


def make_corpus(path: Path, machines: str) -> Path:
    make_synthetic.main(["--layout", "dcase2020", "--out", str(path), "--machines", machines,
                         "--duration", "1", "--train_per_id", "3", "--test_normal_per_id", "1",
                         "--test_anomaly_per_id", "1", "--eval_test_per_id", "2", "--nj", "1",
                         "--verbose", "0"])
    return path


def run(recipe: Path, args: str, env=None, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(f"./run.sh {args}", shell=True, cwd=recipe, capture_output=True,
                          text=True, env={**os.environ, "DCASE2020": "", **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"./run.sh {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpora")
    return {"fan_valve": make_corpus(root / "fan_valve", "fan,valve"),
            "fan_pump": make_corpus(root / "fan_pump", "fan,pump")}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory, corpora):
    """The recipe after stages 0-3 on the fan + valve corpus."""
    target = tmp_path_factory.mktemp("egs") / "faults" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(target)], check=True)
    run(target, f"--stage 0 --stop-stage 3 --corpus_dir {corpora['fan_valve']} {TINY}")
    return target


def machines_of(data_dir: Path) -> set:
    return {line.split()[1] for line in (data_dir / "utt2machine").read_text().splitlines()}


@fault("stages 1-5 re-run on another corpus (fan + pump after fan + valve)",
       "refused with the fix", "stage 3 names the changed clips and asks for a new --tag; "
       "the experiment is unchanged")
def test_a_finished_experiment_is_not_reused_for_other_data(recipe, corpora):
    exp = recipe / "exp/train_stgram_mfn.debug"
    before = snapshot(exp)
    proc = run(recipe, f"--stage 1 --stop-stage 5 --corpus_dir {corpora['fan_pump']} {TINY}",
               check=False)
    assert proc.returncode != 0
    assert "was trained on other data" in proc.stderr and "another --tag" in proc.stderr
    assert machines_of(recipe / "data/train") == {"fan", "pump"}
    after = snapshot(exp)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= {"log/train.log", "run.history"}, changed
    run(recipe, f"--stage 1 --stop-stage 2 --corpus_dir {corpora['fan_valve']} {TINY}")


@fault("a machine-type folder added to the corpus", "recovery",
       "stage 1's key covers the corpus listing: it prepares the data again")
def test_stage1_sees_a_changed_corpus(recipe, corpora, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(corpora["fan_valve"], corpus)
    args = f"--stage 1 --stop-stage 1 --corpus_dir {corpus} {TINY}"
    run(recipe, args)
    assert "skipped" in run(recipe, args).stderr
    shutil.copytree(corpora["fan_pump"] / "dev_data/pump", corpus / "dev_data/pump")
    shutil.copytree(corpora["fan_pump"] / "eval_data/pump/train", corpus / "eval_data/pump/train")
    again = run(recipe, args).stderr
    assert "skipped" not in again
    assert machines_of(recipe / "data/train") == {"fan", "pump", "valve"}
    run(recipe, f"--stage 1 --stop-stage 2 --corpus_dir {corpora['fan_valve']} {TINY}")


@fault("an experiment's run.sh called with another corpus in db.sh / the environment",
       "recovery", "exp/<tag>/run.sh records the corpus it was made from and uses it")
def test_the_experiment_run_sh_keeps_its_corpus(recipe, corpora):
    exp = recipe / "exp/train_stgram_mfn.debug"
    text = (exp / "run.sh").read_text()
    assert f"--corpus_dir {corpora['fan_valve']}" in text
    proc = subprocess.run([str(exp / "run.sh"), "--stage", "1", "--stop-stage", "1"],
                          capture_output=True, text=True,
                          env={**os.environ, "DCASE2020": str(corpora["fan_pump"])})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert machines_of(recipe / "data/train") == {"fan", "valve"}


@fault("the experiment's run.sh re-run (it used to be rewritten while bash read it)",
       "recovery", "run.sh is written once; each call is added to run.history")
def test_the_experiment_run_sh_is_written_once(recipe):
    exp = recipe / "exp/train_stgram_mfn.debug"
    before = (exp / "run.sh").read_bytes()
    calls = len((exp / "run.history").read_text().splitlines())
    proc = subprocess.run([str(exp / "run.sh"), "--stage", "3", "--stop-stage", "3"],
                          capture_output=True, text=True, env={**os.environ, "DCASE2020": ""})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Successfully finished" in proc.stderr
    assert (exp / "run.sh").read_bytes() == before
    assert len((exp / "run.history").read_text().splitlines()) == calls + 1


@fault("stage 2 failing on a bad --short_clip", "recovery",
       "the new dump is built beside the old one; the previous dump is kept")
def test_a_failed_dump_keeps_the_previous_one(recipe):
    before = snapshot(recipe / "dump/train")
    proc = run(recipe, f"--stage 2 --stop-stage 2 --nj 2 --segment_sec 1 --short_clip stretch "
                       f"--sample_rate 8000 {CONFIG}", check=False)
    assert proc.returncode != 0
    assert "argument --short_clip: invalid choice: 'stretch'" in proc.stderr
    assert snapshot(recipe / "dump/train") == before
    assert (recipe / "dump/train/feats.scp").is_file()


@fault("a second run of the same recipe dir while one holds data/", "refused with the fix",
       "stops at once naming the holder's PID and command, or waits with --lock_wait true")
def test_a_second_run_waits_or_names_the_first(recipe, corpora):
    args = f"--stage 1 --stop-stage 1 --corpus_dir {corpora['fan_valve']} {TINY}"
    data = recipe / "data"
    (data / ".lock.d").mkdir(exist_ok=True)
    holder = subprocess.Popen(["sleep", "30"])
    (data / ".lock.d" / str(holder.pid)).write_text("./run.sh --stage 1 (the first run)\n")
    lock = open(data / ".lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        proc = run(recipe, args, check=False)
        assert proc.returncode == 1
        assert (f"data/ is in use by another run: PID {holder.pid} (./run.sh --stage 1 (the "
                "first run)). Wait for it to finish, or run with --lock_wait true") in proc.stderr

        def release():
            time.sleep(2)
            fcntl.flock(lock, fcntl.LOCK_UN)
        threading.Thread(target=release).start()
        start = time.monotonic()
        proc = run(recipe, f"{args} --lock_wait true")
        assert time.monotonic() - start >= 1.5 and "waiting for it" in proc.stderr
    finally:
        holder.kill()
        lock.close()


@fault("--stage 7, --stage abc, --stage 5 --stop-stage 2", "clear error",
       "exit 2 naming the valid range")
def test_stage_options_are_checked(recipe):
    for args, message in (("--stage 7", "--stage '7': must be a stage from 0 to 6"),
                          ("--stage abc", "--stage 'abc': must be a stage from 0 to 6"),
                          ("--stage 5 --stop-stage 2",
                           "--stage '5': must be at most --stop-stage 2, or nothing would run")):
        proc = run(recipe, f"{args} {TINY}", check=False)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "Successfully finished" not in proc.stderr


@fault("--stage 4 before any training", "clear error",
       "names the missing checkpoint and stage 3")
def test_inference_before_training_is_a_clear_error(recipe):
    proc = run(recipe, f"--stage 4 --stop-stage 4 --tag _never_trained {TINY}", check=False)
    assert proc.returncode == 1
    assert ("exp/train_stgram_mfn.debug_never_trained has no checkpoint best.pth; train it "
            "first (--stage 3)") in proc.stderr


@fault("run.sh started from another directory", "clear error",
       "names the recipe directory to cd to")
def test_run_sh_from_another_directory(recipe, tmp_path):
    proc = subprocess.run([str(recipe / "run.sh"), "--stage", "1"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"run it from its recipe directory: cd {recipe}" in proc.stderr
