"""Inference configs name one scorer: ``score:`` a forward-pass score or ``backend:`` an
embedding back-end; the command line's scorer replaces the file's; records of stage 4 read
back either kind."""
import pytest
import yaml

from asd_lib.bin import infer
from asd_lib.inference.config import InferenceConfig, read_inference_record
from asd_lib.inference.scores import FORWARD_SCORES
from asd_lib.utils.config import ConfigError

RUN = ["--exp_dir", "e", "--data_dir", "d", "--out_dir", "o", "--train_dir", "t",
       "--train_out_dir", "u"]


def decode(tmp_path, text: str):
    path = tmp_path / "decode.yaml"
    path.write_text(text)
    return path


def config_of(cmd):
    return infer.inference_config(infer.get_parser().parse_args(cmd + RUN), cmd + RUN)


@pytest.mark.parametrize("score", sorted(FORWARD_SCORES))
def test_a_forward_score_is_written_score(tmp_path, score):
    config = InferenceConfig.from_yaml(decode(tmp_path, f"score: {score}\nbatch_size: 8\n"))
    assert (config.score, config.backend, config.scorer) == (score, None, score)
    assert config.is_forward_score and config.batch_size == 8


def test_an_embedding_back_end_is_written_backend(tmp_path):
    config = InferenceConfig.from_yaml(decode(tmp_path, "backend: knn\nbackend_conf: {k: '4'}\n"))
    assert (config.score, config.backend, config.scorer) == (None, "knn", "knn")
    assert config.backend_conf == {"k": 4} and not config.is_forward_score


@pytest.mark.parametrize("score", sorted(FORWARD_SCORES))
def test_a_forward_score_written_backend_names_the_file_and_the_new_key(tmp_path, score):
    path = decode(tmp_path, f"backend: {score}\n")
    with pytest.raises(ConfigError) as err:
        InferenceConfig.from_yaml(path)
    assert str(err.value) == (f"{path}: backend: {score} is a forward-pass score, not an "
                              f"embedding back-end; write 'score: {score}'")


@pytest.mark.parametrize("text, given", [("score: neg_prob\nbackend: knn\n", "both"),
                                         ("batch_size: 8\n", "neither")])
def test_a_config_with_both_scorers_or_neither_is_refused(tmp_path, text, given):
    path = decode(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^{path}: give one scorer, 'score: <forward-pass "
                                          f"score>' .* or 'backend: <embedding back-end>' "
                                          f".*; got {given}$"):
        InferenceConfig.from_yaml(path)


def test_an_embedding_back_end_written_score_is_pointed_to_backend(tmp_path):
    with pytest.raises(ConfigError, match="knn is an embedding back-end: write 'backend: knn'"):
        InferenceConfig.from_yaml(decode(tmp_path, "score: knn\n"))


def test_a_forward_score_takes_no_backend_conf():
    with pytest.raises(ConfigError, match="^backend_conf: score neg_log_prob is a forward-pass "
                                          "score and takes no arguments"):
        InferenceConfig(score="neg_log_prob", backend_conf={"k": 1})


def test_the_command_line_scorer_replaces_the_files(tmp_path):
    forward = str(decode(tmp_path, "score: neg_log_prob\nscore_margin: false\n"))
    config = config_of(["--config", forward, "--backend", "knn", "--backend_conf", "{k: 2}"])
    assert (config.score, config.backend, config.backend_conf) == (None, "knn", {"k": 2})
    assert config.score_margin is False
    embedding = str(tmp_path / "knn.yaml")
    (tmp_path / "knn.yaml").write_text("backend: knn\nbackend_conf: {k: 4}\n")
    config = config_of(["--config", embedding, "--score", "neg_prob"])
    assert (config.score, config.backend, config.backend_conf) == ("neg_prob", None, {})
    assert config_of(["--score", "model_score"]).scorer == "model_score"


def test_the_command_line_names_the_file_of_an_old_spelling_and_refuses_no_scorer(tmp_path):
    old = decode(tmp_path, "backend: neg_prob\n")
    with pytest.raises(ConfigError, match=f"^{old}: backend: neg_prob is a forward-pass score, "
                                          "not an embedding back-end; write 'score: neg_prob'$"):
        config_of(["--config", str(old)])
    with pytest.raises(ConfigError, match="^the command line: give one scorer.*got neither$"):
        config_of([])
    with pytest.raises(ConfigError, match="^the command line: give one scorer.*got both$"):
        config_of(["--score", "neg_prob", "--backend", "knn"])


@pytest.mark.parametrize("written, score, backend", [
    ({"score": "neg_prob", "backend": None}, "neg_prob", None),
    ({"backend": "neg_log_prob"}, "neg_log_prob", None),  # the one-key form of a record
    ({"backend": "knn", "backend_conf": {"k": 1}}, None, "knn"),
])
def test_inference_records_read_back_either_scorer(tmp_path, written, score, backend):
    record = {"inference_config": {**written, "batch_size": 64}, "checkpoint": "best",
              "dataset": "dcase2020", "train_dir": "dump/train"}
    (tmp_path / "inference.yaml").write_text(yaml.safe_dump(record))
    config = read_inference_record(tmp_path).config
    assert (config.score, config.backend) == (score, backend)


def test_back_end_arguments_given_with_a_forward_score_are_refused(tmp_path):
    embedding = str(decode(tmp_path, "backend: knn\nbackend_conf: {k: 4}\n"))
    with pytest.raises(ConfigError, match="backend_conf: score neg_prob is a forward-pass score "
                                          "and takes no arguments, got"):
        config_of(["--config", embedding, "--score", "neg_prob", "--backend_conf", "{k: 2}"])
