"""Bad training configs and foreign checkpoints.

A config key that does not exist, or a value of the wrong type, is a ``ConfigError``
naming the file (for top-level keys) and the key, raised before the experiment dir is
created. A checkpoint made with another model config is a ``ValueError`` naming the
checkpoint and saying so, for a resumed training and for inference, with nothing of the
experiment changed and no inference output written.
"""
import logging
import shutil

import pytest
import torch
import yaml

from asd_lib.bin import infer, train
from asd_lib.utils.checkpoint import save_atomic
from asd_lib.train.trainer import build_model
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import ConfigError
from faultkit import fault, snapshot


def config_with(trained, tmp_path, **changes):
    config = yaml.safe_load(trained.config.read_text())
    config.update(changes)
    path = tmp_path / "bad config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def train_fails(trained, tmp_path, config) -> str:
    exp = tmp_path / "exp"
    with pytest.raises(ConfigError) as err:
        train.main(["--config", str(config), "--train_dir", str(trained.data),
                    "--exp_dir", str(exp), "--verbose", "0"])
    assert not exp.exists()
    return str(err.value)


@fault('unknown key in a training config', 'clear error',
       'names the file, the key and the closest known key')
def test_unknown_key_names_the_file_the_key_and_a_close_match(trained, tmp_path):
    config = config_with(trained, tmp_path, ema_decy=0.99)
    message = train_fails(trained, tmp_path, config)
    assert message.startswith(f"{config}: unknown key 'ema_decy'; did you mean 'ema_decay'? "
                              "known keys: channels_last, ema_decay, exp_dir, ")


@pytest.mark.parametrize("key, value, expected", [
    ("seed", "ten", "seed must be an integer, got 'ten'"),
    ("seed", 1.5, "seed must be an integer, got 1.5"),
    ("valid_fraction", "abc", "valid_fraction must be a number, got 'abc'"),
    ("ema_decay", [0.9], "ema_decay must be a number, got [0.9]"),
    ("channels_last", "maybe", "channels_last must be true or false, got 'maybe'"),
    ("model", 3, "model must be a string, got 3"),
    ("split_by", "both", "split_by must be one of ['none', 'machine'], got 'both'"),
])
@fault('a config value of the wrong type', 'clear error',
       'names the file and the key')
def test_wrong_type_names_the_file_and_the_key(trained, tmp_path, key, value, expected):
    config = config_with(trained, tmp_path, **{key: value})
    assert train_fails(trained, tmp_path, config) == f"{config}: {expected}"


@fault('`1e-4` (read as text by YAML 1.1) in a config', 'handled and logged',
       'read as the number')
def test_number_written_without_a_dot_is_read_as_a_number(trained, tmp_path):
    # YAML 1.1 reads "1e-4" as text; a float option still takes it.
    config = tmp_path / "c.yaml"
    config.write_text(trained.config.read_text() + "ema_decay: 1e-4\n")
    args = train.get_parser().parse_args(["--config", str(config), "--train_dir", "d",
                                          "--exp_dir", "e"])
    assert args.ema_decay == 1e-4


@fault('a wrong type inside a training stage', 'clear error',
       'names the stage and the key')
def test_wrong_type_inside_a_stage_names_the_key(trained, tmp_path):
    stages = yaml.safe_load(trained.config.read_text())["stages"]
    stages[0]["epochs"] = "ten"
    assert train_fails(trained, tmp_path, config_with(trained, tmp_path, stages=stages)) == (
        "stages[0]: epochs must be a positive integer, got 'ten'")


@fault('a learning rate that is not a number', 'clear error',
       'names the key')
def test_learning_rate_that_is_not_a_number_names_the_key(trained, tmp_path):
    stages = yaml.safe_load(trained.config.read_text())["stages"]
    stages[0]["optim_conf"]["lr"] = "abc"
    assert train_fails(trained, tmp_path, config_with(trained, tmp_path, stages=stages)) == (
        "stages[0].optim_conf.lr must be a number, got 'abc'")


@fault('a bad config given to the command line', 'clear error',
       'one line, exit 1, no traceback')
def test_cli_reports_a_config_error_on_one_line(trained, tmp_path, capsys, monkeypatch):
    config = config_with(trained, tmp_path, seed="ten")
    # As in a fresh process: no logging set up yet (the config fails before setup_logging).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: train.main(["--config", str(config), "--train_dir", str(trained.data),
                                     "--exp_dir", str(tmp_path / "exp")]))
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == f"ERROR: {config}: seed must be an integer, got 'ten'\n"


# ------------------------------------------------------------ checkpoint of another model

def foreign_weights(trained):
    """Model and head weights of the same classes but another model config (64-dim
    embeddings instead of 128)."""
    info = yaml.safe_load((trained.exp / "model_info.yaml").read_text())
    model, head = build_model("stgram_mfn", {"table": "liu8", "embedding_dim": 64}, "arcface",
                              {"margin": 0.7, "scale": 30.0}, info["num_samples"], 16000,
                              len(info["classes"]))
    return {"model": model.state_dict(), "head": head.state_dict()}


OTHER_MODEL = ("; the checkpoint was made with another model config: use its own exp dir "
               "or retrain")


def copy_experiment(trained, exp):
    """A copy of the trained experiment, its saved config naming its new place."""
    shutil.copytree(trained.exp, exp, symlinks=True)
    config = yaml.safe_load((exp / "config.yaml").read_text())
    (exp / "config.yaml").write_text(yaml.safe_dump({**config, "exp_dir": str(exp)},
                                                    sort_keys=True))


@fault('a checkpoint of another model config (resume)', 'refused with the fix',
       'names the checkpoint; nothing changed')
def test_resume_from_a_checkpoint_of_another_model_is_refused(trained, tmp_path):
    exp = tmp_path / "exp"
    copy_experiment(trained, exp)
    state = torch.load(exp / "checkpoint.pth", weights_only=True)
    save_atomic({**state, **foreign_weights(trained)}, exp / "checkpoint.pth")
    before = snapshot(exp)
    with pytest.raises(ValueError) as err:
        train.main(trained.train_args(exp))
    message = str(err.value)
    assert message.startswith(f"{exp}/checkpoint.pth: the model weights do not fit this model "
                              "(Error(s) in loading state_dict for STgramMFN:")
    assert message.endswith(OTHER_MODEL)
    assert snapshot(exp) == before


@fault('a checkpoint of another model config (inference)', 'refused with the fix',
       'names the checkpoint; no output written')
def test_inference_with_a_checkpoint_of_another_model_is_refused(trained, tmp_path):
    exp = tmp_path / "exp"
    copy_experiment(trained, exp)
    save_atomic(foreign_weights(trained), (exp / "latest.pth").resolve())
    before = snapshot(exp)
    out = tmp_path / "scores"
    with pytest.raises(ValueError) as err:
        infer.main(["--exp_dir", str(exp), "--checkpoint", "latest", "--data_dir",
                    str(trained.data), "--out_dir", str(out / "train"), "--train_dir",
                    str(trained.data), "--train_out_dir", str(out / "train"), "--verbose", "0"])
    message = str(err.value)
    assert message.startswith(f"{exp}/latest.pth: the model weights do not fit this model "
                              "(Error(s) in loading state_dict for STgramMFN:")
    assert message.endswith(OTHER_MODEL)
    assert snapshot(exp) == before and not (out / "train" / "utt2score").exists()
