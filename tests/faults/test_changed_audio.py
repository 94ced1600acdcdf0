"""Stage 3 run again on a training set whose clip names and classes are the experiment's
but whose audio may not be (:mod:`asd_lib.data.content`): other samples under the same
names are refused with the fix and nothing changes; the same samples in new files are
accepted (the record follows them); an experiment without a record is checked by names and
classes only, and says so."""
import logging
import shutil

import pytest
from faultkit import copy_experiment, fault, snapshot

from asd_lib.utils.fileio import read_kv
from test_train import make_dumped_set
from train_helpers import train_with


@pytest.fixture
def experiment(trained, tmp_path):
    """A toy experiment made as the shared one (conftest.py's class) but trained on a dumped
    set of its own (seed 0), so that the set can be made again in place."""
    return type(trained)(tmp_path)


def make_again(experiment, seed: int) -> None:
    """The experiment's training set made again at the same paths with ``seed``."""
    shutil.rmtree(experiment.data)
    make_dumped_set(experiment.data, per_class=5, seed=seed)


def train_on(trained, exp, data) -> None:
    train_with(trained.config, train_dir=data, exp_dir=exp, num_threads=1, verbose=0)


@fault('the corpus made again under the same names with other audio (another seed), '
       'stage 3 re-run', 'refused with the fix', 'names how many clips changed, the first '
       'and where it lies, and asks for another --tag; nothing changed')
def test_other_audio_under_the_same_names_is_refused(experiment):
    exp, data = experiment.exp, experiment.data
    before = snapshot(exp)
    make_again(experiment, seed=1)
    with pytest.raises(ValueError) as err:
        experiment.train(exp)
    first = "fan-normal_id_00_00000000"
    assert str(err.value) == (
        f"{exp} was trained on other audio: 15 of its 15 clips in {data} hold other "
        f"samples under the same names (the first: {first}, read from "
        f"{read_kv(data / 'feats.scp')[first]}); train a new experiment with another --tag, "
        "or restore the data it was trained on")
    assert snapshot(exp) == before


@fault('the training set dumped again with the same samples (new files), stage 3 re-run',
       'handled and logged', 'the clips are read again and found the same: nothing is '
       'retrained, the record follows the new files')
def test_the_same_audio_in_new_files_is_accepted(experiment, monkeypatch, caplog):
    exp = experiment.exp
    before = snapshot(exp)
    make_again(experiment, seed=0)
    with caplog.at_level(logging.INFO):
        experiment.train(exp)
    assert (f"{exp}: the files of its training clips were rewritten with the same samples; "
            "record updated") in caplog.messages
    assert "training already complete (2 epochs); nothing to do" in caplog.messages
    after = snapshot(exp)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {"train_content/files_digest"}
    caplog.clear()
    with caplog.at_level(logging.INFO):  # the record now matches: the clips are not read
        experiment.train(exp)
    assert "training already complete (2 epochs); nothing to do" in caplog.messages
    assert not any("rewritten" in m for m in caplog.messages)


@fault('an experiment made before stage 3 recorded its clips\' content (no train_content/)',
       'handled and logged', 'checked by clip names and classes only; a warning says so and '
       'no record is made up')
def test_an_experiment_without_a_content_record_is_checked_by_names(trained, tmp_path,
                                                                     monkeypatch, caplog):
    exp = copy_experiment(trained.exp, tmp_path / "exp")
    shutil.rmtree(exp / "train_content")
    other = make_dumped_set(tmp_path / "other", per_class=5, seed=1)
    with caplog.at_level(logging.INFO):
        train_on(trained, exp, other)
    assert (f"{exp}: no record of what its training clips hold (made by an earlier stage 3); "
            "only their names and classes are checked") in caplog.messages
    assert not (exp / "train_content").exists()
