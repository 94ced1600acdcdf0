"""Integration: a recipe made by TEMPLATE/setup.sh runs the DCASE 2020 stages 0-5 on a tiny
synthetic corpus, resumes a killed training run, and scores with the official metrics."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from asd_lib.corpus.dcase2020 import layout as dcase2020
from inference_helpers import outputs
from recipe_helpers import assert_training_free_trials

pytestmark = pytest.mark.recipe

REPO = Path(__file__).resolve().parents[1]
TINY = ("--nj 2 --segment_sec 1 --train_config conf/train_stgram_mfn.debug.yaml "
        "--local_data_opts '--synth_duration 1 --synth_train_per_id 4 --synth_test_per_id 2 "
        "--synth_eval_test_per_id 4'")


def run(recipe: Path, args: str, check=True, env=None):
    proc = subprocess.run(f"./run.sh {args}", shell=True, cwd=recipe, capture_output=True,
                          text=True, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"./run.sh {args} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def kill_session(sid: int) -> None:
    """SIGKILL to every process of session ``sid``, as a scheduler ends a job: the run's
    own process group (utils/process_group.sh) included."""
    while True:
        members = []
        for entry in os.listdir("/proc"):
            try:
                if (entry.isdigit() and os.getsid(int(entry)) == sid
                        and Path(f"/proc/{entry}/stat").read_text().split(") ")[1][0] != "Z"):
                    members.append(int(entry))
            except (ProcessLookupError, FileNotFoundError):
                continue
        if not members:
            return
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def count_lines(path: Path) -> int:
    return len(path.read_text().splitlines())


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    target = tmp_path_factory.mktemp("egs") / "tiny" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(target)], check=True)
    return target


def test_setup_sh_links_shared_files_and_copies_editable_ones(recipe):
    for name in ("asd.sh", "path.sh", "db.sh", "utils"):
        assert (recipe / name).is_symlink() and (recipe / name).exists(), name
    for name in ("run.sh", "cmd.sh", "conf", "local"):
        assert not (recipe / name).is_symlink() and (recipe / name).exists(), name
    proc = run(recipe, "--help")
    assert "--segment-sec VALUE" in proc.stdout and "(default: 10)" in proc.stdout
    assert run(recipe, "--no-such-option 1", check=False).returncode == 2


def test_missing_corpus_path_is_a_clear_error(recipe):
    proc = run(recipe, "--stage 1 --stop-stage 1", check=False,
               env={"DCASE2020": "/nonexistent/dcase2020"})
    assert proc.returncode != 0
    assert "/nonexistent/dcase2020" in proc.stderr


def test_stages_0_to_5_with_a_killed_and_resumed_training(recipe):
    run(recipe, f"--stage 0 --stop-stage 2 {TINY}")
    data = recipe / "data"
    n_train_ids = sum(len(dcase2020.DEV_IDS[m]) + len(dcase2020.EVAL_IDS[m])
                      for m in dcase2020.MACHINE_TYPES)
    assert n_train_ids == 41
    assert count_lines(data / "train/wav.scp") == 41 * 4
    assert len(set((data / "train/utt2class").read_text().split()[1::2])) == 41
    assert count_lines(data / "dev_test/utt2label") == 23 * 4
    assert count_lines(data / "eval_test/utt2label") == 18 * 4
    for dset in ("train", "dev_test", "eval_test"):
        assert count_lines(recipe / f"dump/{dset}/feats.scp") == count_lines(data / f"{dset}/wav.scp")
    # Complete data preparation and dumps are skipped on a re-run.
    again = run(recipe, f"--stage 1 --stop-stage 2 {TINY}").stderr
    assert "data/ is complete for these options and the corpus corpus/synthetic_dcase2020; skipped" in again
    assert "dump/train is complete; skipped" in again

    # Stage 3, killed (SIGKILL to every process of the run) once the first epoch is checkpointed.
    exp = recipe / "exp/train_stgram_mfn.debug"
    proc = subprocess.Popen(f"./run.sh --stage 3 --stop-stage 3 {TINY}", shell=True, cwd=recipe,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not (exp / "latest.pth").exists():  # written after checkpoint.pth
        assert proc.poll() is None and time.time() < deadline, "training did not reach epoch 1"
        time.sleep(0.05)
    kill_session(proc.pid)
    proc.wait()
    assert not (exp / "snapshots/epoch3.pth").exists()

    run(recipe, f"--stage 3 --stop-stage 5 {TINY}")
    log = (exp / "log/train.log").read_text()
    assert "resuming from" in log and "epoch 3 (arcface 3/3)" in log
    assert (exp / "run.sh").exists()

    for dset, n_ids in (("dev_test", 23), ("eval_test", 18)):
        out = exp / "neg_log_prob_best" / dset
        assert len(list(out.glob("anomaly_score_*_id_*.csv"))) == n_ids
        assert len(list(out.glob("decision_result_*_id_*.csv"))) == n_ids
        result = json.loads((out / "result.json").read_text())
        text = (out / "result.csv").read_text()
        for machine in dcase2020.MACHINE_TYPES:
            assert f"{machine}\nid,AUC,pAUC\n" in text
        assert (out / "result.md").read_text().count("|") > 20
        assert isinstance(result, dict) and result
    assert (exp / "neg_log_prob_best/dev_test/plots/roc_fan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plots/roc_fan.png" in (exp / "report.md").read_text()
    rows = (exp / "neg_log_prob_best/dev_test/anomaly_score_fan_id_00.csv").read_text().splitlines()
    assert len(rows) == 4 and all(r.split(",")[0].endswith(".wav") for r in rows)

    # Stages 4 and 5 are complete: a re-run skips them; new weights re-run inference.
    again = run(recipe, f"--stage 4 --stop-stage 5 {TINY}").stderr
    assert "exp/train_stgram_mfn.debug/neg_log_prob_best/dev_test is complete; skipped" in again
    assert "neg_log_prob_best/eval_test is scored; skipped" in again
    scores_before = (exp / "neg_log_prob_best/dev_test/utt2score").read_text()
    redo = run(recipe, f"--stage 4 --stop-stage 5 --inference_checkpoint latest {TINY}").stderr
    assert "neg_log_prob_latest/dev_test is complete; skipped" not in redo
    assert (exp / "neg_log_prob_latest/dev_test/result.json").exists()
    assert (exp / "neg_log_prob_best/dev_test/utt2score").read_text() == scores_before

    # Each inference keeps the command that made it; each row of the table shows its own.
    made = {tag: (exp / tag / "run.sh").read_text().splitlines()[-1]
            for tag in ("neg_log_prob_best", "neg_log_prob_latest")}
    assert all("&& ./asd.sh --dataset dcase2020 " in line for line in made.values())
    assert "--inference_checkpoint latest" in made["neg_log_prob_latest"]
    assert "--inference_checkpoint" not in made["neg_log_prob_best"]
    table = subprocess.run([str(REPO / "tools/venv/bin/python"), "-m", "asd_lib.bin.show_results",
                            "--experiments", exp.name], cwd=recipe, capture_output=True,
                           text=True, check=True).stdout
    commands = {line.split(" | ")[1]: line.rsplit(" | ", 1)[1] for line in table.splitlines()
                if line.startswith(f"| {exp.name} |") and " | dev_test | " in line}
    assert "--inference_checkpoint latest" in commands["neg_log_prob_latest"]
    assert "--inference_checkpoint" not in commands["neg_log_prob_best"]


def test_clp_scf_two_stages_through_the_recipe(recipe):
    """CLP-SCF's staged losses end to end through run.sh (after the main test's stages 0-2):
    SupCon pretraining, then ArcFace fine-tuning from its weights, then scoring."""
    run(recipe, f"--stage 3 --stop-stage 5 --plot false "
                f"{TINY.replace('conf/train_stgram_mfn.debug.yaml', 'conf/tuning/train_clp_scf.debug.yaml')}")
    exp = recipe / "exp/train_clp_scf.debug"
    log = (exp / "log/train.log").read_text()
    assert "stage 1/2 'pretrain'" in log and "stage 2/2 'finetune'" in log
    history = (exp / "train_history.csv").read_text().splitlines()
    assert [row.split(",")[1] for row in history[1:]] == ["pretrain"] * 2 + ["finetune"] * 2
    assert (exp / "best.pth").resolve().name in ("epoch3.pth", "epoch4.pth")  # chosen in stage 2
    result = json.loads((exp / "neg_log_prob_best/dev_test/result.json").read_text())
    assert 0.0 <= result["average"]["AUC"] <= 1.0


def test_trials_same_seed_same_bytes_other_seed_other_scores(recipe):
    """--num_trials 2 after the main test: the seed-0 trial scores every clip with the same
    bytes as the main test's experiment (seed 0, killed and resumed), the seed-1 trial with
    other scores, both with the same held-out split; one table over the trials."""
    proc = run(recipe, f"--stage 3 --stop-stage 5 --plot false --num_trials 2 {TINY}")
    single = recipe / "exp/train_stgram_mfn.debug"
    seed0, seed1 = (recipe / f"exp/train_stgram_mfn.debug_seed{k}" for k in (0, 1))
    for dset in ("dev_test", "eval_test"):
        before = outputs(single / "neg_log_prob_best" / dset)
        assert before and outputs(seed0 / "neg_log_prob_best" / dset) == before
        assert ((seed1 / "neg_log_prob_best" / dset / "utt2score").read_bytes()
                != before["utt2score"])
    assert (seed0 / "held_out.list").read_text() == (seed1 / "held_out.list").read_text()
    assert "--train_args --seed\\ 1 " in (seed1 / "run.sh").read_text()
    summary = recipe / "exp/train_stgram_mfn.debug_trials/neg_log_prob_best"
    rows = json.loads((summary / "trials.json").read_text())["rows"]
    dev = next(r for r in rows if r["set"] == "dev_test")
    seeds_auc = [json.loads((exp / "neg_log_prob_best/dev_test/result.json").read_text())
                 ["average"]["AUC"] for exp in (seed0, seed1)]
    assert dev["trials"] == 2 and dev["headline"]["AUC"]["values"] == seeds_auc
    assert dev["headline"]["AUC"]["mean"] == pytest.approx(sum(seeds_auc) / 2, abs=1e-12)
    assert "| train_stgram_mfn.debug_seed{0,1} | neg_log_prob_best | dev_test | 2 |" in proc.stdout


def test_training_free_reference_trials_and_comparison(recipe):
    """The log-mel reference over two trials (nothing trained, identical scores), then the
    paired comparison of the trained trials with it, one verdict per headline number."""
    assert_training_free_trials(recipe, TINY, "dcase2020")
    proc = subprocess.run(
        [str(REPO / "tools/venv/bin/python"), "-m", "asd_lib.bin.compare",
         "exp/train_stgram_mfn.debug_seed*/neg_log_prob_best", "exp/train_raw_logmel_seed*/knn_best",
         "--resamples", "200", "--json", "compare.json"],
        cwd=recipe, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    sets = json.loads((recipe / "compare.json").read_text())["sets"]
    verdicts = [n["verdict"] for s in sets.values() for n in s["numbers"].values()]
    assert len(verdicts) == 6 and set(verdicts) <= {
        "A better", "B better", "no significant difference at 95 %"}


def test_run_trials_prints_one_table_and_the_comparison(recipe):
    """utils/run_trials.sh after the trial tests above (every stage complete, so skipped):
    one table over both systems' trials and the comparison with the log-mel reference."""
    data = ["--nj", "2", "--segment_sec", "1", "--plot", "false", "--local_data_opts",
            "--synth_duration 1 --synth_train_per_id 4 --synth_test_per_id 2 "
            "--synth_eval_test_per_id 4"]
    script = [str(recipe / "utils/run_trials.sh"), "--num_trials", "2"]
    refused = subprocess.run([*script, "conf/train_stgram_mfn.debug.yaml", "--",
                              "--train_config", "x.yaml"], cwd=recipe, capture_output=True,
                             text=True)
    assert refused.returncode == 2 and "--train_config is set by this script" in refused.stderr
    proc = subprocess.run([*script, "conf/train_stgram_mfn.debug.yaml", "--", *data],
                          cwd=recipe, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ("exp/train_stgram_mfn.debug_seed0/neg_log_prob_best/dev_test is complete; skipped"
            in proc.stderr)
    assert "training already complete" in (
        recipe / "exp/train_stgram_mfn.debug_seed1/log/train.log").read_text()
    summary = (recipe / "exp/trials_summary.md").read_text()
    assert summary in proc.stdout
    assert "| train_stgram_mfn.debug_seed{0,1} | neg_log_prob_best | dev_test | 2 |" in summary
    assert "| train_raw_logmel_seed{0,1} | knn_best | dev_test | 2 |" in summary
    assert "## train_stgram_mfn.debug against train_raw_logmel" in summary
    assert summary.count("| dev_test | AUC |") == 1
