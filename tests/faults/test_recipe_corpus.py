"""The corpus as the recipe's stage 1 meets it: links inside it that lead out of it (to /),
dangle or loop, and an experiment made by a call that starts after stage 1 (the README's
workflow: stages 1-2 with --corpus_dir, then --stage 3). The DCASE 2020 recipe, copied
with setup.sh, on a tiny corpus on disk (fan, 1 s clips)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from faultkit import REPO, fault
from test_recipe_faults import CONFIG, TINY, make_corpus

pytestmark = pytest.mark.recipe


def run(recipe: Path, args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(f"./run.sh {args}", shell=True, cwd=recipe, capture_output=True,
                          text=True, env={**os.environ, "DCASE2020": "", "OMP_NUM_THREADS": "1"},
                          timeout=timeout)
    assert proc.returncode == 0, f"./run.sh {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus") / "fan", "fan")


@pytest.fixture
def recipe(tmp_path):
    target = tmp_path / "egs" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(target)], check=True,
                   capture_output=True)
    return target


@fault("a link to / (and dangling and looping links) inside the corpus", "handled and logged",
       "stage 1 lists the corpus without walking into links: it finishes at once, names each "
       "link it did not follow, and a new dangling link changes its key")
def test_links_in_the_corpus_are_not_walked_into(recipe, corpus, tmp_path):
    linked = tmp_path / "linked"
    shutil.copytree(corpus, linked)
    (linked / "root").symlink_to("/")
    (linked / "loop_a").symlink_to("loop_b")
    (linked / "loop_b").symlink_to("loop_a")
    args = f"--stage 1 --stop-stage 1 --corpus_dir {linked} {TINY}"
    first = run(recipe, args, timeout=120).stderr
    assert (f"{linked}/root -> /: a link to a directory, not followed; its files are not in "
            "stage 1's key (replace the link by the directory to have them checked)") in first
    for name, target in (("loop_a", "loop_b"), ("loop_b", "loop_a")):
        assert (f"{linked}/{name} -> {target}: a looping link, listed by name only; remove it "
                "or point it at the file") in first
    assert "skipped" in run(recipe, args, timeout=120).stderr
    (linked / "notes.txt").symlink_to("nowhere")
    again = run(recipe, args, timeout=120).stderr
    assert "skipped" not in again
    assert (f"{linked}/notes.txt -> nowhere: a dangling link, listed by name only; remove it or "
            "point it at the file") in again
    assert (recipe / "data/corpus").read_text() == f"{linked}\n"


@fault("an experiment created by `--stage 3` after stages 1-2 ran with `--corpus_dir`",
       "recovery", "stage 1 records the corpus in `data/corpus`; `exp/<tag>/run.sh` names "
       "that corpus, not db.sh's default")
def test_the_experiment_records_the_corpus_data_was_prepared_from(recipe, corpus):
    run(recipe, f"--stage 1 --stop-stage 2 --corpus_dir {corpus} {TINY}")
    run(recipe, f"--stage 3 --stop-stage 3 {TINY}")
    text = (recipe / "exp/train_stgram_mfn.debug/run.sh").read_text()
    assert text.splitlines()[-1].endswith(f" {CONFIG} --corpus_dir {corpus} \"$@\"")
    assert "synthetic_dcase2020" not in text
