"""What the recipe integration tests share: a recipe copied with setup.sh, run.sh calls,
and the check that stage 4 never reads what the evaluation data hides."""
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from inference_helpers import hide_test_labels, outputs, run_stage4

REPO = Path(__file__).resolve().parents[1]
DEFAULT = "exp/train_stgram_mfn.debug"  # the default system's experiment (debug config)
KMEANS = "kmeans_membank_best"  # its inference tag (the default inference config)


def make_recipe(tmp_path_factory, recipe: str) -> Path:
    """``egs/<recipe>/asd1`` copied to a temporary recipe dir with setup.sh --from."""
    target = tmp_path_factory.mktemp(recipe) / f"tiny_{recipe}" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), "--from",
                    str(REPO / "egs" / recipe / "asd1"), str(target)], check=True)
    return target


def tiny_options(machines: Sequence[str], data_opts: str = "") -> str:
    """run.sh options of a tiny synthetic corpus of ``machines`` (1 s clips; 4 source and 2
    target training clips and 2 test clips per condition), plus ``data_opts`` for
    local/data.sh."""
    data = (f"--synth_machines {','.join(machines)} --synth_duration 1 --synth_source_train 4 "
            f"--synth_target_train 2 --synth_test_per_condition 2 {data_opts}").strip()
    return f"--nj 2 --segment_sec 1 --plot false --local_data_opts '{data}'"


def default_system_recipe(tmp_path_factory, recipe: str, options: str) -> Path:
    """``egs/<recipe>/asd1`` copied, then stages 0-5 with the default system's debug
    config and ``options``."""
    target = make_recipe(tmp_path_factory, recipe)
    run(target, f"--stage 0 --stop-stage 5 --train_config conf/train_stgram_mfn.debug.yaml {options}")
    return target


def run(recipe: Path, args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(f"./run.sh {args}", shell=True, cwd=recipe, capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise AssertionError(f"./run.sh {args} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def assert_stage4_ignores_hidden_labels(recipe: Path, exp: str, decode: str, dataset: str,
                                        work: Path, sets=("eval_test",)) -> None:
    """Stage 4 of ``exp`` writes the same bytes for copies of the dumped test sets whose
    class, domain and attribute files are shuffled and whose labels are emptied (the
    evaluation test set by default: the one whose labels the official data hides)."""
    exp_dir, train = recipe / exp, recipe / "dump/train"
    copies = {}
    for name in sets:
        copies[name] = work / name
        shutil.copytree(recipe / "dump" / name, copies[name])
    args = ["--config", str(recipe / "conf/decode" / f"{decode}.yaml")]
    cwd = os.getcwd()
    os.chdir(recipe)  # dump/*/feats.scp paths are relative to the recipe
    try:
        run_stage4(exp_dir, train, work / "out", copies, args=args, dataset=dataset)
        before = {name: outputs(work / "out" / name) for name in sets}
        for path in copies.values():
            hide_test_labels(path)
        run_stage4(exp_dir, train, work / "out", copies, args=args, dataset=dataset)
    finally:
        os.chdir(cwd)
    for name in sets:
        assert before[name] and outputs(work / "out" / name) == before[name], name


def assert_training_free_trials(recipe: Path, options: str, dataset: str,
                                config: str = "conf/tuning/train_raw_logmel.yaml") -> dict:
    """Stages 3-5 of a training-free reference with ``--num_trials 2`` (after the default
    system's stages 0-2): nothing is trained, both trials score every clip with the same
    bytes, and stage 5 ends with the table over the trials. Returns its JSON."""
    proc = run(recipe, f"--stage 3 --stop-stage 5 {options} --train_config {config} "
                       "--inference_config conf/decode/knn.yaml --num_trials 2")
    name = Path(config).name.removesuffix(".yaml")
    trials = [recipe / "exp" / f"{name}_seed{seed}" for seed in (0, 1)]
    for exp in trials:
        assert "nothing to train" in (exp / "log/train.log").read_text()
        assert not (exp / "checkpoint.pth").exists() and not (exp / "train_history.csv").exists()
        assert (exp / "best.pth").resolve().name == "epoch0.pth"
    assert (trials[0] / "held_out.list").read_text() == (trials[1] / "held_out.list").read_text()
    for dset in ("dev_test", "eval_test"):
        first = outputs(trials[0] / "knn_best" / dset)
        assert first and outputs(trials[1] / "knn_best" / dset) == first
    summary = recipe / "exp" / f"{name}_trials/knn_best"
    data = json.loads((summary / "trials.json").read_text())
    rows = {row["set"]: row for row in data["rows"]}
    assert set(rows) >= {"dev_test"} and rows["dev_test"]["dataset"] == dataset
    assert rows["dev_test"]["trials"] == 2 and rows["dev_test"]["seeds"] == [0, 1]
    for stats in rows["dev_test"]["headline"].values():
        assert stats["std"] == 0.0 and stats["min"] == stats["max"]
    assert f"| {name}_seed{{0,1}} | knn_best | dev_test | 2 |" in proc.stdout + proc.stderr
    return data
