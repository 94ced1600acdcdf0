"""Checkpoints that asd_lib did not save: a pickled model object (code, not weights) is
refused as holding code, without torch's advice to turn the check off; the weights of
another architecture give a short summary of the mismatch, not every key."""
import pytest
import torch
from faultkit import copy_experiment, fault, snapshot

from asd_lib.bin import infer
from asd_lib.models import MODELS
from asd_lib.utils.checkpoint import CodeInCheckpointError, save_atomic


def infer_args(exp, out, trained) -> list:
    return ["--exp_dir", str(exp), "--checkpoint", "latest", "--data_dir", str(trained.data),
            "--out_dir", str(out / "train"), "--train_dir", str(trained.data),
            "--train_out_dir", str(out / "train"), "--score", "neg_log_prob", "--verbose", "0"]


@fault('a pickled model object (code, not weights) as a checkpoint', 'refused with the fix',
       'says it holds code and names it; never suggests turning the weights-only check '
       'off; nothing run, changed or written')
def test_a_checkpoint_that_holds_code_is_refused(trained, tmp_path):
    exp = copy_experiment(trained.exp, tmp_path / "exp")
    model = MODELS.build("stgram_mfn", num_samples=16000, sample_rate=16000, table="liu8")
    torch.save({"model": model, "head": {}}, (exp / "latest.pth").resolve())
    torch.save({"model": model}, exp / "checkpoint.pth")
    before = snapshot(exp)
    out = tmp_path / "scores"
    with pytest.raises(CodeInCheckpointError) as err:
        infer.main(infer_args(exp, out, trained))
    assert str(err.value) == (
        f"{exp}/latest.pth: holds pickled code (asd_lib.frontends.mel.LogMel, "
        "asd_lib.frontends.tgram.TgramNet, asd_lib.models.mobilefacenet.Bottleneck and 13 "
        "more), not only "
        "weights: refused, as loading it could run that code. Use a checkpoint that "
        "asd_lib saved, or save the model's state_dict() instead of the model")
    with pytest.raises(CodeInCheckpointError) as err:  # no fall-back to checkpoint.prev.pth
        trained.train(exp)
    assert str(err.value).startswith(f"{exp}/checkpoint.pth: holds pickled code (")
    assert snapshot(exp) == before and not (out / "train" / "utt2score").exists()


@fault('a checkpoint of another architecture (every key differs)', 'refused with the fix',
       'names the checkpoint and sums the mismatch up in a few keys, not all of them')
def test_weights_of_another_architecture_are_summarised(trained, tmp_path):
    exp = copy_experiment(trained.exp, tmp_path / "exp")
    weights = torch.load(exp / "latest.pth", weights_only=True)
    other = {f"backbone.{key}": value for key, value in weights["model"].items()}
    save_atomic({"model": other, "head": weights["head"]}, (exp / "latest.pth").resolve())
    out = tmp_path / "scores"
    with pytest.raises(ValueError) as err:
        infer.main(infer_args(exp, out, trained))
    count = len(weights["model"])
    first = list(weights["model"])[:3]
    assert str(err.value) == (
        f"{exp}/latest.pth: the model weights do not fit this model ({count} keys missing: "
        f"{', '.join(first)}, and {count - 3} more; {count} keys unexpected: "
        f"{', '.join('backbone.' + k for k in first)}, and {count - 3} more); the "
        "checkpoint was made with another model config: use its own exp dir or retrain")
    assert not (out / "train" / "utt2score").exists()
