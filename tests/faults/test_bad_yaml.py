"""YAML that is valid but not a usable config: a key given twice in one mapping, an alias
bomb, a huge value of the wrong type. Each is a ``ConfigError`` naming the file, raised
before the experiment dir is created; no message quotes more than 200 characters of a
value (:mod:`asd_lib.utils.yamlread`)."""
import time

import pytest
from faultkit import fault

from asd_lib.bin import infer
from asd_lib.utils.config import ConfigError
from train_helpers import train_with

# write_config's training config (tests/test_train.py), as text with line numbers known.
CONFIG = """\
model: stgram_mfn
model_conf:
  table: liu8
head: arcface
head_conf:
  margin: 0.7
  scale: 30.0
valid_fraction: 0.25
num_workers: 0
stages:
- name: arcface
  epochs: 2
  batch_size: 8
  losses:
  - name: margin_cross_entropy
  optim: adam
  optim_conf:
    lr: 0.001
  scheduler: cosine
  scheduler_conf: {start_epoch: 1, min_lr_ratio: 0.1}
"""


def train_fails(trained, tmp_path, text: str) -> str:
    config = tmp_path / "train.yaml"
    config.write_text(text)
    exp = tmp_path / "exp"
    with pytest.raises(ConfigError) as err:
        train_with(config, train_dir=trained.data, exp_dir=exp, num_threads=1, verbose=0)
    assert not exp.exists()
    return str(err.value).replace(str(config), "<config>")


@pytest.mark.parametrize("text, expected", [
    (CONFIG + "valid_fraction: 0.5\n",
     "key 'valid_fraction' is given twice (lines 8 and 21); keep one"),
    (CONFIG.replace("  margin: 0.7\n", "  margin: 0.7\n  margin: 0.5\n"),
     "key 'margin' is given twice (lines 6 and 7); keep one"),
    (CONFIG.replace("min_lr_ratio: 0.1}", "min_lr_ratio: 0.1, start_epoch: 2}"),
     "key 'start_epoch' is given twice (on line 20); keep one"),
    (CONFIG + "split_by: machine\nsplit_overrides:\n  fan:\n    seed: 1\n    seed: 2\n",
     "key 'seed' is given twice (lines 24 and 25); keep one"),
])
@fault('a key given twice in a YAML config (training, a component\'s conf, a stage, '
       'split_overrides)', 'clear error',
       'names the file, the key and both lines; nothing written')
def test_a_key_given_twice_names_the_file_the_key_and_both_lines(trained, tmp_path, text,
                                                                   expected):
    assert train_fails(trained, tmp_path, text) == f"<config>: {expected}"


@fault('a key given twice in an inference config', 'clear error',
       'names the file, the key and both lines; no output written')
def test_a_key_given_twice_in_an_inference_config_is_refused(trained, tmp_path):
    config = tmp_path / "decode.yaml"
    config.write_text("backend: knn\nbackend_conf:\n  n_neighbors: 1\nbackend: lof\n")
    out = tmp_path / "scores"
    with pytest.raises(ConfigError) as err:
        infer.main(["--config", str(config), "--exp_dir", str(trained.exp), "--data_dir",
                    str(tmp_path / "no data here"), "--out_dir", str(out / "test"),
                    "--train_dir", str(trained.data), "--train_out_dir", str(out / "train"),
                    "--verbose", "0"])
    assert str(err.value) == f"{config}: key 'backend' is given twice (lines 1 and 4); keep one"
    assert not out.exists()


def alias_bomb(levels: int) -> str:
    """``head_conf.margin`` a list of ``levels`` lists, each ten aliases of the one before:
    10**levels numbers written in one line of a few hundred characters."""
    lists = ["&l0 [" + ", ".join(["0.7"] * 10) + "]"]
    lists += [f"&l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]"
              for level in range(1, levels)]
    return CONFIG.replace("  margin: 0.7\n", f"  margin: [{', '.join(lists)}]\n")


@fault('a YAML alias bomb in a config (aliases that expand to millions of values)',
       'refused with the fix', 'refused before it is expanded or validated, at once; one line '
       'says why')
def test_an_alias_bomb_is_refused_before_it_is_expanded(trained, tmp_path):
    tic = time.monotonic()
    message = train_fails(trained, tmp_path, alias_bomb(6))
    assert time.monotonic() - tic < 2.0
    assert message == ("<config>: its aliases expand it to more than 100,000 values (an "
                       "alias bomb?); a config is refused beyond that: write its values out")


@fault('a long value of the wrong type in a config', 'clear error',
       'names the file and the key; quotes at most 200 characters of the value')
def test_a_long_wrong_value_is_quoted_in_at_most_200_characters(trained, tmp_path):
    margins = "[" + ", ".join(["0.7"] * 5000) + "]"
    message = train_fails(trained, tmp_path,
                          CONFIG.replace("  margin: 0.7\n", f"  margin: {margins}\n"))
    # 200 characters: "[", 39 times "0.7, ", "0" and "...".
    assert message == "<config>: head_conf.margin must be a number, got [" + "0.7, " * 39 + "0..."
