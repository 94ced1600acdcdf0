"""Fixtures of the fault suite: a trained toy experiment shared by the training,
inference and checkpoint cases (two epochs, one thread: runs are bit-reproducible)."""
import sys
from pathlib import Path

import pytest

# tests/ on sys.path, whether pytest was given tests/ or tests/faults/: the toy data
# set and config of the trainer tests are reused.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultkit import EPOCHS  # noqa: E402

from test_train import make_dumped_set, write_config  # noqa: E402
from train_helpers import train_with  # noqa: E402


class Experiment:
    """A toy dumped set, its training config and a finished training run."""

    def __init__(self, root: Path):
        # 5 clips per class, 1 held out: 12 training clips, batches of 8 and 4.
        self.data = make_dumped_set(root / "train", per_class=5)
        self.config = write_config(root / "train.yaml", epochs=EPOCHS)
        self.exp = root / "exp"
        self.train(self.exp)

    def train(self, exp_dir, **values):
        """Stage 3 of the toy config in ``exp_dir`` (one thread, quiet), ``values``
        overriding its keys."""
        return train_with(self.config, train_dir=self.data, exp_dir=exp_dir, num_threads=1,
                          verbose=0, **values)

    def train_args(self, exp_dir) -> list:
        """The same as command-line options of ``python -m asd_lib.bin.train``."""
        return ["--config", str(self.config), "--train_dir", str(self.data),
                "--exp_dir", str(exp_dir), "--num_threads", "1", "--verbose", "0"]


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    return Experiment(tmp_path_factory.mktemp("trained"))
