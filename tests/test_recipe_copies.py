"""The 2021-2025 recipes are copies of egs/dcase24/asd1 (setup.sh --from) that differ only
where a recipe is meant to: run.sh options, the demo script in local/, conf/ and
RESULTS.md. Everything else (cmd.sh, the shared asd.sh, path.sh, db.sh and utils/ links,
and local/data.sh, a link to utils/data.sh in every recipe) is the same, so a fix to the
shared stages reaches every year."""
import difflib
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = "dcase24"
COPIES = ("dcase21", "dcase22", "dcase23", "dcase25")
EDITABLE = ("run.sh", "local/run_", "conf/", "RESULTS.md")
RECIPES = ("dcase20", SOURCE) + COPIES


def tracked(recipe: str) -> dict:
    """``{path relative to egs/<recipe>/asd1: file text or link target}`` of git's files."""
    root = REPO / "egs" / recipe / "asd1"
    names = subprocess.run(["git", "ls-files", "."], cwd=root, check=True, capture_output=True,
                           text=True).stdout.split()
    return {name: os.readlink(root / name) if (root / name).is_symlink()
            else (root / name).read_text() for name in names}


@pytest.mark.parametrize("recipe", COPIES)
def test_a_year_differs_from_its_source_only_where_a_recipe_is_edited(recipe):
    source, copy = tracked(SOURCE), tracked(recipe)
    changed = {name for name in source.keys() & copy.keys() if source[name] != copy[name]}
    added_or_removed = source.keys() ^ copy.keys()
    outside = sorted(n for n in changed | added_or_removed if not n.startswith(EDITABLE))
    assert outside == [], outside
    for link in ("asd.sh", "path.sh", "db.sh", "utils", "local/data.sh"):
        assert copy[link] == source[link], link
    assert {"run.sh", "local/data.sh", "conf/train_stgram_mfn.yaml"} <= copy.keys()


@pytest.mark.parametrize("recipe", COPIES)
def test_run_sh_changes_only_its_header_and_options(recipe):
    source, copy = tracked(SOURCE)["run.sh"], tracked(recipe)["run.sh"]
    diff = difflib.unified_diff(source.splitlines(), copy.splitlines(), lineterm="", n=0)
    changed = [line[1:] for line in diff
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed, "run.sh is the source's: the year needs at least its --dataset"
    code = [line for line in changed if not line.startswith("#")]
    assert all(line.strip().startswith("--") for line in code), code
    assert f"--dataset dcase20{recipe[-2:]} \\" in copy


@pytest.mark.parametrize("recipe", RECIPES)
def test_local_data_sh_is_the_shared_script(recipe):
    """Every recipe's local/data.sh is a link to utils/data.sh, and it reads the corpus
    from --dataset (asd.sh passes run.sh's)."""
    root = REPO / "egs" / recipe / "asd1"
    link = root / "local/data.sh"
    assert link.is_symlink() and os.readlink(link) == "../utils/data.sh"
    assert link.resolve() == (REPO / "utils/data.sh").resolve()
    env = {**os.environ, f"DCASE20{recipe[-2:]}": ""}
    proc = subprocess.run(["local/data.sh", "--help"], cwd=root, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0 and "--dataset VALUE" in proc.stdout, proc.stderr
    dataset = f"dcase20{recipe[-2:]}"
    proc = subprocess.run(["local/data.sh", "--dataset", dataset, "--print-corpus", "true"],
                          cwd=root, capture_output=True, text=True, env=env, check=True)
    assert proc.stdout == f"corpus/synthetic_{dataset}\n"
    assert f"--dataset {dataset} \\" in (root / "run.sh").read_text()


def test_local_data_sh_needs_a_dataset():
    root = REPO / "egs" / SOURCE / "asd1"
    proc = subprocess.run(["local/data.sh", "--print-corpus", "true"], cwd=root,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--dataset must name a corpus" in proc.stderr
