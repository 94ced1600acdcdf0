"""Integration with a real Slurm: a one-node cluster on this host (tests/slurm/cluster.sh)
runs utils/run_slurm.sh array jobs, then the DCASE 2020 recipe's parallel dump (stage 2) and
a tiny training (stage 3) through the slurm backend of cmd.sh, whose outputs must equal those
of a local run. Skipped when the Slurm and MUNGE daemons are not installed (.ci/run installs
them: apt-get install slurmctld slurmd slurm-client munge)."""
import filecmp
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

pytestmark = pytest.mark.recipe

REPO = Path(__file__).resolve().parents[1]
CLUSTER = REPO / "tests/slurm/cluster.sh"
SLURM = REPO / "utils/run_slurm.sh"
PROGRAMS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
TINY = ["--nj", "2", "--segment_sec", "1", "--train_config", "conf/train_tiny.yaml",
        "--train_args", "--num_threads 1", "--local_data_opts",
        "--synth_duration 1 --synth_train_per_id 4 --synth_test_per_id 2 "
        "--synth_eval_test_per_id 4"]


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    """Environment whose SLURM_CONF names a running one-node cluster; stopped afterwards."""
    path = f"{os.environ['PATH']}:/usr/sbin:/sbin"  # the daemons' directories
    missing = [p for p in PROGRAMS if shutil.which(p, path=path) is None]
    if missing:
        pytest.skip(f"Slurm is not installed (missing: {', '.join(missing)}); "
                    "apt-get install slurmctld slurmd slurm-client munge")
    cluster_dir = tmp_path_factory.mktemp("slurm")
    res = subprocess.run([str(CLUSTER), "start", str(cluster_dir)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, f"the test cluster did not start:\n{res.stderr}"
    assert res.stdout == f"export SLURM_CONF={cluster_dir}/slurm.conf\n"
    try:
        yield {**os.environ, "PATH": path, "SLURM_CONF": f"{cluster_dir}/slurm.conf"}
    finally:
        subprocess.run([str(CLUSTER), "stop", str(cluster_dir)], timeout=120, check=True)
        for name in ("slurmd", "slurmctld", "munged"):
            assert not (cluster_dir / f"run/{name}.pid").exists()


def run(args, cwd, env, check=True):
    res = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"{args} failed ({res.returncode}):\n{res.stderr[-4000:]}")
    return res


def test_array_job_throttle_gpus_and_partitions(tmp_path, slurm_env):
    # 4 tasks, at most 2 at once: each appends "+" on start and "-" on end.
    job = "echo + >> events; sleep 1; echo - >> events; echo task JOB"
    run([SLURM, "--max-jobs-run", "2", "JOB=1:4", "log/t.JOB.log", "bash", "-c", job],
        tmp_path, slurm_env)
    running, peak = 0, 0
    for event in (tmp_path / "events").read_text().split():
        running += 1 if event == "+" else -1
        peak = max(peak, running)
    assert peak == 2
    for task in range(1, 5):
        assert f"task {task}" in (tmp_path / f"log/t.{task}.log").read_text().splitlines()
        out = (tmp_path / f"log/q/t.JOB.{task}.out").read_text()
        assert re.match(rf"# slurm job \d+ task {task} on ", out)

    # A site config: CPU jobs to partition cpu, GPU jobs to partition gpu with N GPUs.
    conf = tmp_path / "site.conf"
    conf.write_text("command sbatch --export=ALL\noption gpu=0 -p cpu\n"
                    "option gpu=* -p gpu --gres=gpu:$0\n")
    show = "echo partition=$SLURM_JOB_PARTITION gpus=${SLURM_GPUS_ON_NODE:-0}"
    for gpus, expected in ((0, "partition=cpu gpus=0"), (2, "partition=gpu gpus=2")):
        run([SLURM, "--conf", conf, "--gpu", gpus, f"log/g{gpus}.log", "bash", "-c", show],
            tmp_path, slurm_env)
        assert expected in (tmp_path / f"log/g{gpus}.log").read_text().splitlines()
    # The node has 2 GPUs: a request for 3 is refused at submission.
    res = run([SLURM, "--conf", conf, "--gpu", "3", "log/g3.log", "true"], tmp_path, slurm_env,
              check=False)
    assert res.returncode == 1 and "submission failed" in res.stderr
    assert "Requested node configuration is not available" in res.stderr


def test_failed_and_cancelled_tasks(tmp_path, slurm_env):
    # Task 2 exits with 3; task 3 is cancelled by Slurm while it runs (no exit status).
    script = tmp_path / "task.sh"
    script.write_text(textwrap.dedent("""\
        #!/usr/bin/env bash
        echo "output of $1"
        if [ "$1" = 2 ]; then exit 3; fi
        if [ "$1" = 3 ]; then scancel "${SLURM_ARRAY_JOB_ID}_3"; sleep 60; fi
        """))
    script.chmod(0o755)
    res = run([SLURM, "--status-wait", "1", "N=1:3", "log/f.N.log", script, "N"], tmp_path,
              slurm_env, check=False)
    assert res.returncode == 1
    assert re.search(r"run_slurm.sh: 2 / 3 failed \(job \d+\), log is in log/f.2.log", res.stderr)
    assert "output of 2" in res.stderr and "# Ended (code 3) at " in res.stderr
    assert (tmp_path / "log/q/f.N.2.rc").read_text() == "1\n"
    assert not (tmp_path / "log/q/f.N.3.rc").exists()
    assert "CANCELLED" in (tmp_path / "log/q/f.N.3.out").read_text()
    assert (tmp_path / "log/q/f.N.1.rc").read_text() == "0\n"


def dump_files(recipe: Path, dump: str):
    """The dumped data of a recipe: every file under <dump>/<set>/ except logs."""
    root = recipe / dump
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and "log" not in p.relative_to(root).parts)


def test_recipe_stages_2_and_3_on_slurm_equal_a_local_run(tmp_path, slurm_env):
    recipe = tmp_path / "egs/tiny/asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(recipe)], check=True,
                   capture_output=True)
    config = yaml.safe_load((recipe / "conf/train_stgram_mfn.debug.yaml").read_text())
    config["stages"][0]["epochs"] = 1
    (recipe / "conf/train_tiny.yaml").write_text(yaml.safe_dump(config))
    local_env = {**slurm_env, "ASD_CMD_BACKEND": "local", "OMP_NUM_THREADS": "1"}
    slurm = {**local_env, "ASD_CMD_BACKEND": "slurm"}

    run([recipe / "run.sh", "--stage", "0", "--stop-stage", "2", *TINY], recipe, local_env)
    (recipe / "dump").rename(recipe / "dump.local")
    run([recipe / "run.sh", "--stage", "2", "--stop-stage", "2", *TINY], recipe, slurm)
    files = dump_files(recipe, "dump")
    assert files == dump_files(recipe, "dump.local")
    assert {"train/feats.scp", "train/split/feats.1.scp", "train/split/feats.2.scp",
            "dev_test/feats.scp", "eval_test/split/feats.2.scp"} <= set(files)
    for name in files:
        assert filecmp.cmp(recipe / "dump" / name, recipe / "dump.local" / name,
                           shallow=False), name
    for dset in ("train", "dev_test", "eval_test"):
        for task in (1, 2):
            out = (recipe / f"dump/{dset}/log/q/dump.JOB.{task}.out").read_text()
            assert re.match(rf"# slurm job \d+ task {task} on ", out)

    run([recipe / "run.sh", "--stage", "3", "--stop-stage", "3", "--tag", ".local", *TINY],
        recipe, local_env)
    run([recipe / "run.sh", "--stage", "3", "--stop-stage", "3", "--tag", ".slurm", *TINY],
        recipe, slurm)
    assert (recipe / "exp/train_tiny.slurm/log/q/train.1.out").read_text().startswith(
        "# slurm job ")
    local = torch.load(recipe / "exp/train_tiny.local/latest.pth", map_location="cpu")
    on_slurm = torch.load(recipe / "exp/train_tiny.slurm/latest.pth", map_location="cpu")
    assert local.keys() == on_slurm.keys() == {"model", "head"}
    for part in ("model", "head"):
        assert local[part].keys() == on_slurm[part].keys()
        for key, value in local[part].items():
            assert torch.equal(value, on_slurm[part][key]), f"{part}.{key}"
