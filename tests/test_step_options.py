"""Training-step options change how a step computes, not what: the channels-last (and,
slow, the compiled) STgram-MFN step follows the eager step's loss trajectory over 20
steps; and the CPU process settings every stage uses (usable cores, freed memory kept)."""
import subprocess
import sys

import pytest

from asd_lib.bench.stepworker import make_variant, random_batches, run_steps
from asd_lib.utils.cpu import usable_cores

BATCH, SAMPLES, STEPS = 32, 4000, 20  # batch 32 of 0.25 s clips


def assert_same_trajectory(losses, reference):
    """Float rounding alone (the eager step on 1 thread against 2) moves the losses of
    this ArcFace (s = 30) training by up to 3e-3 relative by step 20, growing from 0 at
    step 1; a step that computed something else differs from the first steps on."""
    assert losses[:3] == pytest.approx(reference[:3], rel=1e-4)
    assert losses == pytest.approx(reference, rel=1e-2)


def trajectory(variant: str):
    setup = make_variant(variant, SAMPLES, seed=0)
    return run_steps(setup, random_batches(2, BATCH, SAMPLES, seed=0), STEPS)


@pytest.fixture(scope="module")
def eager_losses():
    return trajectory("eager")


def test_training_lowers_the_loss(eager_losses):
    assert sum(eager_losses[-4:]) < 0.8 * sum(eager_losses[:4])


def test_channels_last_step_follows_the_eager_trajectory(eager_losses):
    assert_same_trajectory(trajectory("channels_last"), eager_losses)


@pytest.mark.slow
def test_compiled_step_follows_the_eager_trajectory(eager_losses):
    assert_same_trajectory(trajectory("compile"), eager_losses)


def test_usable_cores_follow_slurm_and_the_cgroup_quota(tmp_path):
    affinity = usable_cores({}, tmp_path)
    assert affinity >= 1
    assert usable_cores({"SLURM_CPUS_PER_TASK": "1"}, tmp_path) == 1
    assert usable_cores({"SLURM_CPUS_PER_TASK": "999"}, tmp_path) == affinity
    assert usable_cores({"SLURM_CPUS_PER_TASK": "x"}, tmp_path) == affinity
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a core: one thread
    assert usable_cores({}, tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cores({}, tmp_path) == affinity
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert usable_cores({}, v1) == 1


REFAULTS = """
import resource, sys, torch
from asd_lib.utils.cpu import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.manual_seed(0)
x, conv = torch.randn(8, 64, 64, 157), torch.nn.Conv2d(64, 64, 3, padding=1)
for step in range(8):  # a conv layer's forward and backward, 20 MiB activations
    if step == 4:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.relu(conv(torch.relu(conv(x)))).sum().backward()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_kept_memory_is_reused_without_page_faults():
    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", REFAULTS, mode], check=True,
                             capture_output=True, text=True).stdout
        return int(out.split()[-1])
    default, kept = faults("default"), faults("keep")
    assert default > 4 * 5000  # every step faults its 20 MiB blocks in again
    assert kept < default / 4  # mostly reused (0-15,000 faults seen: heap fragmentation)
