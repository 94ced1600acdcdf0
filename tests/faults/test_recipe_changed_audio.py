"""The recipe re-run, stages 1-5, after its corpus was synthesised again with another seed
under the same file names: stage 3 refuses the finished experiment (its clips hold other
samples now) with the fix, instead of calling it complete and letting stages 4-5 score the
new audio with it. The DCASE 2020 recipe (copied with setup.sh) on a tiny corpus."""
import shutil
import subprocess
from pathlib import Path

import pytest
from faultkit import REPO, fault, snapshot
from test_recipe_faults import TINY, run

from asd_lib.bin import make_synthetic

pytestmark = pytest.mark.recipe


def synthesise(path: Path, seed: int) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    make_synthetic.main(["--layout", "dcase2020", "--out", str(path), "--machines", "fan",
                         "--duration", "1", "--train_per_id", "3", "--test_normal_per_id", "1",
                         "--test_anomaly_per_id", "1", "--eval_test_per_id", "2", "--nj", "1",
                         "--seed", str(seed), "--verbose", "0"])
    return path


@fault('the corpus synthesised again with another seed under the same names, stages 1-5 '
       're-run', 'refused with the fix', 'stage 3 says the clips hold other samples and asks '
       'for another --tag; the experiment is unchanged')
def test_other_audio_under_the_same_names_stops_the_recipe_at_stage_3(tmp_path):
    corpus = synthesise(tmp_path / "corpus", seed=0)
    recipe = tmp_path / "egs" / "changed" / "asd1"
    subprocess.run([str(REPO / "egs/TEMPLATE/asd1/setup.sh"), str(recipe)], check=True)
    run(recipe, f"--stage 1 --stop-stage 3 --corpus_dir {corpus} {TINY}")
    exp = recipe / "exp/train_stgram_mfn.debug"
    before = snapshot(exp)
    names = sorted(p.name for p in corpus.rglob("*.wav"))
    synthesise(corpus, seed=1)
    assert sorted(p.name for p in corpus.rglob("*.wav")) == names
    proc = run(recipe, f"--stage 1 --stop-stage 5 --corpus_dir {corpus} {TINY}", check=False)
    assert proc.returncode != 0
    wav = corpus / "dev_data/fan/train/normal_id_00_00000000.wav"
    assert (" ERROR: exp/train_stgram_mfn.debug was trained on other audio: 21 of its 21 "
            "clips in dump/train hold other samples under the same names (the first: "
            f"fan-normal_id_00_00000000, read from {wav}:0); train a new experiment with "
            "another --tag, or restore the data it was trained on\n") in proc.stderr
    assert "Stage 4" not in proc.stderr + proc.stdout
    after = snapshot(exp)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= {"log/train.log", "run.history"}, changed
