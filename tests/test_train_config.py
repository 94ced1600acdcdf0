"""The typed training configuration: checks with clear messages, --print_config, the
per-machine configurations, and the sample rate that only stage 2 states."""
import dataclasses

import pytest
import yaml

from asd_lib.bin import train
from asd_lib.train.config import TrainConfig, config_yaml, load_train_config, saved_differences
from asd_lib.utils.config import ConfigError
from test_train import write_config
from train_helpers import train_config

STAGES = [{"name": "arcface", "epochs": 1, "batch_size": 8,
           "losses": [{"name": "margin_cross_entropy"}]}]


def test_every_field_is_a_command_line_option_and_the_rate_is_none_of_them():
    assert "sample_rate" not in {f.name for f in dataclasses.fields(TrainConfig)}
    options = {a.dest for a in train.get_parser()._actions} - {"help", "config", "print_config"}
    assert options == {f.name for f in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize("values, expected", [
    ({"seed": "ten"}, "seed must be an integer, got 'ten'"),
    ({"valid_fraction": 1.0}, "valid_fraction must be at least 0 and below 1 (the share of "
                              "every class held out), got 1.0"),
    ({"model_conf": [1]}, "model_conf must be a mapping of key: value, got [1]"),
    ({"precision": "fp16"}, "precision must be one of ['fp32', 'bf16'], got 'fp16'"),
    ({"channels_last": "yes"}, "channels_last must be true or false, got 'yes'"),
    ({"seed": None}, "seed has no value; give one or remove the line"),
    ({"stages": "arcface"}, "stages: expected a list of stage mappings ([] for a "
                            "training-free model)"),
    ({"stages": STAGES, "split_overrides": {"fan": {"seeds": 1}}},
     "split_overrides.fan: unknown key(s) ['seeds']"),
])
def test_a_bad_value_names_the_source_and_the_key(values, expected):
    with pytest.raises(ConfigError) as err:
        train_config(values)
    assert str(err.value) == f"the command line: {expected}"


def test_a_bad_value_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("ema_decy: 0.9\n")
    with pytest.raises(ConfigError) as err:
        load_train_config(path)
    assert str(err.value).startswith(f"{path}: unknown key 'ema_decy'; did you mean "
                                     "'ema_decay'? known keys: channels_last, compile, ema_decay, ")


def test_numbers_written_as_text_are_read_as_numbers():
    config = train_config({"valid_fraction": "1e-1", "seed": "3", "stages": STAGES})
    assert config.valid_fraction == 0.1 and config.seed == 3


def test_a_stage_mistake_names_the_stage_and_the_key():
    stages = [{**STAGES[0], "optim_conf": {"lr": "fast"}}]
    with pytest.raises(ConfigError, match=r"stages\[0\].optim_conf.lr must be a number"):
        train_config({"stages": stages})


def test_for_machine_applies_the_overrides_only_to_that_machine():
    config = train_config({"stages": STAGES, "split_by": "machine",
                           "split_overrides": {"fan": {"seed": 7}}})
    fan, pump = config.for_machine("fan"), config.for_machine("pump")
    assert (fan.seed, pump.seed) == (7, 0)
    assert fan.split_by == pump.split_by == "none" and fan.split_overrides == {}


def test_print_config_lists_every_default(capsys):
    train.main(["--print_config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == dataclasses.asdict(TrainConfig())
    assert list(printed) == [f.name for f in dataclasses.fields(TrainConfig)]


def test_print_config_resolves_a_file_and_round_trips(tmp_path, capsys):
    path = write_config(tmp_path / "c.yaml", epochs=2)
    train.main(["--config", str(path), "--seed", "4", "--print_config"])
    text = capsys.readouterr().out
    printed = yaml.safe_load(text)
    assert printed["seed"] == 4 and printed["stages"][0]["epochs"] == 2
    assert printed["keep_snapshots"] == 5 and printed["ema_decay"] == 0.0  # the defaults
    (tmp_path / "printed.yaml").write_text(text)
    again = load_train_config(tmp_path / "printed.yaml")
    assert again == load_train_config(path, {"seed": 4})
    assert config_yaml(again) == text


def test_print_config_refuses_a_bad_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: ten\n")
    with pytest.raises(ConfigError, match=f"{path}: seed must be an integer, got 'ten'"):
        train.main(["--config", str(path), "--print_config"])


def test_a_config_that_sets_the_sample_rate_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("sample_rate: 19200\n")
    with pytest.raises(ConfigError) as err:
        load_train_config(path)
    assert str(err.value) == (
        f"{path}: sample_rate is not a training option: stage 3 takes the rate from the dump "
        "it trains on (<train_dir>/sample_rate) and records it in the experiment. Remove the "
        "line, and ask stage 2 for the rate instead (run.sh --sample_rate N)")


def test_no_shipped_training_config_sets_the_sample_rate():
    from test_configs import CONFIGS

    assert [p for p in CONFIGS if "sample_rate" in yaml.safe_load(p.read_text())] == []


def test_training_needs_its_data_and_experiment_dirs():
    from asd_lib.train.run import train as run_training

    with pytest.raises(ConfigError, match=r"train_dir: missing; give --train_dir"):
        run_training(train_config({"stages": STAGES}))


def test_resume_compares_options_not_what_an_older_stage_3_saved():
    """A saved config.yaml of an earlier version may hold ``sample_rate`` (now recorded in
    model_info.yaml) and lack an option added since (it had its default)."""
    config = train_config({"stages": STAGES, "exp_dir": "e", "train_dir": "d"})
    saved = {**config.to_dict(), "sample_rate": 16000, "asd_lib_version": "0"}
    del saved["ema_decay"]
    assert saved_differences(config, saved) == []
    assert saved_differences(dataclasses.replace(config, seed=1), saved) == ["seed"]
    assert saved_differences(dataclasses.replace(config, num_workers=9), saved) == []
