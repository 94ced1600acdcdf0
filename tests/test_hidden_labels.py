"""No score may use what the evaluation data hides, for every config that has a debug twin:
with a test set's class, domain and attribute files shuffled and its labels emptied, stage 4
writes the same bytes. The debug configs that other tests train already check it there
(the DCASE 2020 methods in test_methods_beat_chance, the DCASE 2024 systems in
test_systems2024, each recipe's default in its integration test); this file trains the rest
for one epoch on a tiny dumped set and checks them. A config whose settings and scoring
config equal those of a checked one (the AE baselines copied between years, which differ in
their header only) counts as checked, which keeps the test time down."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

import test_methods_beat_chance
import test_systems2024
from inference_helpers import hide_test_labels, outputs, run_stage4
from test_w2v2_ast import make_set
from train_helpers import train_with

REPO = Path(__file__).resolve().parents[1]
HERE = [
    "dcase20/asd1/conf/tuning/train_resnet50_ssl.debug.yaml",
    "dcase21/asd1/conf/tuning/train_ae_baseline.debug.yaml",
    "dcase24/asd1/conf/tuning/train_w2v2_ast.debug.yaml",
    "dcase24/asd1/conf/tuning/train_raw_ast.debug.yaml",
    "dcase24/asd1/conf/tuning/train_raw_wav2vec2.debug.yaml",
]
"""Debug configs checked here (the tiny random backbones of train_w2v2_ast and of the
training-free frozen encoders included)."""


def checked_elsewhere():
    """The debug configs whose own tests run the same check."""
    found = {f"dcase20/asd1/conf/{c}" for c in test_methods_beat_chance.METHODS}
    found |= {str(test_systems2024.debug_config(s).relative_to(REPO / "egs"))
              for s in test_systems2024.SYSTEMS}
    for test in sorted((REPO / "tests").glob("test_recipe_dcase*.py")):
        if "assert_stage4_ignores_hidden_labels(recipe, DEFAULT" in test.read_text():
            year = re.search(r"dcase(\d\d)", test.name).group(1)
            found.add(f"dcase{year}/asd1/conf/train_stgram_mfn.debug.yaml")
    return found


def decode_of(config: str) -> Path:
    """The inference config that a training config's header names, in its recipe."""
    line = re.search(r"# Scoring \(stage 4\): --inference_config (\S+)",
                     (REPO / "egs" / config).read_text())
    return REPO / "egs" / config.split("/")[0] / "asd1" / line.group(1)


def settings(config: str):
    """What stage 3 and stage 4 read of a debug config: its YAML and its scoring YAML."""
    return (yaml.safe_load((REPO / "egs" / config).read_text()),
            yaml.safe_load(decode_of(config).read_text()))


def test_every_debug_config_is_checked():
    every = {str(p.relative_to(REPO / "egs")) for p in REPO.glob("egs/*/asd1/conf/**/*.debug.yaml")}
    checked = checked_elsewhere() | set(HERE)
    assert checked <= every and not set(HERE) & checked_elsewhere()
    same = {c for c in every - checked if any(settings(c) == settings(k) for k in checked)}
    assert "dcase25/asd1/conf/tuning/train_ae_mahalanobis.debug.yaml" in same
    assert every - checked - same == set()


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden")
    return make_set(root / "train"), make_set(root / "test", split="test", seed=1)


def one_epoch(config: Path, target: Path) -> Path:
    conf = yaml.safe_load(config.read_text())
    for stage in conf["stages"]:
        stage["epochs"] = 1
        stage.get("scheduler_conf", {}).pop("t_max", None)
    target.write_text(yaml.safe_dump(conf))
    return target


@pytest.mark.parametrize("config", HERE, ids=lambda c: c.split("/")[0] + "-" + Path(c).stem)
def test_stage4_ignores_what_the_evaluation_data_hides(config, sets, tmp_path):
    path, decode = REPO / "egs" / config, decode_of(config)
    train_dir, test_dir = sets
    exp = tmp_path / "exp"
    train_with(one_epoch(path, tmp_path / "conf.yaml"), train_dir=train_dir, exp_dir=exp, seed=1,
               num_threads=1, verbose=0)
    blind = tmp_path / "blind"
    shutil.copytree(test_dir, blind)
    hide_test_labels(blind)
    scores = {}
    for name, data in (("test", test_dir), ("blind", blind)):
        out = run_stage4(exp, train_dir, tmp_path / f"out_{name}", {name: data},
                         args=["--config", str(decode)], checkpoint="latest",
                         dataset="dcase2024")
        scores[name] = outputs(out / name)
    assert "utt2score" in scores["test"] and scores["blind"] == scores["test"]
