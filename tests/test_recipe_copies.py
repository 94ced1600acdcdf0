"""The 2021-2025 recipes are copies of egs/dcase24/asd1 (setup.sh --from) that differ only
where a recipe is meant to: run.sh options, local/data.sh (and the demo script beside it),
conf/ and RESULTS.md. Everything else (cmd.sh, the shared asd.sh, path.sh, db.sh and
utils/ links) is the same, so a fix to the shared stages reaches every year."""
import difflib
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = "dcase24"
COPIES = ("dcase21", "dcase22", "dcase23", "dcase25")
EDITABLE = ("run.sh", "local/", "conf/", "RESULTS.md")


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
    for link in ("asd.sh", "path.sh", "db.sh", "utils"):
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
