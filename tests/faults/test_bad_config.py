"""Bad training configs and foreign checkpoints.

A config key that does not exist, or a value of the wrong type, is a ``ConfigError``
naming the file and the key, raised before the experiment dir is created; so are an
unknown component name (model, head, loss, augmentation, optimiser, scheduler, sampler,
back-end), with the closest name and the choices, and a key of a component's conf that
its constructor does not take, with the closest key and the known ones, all before any
data is read. A checkpoint made with another model config is a ``ValueError`` naming the
checkpoint and saying so, for a resumed training and for inference, with nothing of the
experiment changed and no inference output written.
"""
import inspect
import logging
import shutil

import pytest
import torch
import yaml
from faultkit import fault, snapshot

from asd_lib.augment import AUGMENTS
from asd_lib.backends import BACKENDS
from asd_lib.bin import infer, train
from asd_lib.data.samplers import SAMPLERS
from asd_lib.inference.scores import FORWARD_SCORES
from asd_lib.losses import HEADS, OBJECTIVES
from asd_lib.models import MODELS
from asd_lib.train.optim import OPTIMIZERS, SCHEDULERS
from asd_lib.train.trainer import build_model
from asd_lib.utils.checkpoint import save_atomic
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import ConfigError
from train_helpers import train_config, train_with


def config_with(trained, tmp_path, **changes):
    config = yaml.safe_load(trained.config.read_text())
    config.update(changes)
    path = tmp_path / "bad config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def train_fails(trained, tmp_path, config) -> str:
    exp = tmp_path / "exp"
    with pytest.raises(ConfigError) as err:
        train_with(config, train_dir=trained.data, exp_dir=exp, verbose=0)
    assert not exp.exists()
    return str(err.value)


@fault('unknown key in a training config', 'clear error',
       'names the file, the key and the closest known key')
def test_unknown_key_names_the_file_the_key_and_a_close_match(trained, tmp_path):
    config = config_with(trained, tmp_path, ema_decy=0.99)
    message = train_fails(trained, tmp_path, config)
    assert message.startswith(f"{config}: unknown key 'ema_decy'; did you mean 'ema_decay'? "
                              "known keys: channels_last, compile, ema_decay, exp_dir, ")


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


@fault('a training config that sets `sample_rate:` (the rate is stage 2\'s)',
       'refused with the fix', 'names the file and asks stage 2 for the rate (run.sh '
       '--sample_rate); nothing written')
def test_a_sample_rate_in_a_training_config_is_refused_with_the_fix(trained, tmp_path):
    config = config_with(trained, tmp_path, sample_rate=16000)
    assert train_fails(trained, tmp_path, config) == (
        f"{config}: sample_rate is not a training option: stage 3 takes the rate from the "
        "dump it trains on (<train_dir>/sample_rate) and records it in the experiment. "
        "Remove the line, and ask stage 2 for the rate instead (run.sh --sample_rate N)")


@fault('`1e-4` (read as text by YAML 1.1) in a config', 'handled and logged',
       'read as the number')
def test_number_written_without_a_dot_is_read_as_a_number(trained, tmp_path):
    # YAML 1.1 reads "1e-4" as text; a float option still takes it.
    config = tmp_path / "c.yaml"
    config.write_text(trained.config.read_text() + "ema_decay: 1e-4\n")
    assert train_config(config).ema_decay == 1e-4


@fault('a wrong type inside a training stage', 'clear error',
       'names the file, the stage and the key')
def test_wrong_type_inside_a_stage_names_the_key(trained, tmp_path):
    stages = yaml.safe_load(trained.config.read_text())["stages"]
    stages[0]["epochs"] = "ten"
    config = config_with(trained, tmp_path, stages=stages)
    assert train_fails(trained, tmp_path, config) == (
        f"{config}: stages[0]: epochs must be a positive integer, got 'ten'")


@fault('a learning rate that is not a number', 'clear error',
       'names the file and the key')
def test_learning_rate_that_is_not_a_number_names_the_key(trained, tmp_path):
    stages = yaml.safe_load(trained.config.read_text())["stages"]
    stages[0]["optim_conf"]["lr"] = "abc"
    config = config_with(trained, tmp_path, stages=stages)
    assert train_fails(trained, tmp_path, config) == (
        f"{config}: stages[0].optim_conf.lr must be a number, got 'abc'")


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
# How foreign_weights differ from the trained model's, summed up by load_weights.
FOREIGN_MODEL = ("the model weights do not fit this model (5 keys of another shape: "
                 "backbone.embed.0.weight (64x512x1x1 in the file, 128x512x1x1 here), "
                 "backbone.embed.1.weight (64 in the file, 128 here), backbone.embed.1.bias "
                 "(64 in the file, 128 here), and 2 more)")


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
        trained.train(exp)
    assert str(err.value) == f"{exp}/checkpoint.pth: {FOREIGN_MODEL}{OTHER_MODEL}"
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
                    str(trained.data), "--train_out_dir", str(out / "train"), "--score",
                    "neg_log_prob", "--verbose", "0"])
    assert str(err.value) == f"{exp}/latest.pth: {FOREIGN_MODEL}{OTHER_MODEL}"
    assert snapshot(exp) == before and not (out / "train" / "utt2score").exists()


# ------------------------------------------------ component names and their arguments

def names(*registry, extra=()):
    return ", ".join(sorted([n for r in registry for n in r.names()] + list(extra)))


def stage0(**changes):
    """A change of the config's first stage."""
    return lambda config: config["stages"][0].update(changes)


def top(**changes):
    return lambda config: config.update(changes)


def config_error_before_data(trained, tmp_path, change) -> tuple:
    """(config path, message) of a training run on a config changed by ``change``, with a
    training set that does not exist: the error comes before any data is read."""
    config = yaml.safe_load(trained.config.read_text())
    change(config)
    path = tmp_path / "bad config.yaml"
    path.write_text(yaml.safe_dump(config))
    exp = tmp_path / "exp"
    with pytest.raises(ConfigError) as err:
        train_with(path, train_dir=tmp_path / "no data here", exp_dir=exp, verbose=0)
    assert not exp.exists()
    return path, str(err.value)


UNKNOWN_NAMES = {  # the choices are read from the registries when the test runs
    "model": (top(model="stgram_mfm"),
              "model: unknown model 'stgram_mfm'; did you mean 'stgram_mfn'?", [MODELS]),
    "head": (top(head="arcfase"),
             "head: unknown head 'arcfase'; did you mean 'arcface'?", [HEADS], ["none"]),
    "loss": (stage0(losses=[{"name": "margin_cross_entropi"}]),
             "stages[0].losses[0].name: unknown objective 'margin_cross_entropi'; did you mean "
             "'margin_cross_entropy'?", [OBJECTIVES]),
    "augmentation": (stage0(augments=[{"name": "mixpu"}]),
                     "stages[0].augments[0].name: unknown augment 'mixpu'; did you mean "
                     "'mixup'?", [AUGMENTS]),
    "optimiser": (stage0(optim="adamm"),
                  "stages[0].optim: unknown optimizer 'adamm'; did you mean 'adam'?",
                  [OPTIMIZERS]),
    "scheduler": (stage0(scheduler="cosin"),
                  "stages[0].scheduler: unknown scheduler 'cosin'; did you mean 'cosine'?",
                  [SCHEDULERS]),
    "sampler": (stage0(sampler="class_balance"),
                "stages[0].sampler: unknown sampler 'class_balance'; did you mean "
                "'class_balanced'?", [SAMPLERS]),
}


@fault('an unknown component in a training config (model, head, loss, augmentation, '
       'optimiser, scheduler, sampler)', 'clear error',
       'names the file, the key, the closest name and the choices; before any data is read')
@pytest.mark.parametrize("case", sorted(UNKNOWN_NAMES))
def test_unknown_component_names_the_key_and_the_choices(trained, tmp_path, case):
    change, expected, registries, *extra = UNKNOWN_NAMES[case]
    path, message = config_error_before_data(trained, tmp_path, change)
    assert message == f"{path}: {expected} choose one of: {names(*registries, extra=extra[0] if extra else ())}"


UNKNOWN_KEYS = {
    "model_conf": (top(model_conf={"table": "liu8", "embeding_dim": 64}),
                   "model_conf: unknown key 'embeding_dim' of model 'stgram_mfn'; did you mean "
                   "'embedding_dim'? known keys: embedding_dim, frontend_conf, table"),
    "head_conf": (top(head_conf={"margn": 0.5}),
                  "head_conf: unknown key 'margn' of head 'arcface'; did you mean 'margin'? "
                  "known keys: easy_margin, eps, margin, scale, sub_centers"),
    "optim_conf": (stage0(optim_conf={"lrr": 0.001}),
                   "stages[0].optim_conf: unknown key 'lrr' of optimizer 'adam'; did you mean "
                   "'lr'? known keys: " + ", ".join(sorted(
                       set(inspect.signature(torch.optim.Adam).parameters) - {"params"}))),
    "scheduler_conf": (stage0(scheduler_conf={"start_epoc": 1}),
                       "stages[0].scheduler_conf: unknown key 'start_epoc' of scheduler "
                       "'cosine'; did you mean 'start_epoch'? known keys: min_lr_ratio, "
                       "start_epoch, t_max"),
    "loss conf": (stage0(losses=[{"name": "supcon", "conf": {"temprature": 0.1}}]),
                  "stages[0].losses[0].conf: unknown key 'temprature' of objective 'supcon'; "
                  "did you mean 'temperature'? known keys: base_temperature, held_out, "
                  "output, temperature"),
    "augment conf": (stage0(augments=[{"name": "mixup", "conf": {"alpah": 0.2}}]),
                     "stages[0].augments[0].conf: unknown key 'alpah' of augment "
                     "'mixup'; did you mean 'alpha'? known keys: alpha, prob"),
    "sampler_conf": (stage0(sampler_conf={"per_class": 2}),
                     "stages[0].sampler_conf: unknown key 'per_class' of sampler 'random'; "
                     "known keys: drop_last"),
    "an argument the trainer sets": (stage0(optim_conf={"lr": 0.001, "params": []}),
                                     "stages[0].optim_conf: key 'params' of optimizer 'adam' "
                                     "is set by the trainer; known keys: " + ", ".join(sorted(
                                         set(inspect.signature(torch.optim.Adam).parameters)
                                         - {"params"}))),
    "a loss without arguments": (stage0(losses=[{"name": "margin_cross_entropy",
                                                 "conf": {"margin": 0.7}}]),
                                 "stages[0].losses[0].conf: unknown key 'margin'; objective "
                                 "'margin_cross_entropy' takes no arguments"),
}


@fault("an unknown or misspelt key in a component's conf (model_conf, head_conf, optim_conf, "
       "scheduler_conf, sampler_conf, a loss or augmentation conf)", 'clear error',
       'names the file, the key, the closest key and the known ones; before any data is read')
@pytest.mark.parametrize("case", sorted(UNKNOWN_KEYS))
def test_unknown_conf_key_names_the_key_and_the_known_ones(trained, tmp_path, case):
    change, expected = UNKNOWN_KEYS[case]
    path, message = config_error_before_data(trained, tmp_path, change)
    assert message == f"{path}: {expected}"


WRONG_KINDS = {
    "model_conf": (top(model_conf={"embedding_dim": "sixty-four"}),
                   "model_conf.embedding_dim must be an integer, got 'sixty-four'"),
    "head_conf": (top(head_conf={"margin": "0.7x"}),
                  "head_conf.margin must be a number, got '0.7x'"),
    "a flag": (top(head_conf={"easy_margin": "yes please"}),
               "head_conf.easy_margin must be true or false, got 'yes please'"),
    "scheduler_conf": (stage0(scheduler_conf={"start_epoch": "soon"}),
                       "stages[0].scheduler_conf.start_epoch must be a number, got 'soon'"),
    "loss weight": (stage0(losses=[{"name": "margin_cross_entropy", "weight": "half"}]),
                    "stages[0].losses[0].weight must be a number, got 'half'"),
    "loss conf": (stage0(losses=[{"name": "supcon", "conf": {"temperature": [0.1]}}]),
                  "stages[0].losses[0].conf.temperature must be a number, got [0.1]"),
    "augment conf": (stage0(augments=[{"name": "mixup", "conf": {"prob": "often"}}]),
                     "stages[0].augments[0].conf.prob must be a number, got 'often'"),
    "a number for text": (top(model_conf={"table": 8}),
                           "model_conf.table must be a string, got 8"),
}


@fault("a value of the wrong kind in a component's conf (text for a number, a number for "
       "text)", 'clear error', 'names the file and the key; before any data is read')
@pytest.mark.parametrize("case", sorted(WRONG_KINDS))
def test_wrong_kind_in_a_conf_names_the_key(trained, tmp_path, case):
    change, expected = WRONG_KINDS[case]
    path, message = config_error_before_data(trained, tmp_path, change)
    assert message == f"{path}: {expected}"


@fault("numbers written as text in a component's conf (`1e-4`, `'64'`)", 'handled and logged',
       'read as the numbers, and saved so')
def test_numbers_written_as_text_in_a_conf_are_read_as_numbers(trained, tmp_path):
    config = yaml.safe_load(trained.config.read_text())
    config["model_conf"]["embedding_dim"] = "64"
    config["head_conf"]["margin"] = "0.5"
    config["stages"][0]["scheduler_conf"]["min_lr_ratio"] = "1e-1"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    config = train_config(path)
    stages = config.training_stages()
    assert config.model_conf == {"table": "liu8", "embedding_dim": 64}
    assert config.head_conf == {"margin": 0.5, "scale": 30.0}
    assert stages[0].scheduler_conf == {"start_epoch": 1, "min_lr_ratio": 0.1}


INFERENCE_ERRORS = {
    "backend": ("backend: knnn\n",
                "backend: unknown backend 'knnn'; did you mean 'knn'? choose one of: "
                + names(BACKENDS)),
    "score": ("score: neg_log_probs\n",
              "score: unknown forward-pass score 'neg_log_probs'; did you mean 'neg_log_prob'? "
              "choose one of: " + ", ".join(FORWARD_SCORES)),
    "forward score as backend": ("backend: neg_log_prob\n",
                                 "backend: neg_log_prob is a forward-pass score, not an embedding "
                                 "back-end; write 'score: neg_log_prob'"),
    "back-end as score": ("score: knn\n",
                          "score: unknown forward-pass score 'knn'; choose one of: "
                          + ", ".join(FORWARD_SCORES)
                          + "; knn is an embedding back-end: write 'backend: knn'"),
    "both scorers": ("score: neg_log_prob\nbackend: knn\n",
                     "give one scorer, 'score: <forward-pass score>' (" + ", ".join(FORWARD_SCORES)
                     + ") or 'backend: <embedding back-end>' (" + names(BACKENDS) + "); got both"),
    "no scorer": ("batch_size: 8\n",
                  "give one scorer, 'score: <forward-pass score>' (" + ", ".join(FORWARD_SCORES)
                  + ") or 'backend: <embedding back-end>' (" + names(BACKENDS) + "); got neither"),
    "backend_conf key": ("backend: lof\nbackend_conf: {n_neigbors: 4}\n",
                         "backend_conf: unknown key 'n_neigbors' of backend 'lof'; did you mean "
                         "'n_neighbors'? known keys: n_neighbors"),
    "backend_conf value": ("backend: kmeans_membank\nbackend_conf: {n_clusters: many}\n",
                           "backend_conf.n_clusters must be an integer, got 'many'"),
}


@fault('an unknown scorer, a forward-pass score written as a back-end, two scorers or none, '
       'or a wrong back-end argument, in an inference config',
       'clear error', 'names the file, the key and the choices; no output written')
@pytest.mark.parametrize("case", sorted(INFERENCE_ERRORS))
def test_inference_config_errors_name_the_file_and_the_key(trained, tmp_path, case):
    text, expected = INFERENCE_ERRORS[case]
    config = tmp_path / "decode.yaml"
    config.write_text(text)
    out = tmp_path / "scores"
    with pytest.raises(ConfigError) as err:
        infer.main(["--config", str(config), "--exp_dir", str(trained.exp), "--data_dir",
                    str(tmp_path / "no data here"), "--out_dir", str(out / "test"),
                    "--train_dir", str(trained.data), "--train_out_dir", str(out / "train"),
                    "--verbose", "0"])
    assert str(err.value) == f"{config}: {expected}"
    assert not out.exists()
