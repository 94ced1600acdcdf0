"""DDP on the CPU with the gloo backend.

1. Exactness of the data split and gradient averaging: 2 processes reproduce the loss curve
   of one process on the same global batch to 1e-5 (relative) with a BatchNorm-free model.
   (With BatchNorm they cannot match exactly: each process normalises its half batch with
   its own statistics, and SyncBatchNorm needs CUDA.)
2. The real launch path: torchrun with 2 processes trains STgram-MFN, its loss falls, and
   only rank 0 writes snapshots and history.
3. Training leaves the process group when it is done, so no gloo thread outlives the
   interpreter (that aborts a finished rank).
"""
import csv
import os
import socket
import subprocess
import sys

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from asd_lib.frontends.mel import to_float_waveform
from asd_lib.models import MODELS
from asd_lib.train.distributed import leave_distributed
from test_train import make_dumped_set, write_config
from train_helpers import train_with

TOLERANCE = 1e-5


@MODELS.register("toy_spectrum_linear")
class ToySpectrumLinear(nn.Module):
    """BatchNorm-free test model: log magnitude spectrum in 64 bands -> linear embedding."""

    def __init__(self, num_samples, sample_rate, embedding_dim=16):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.proj = nn.Linear(64, embedding_dim)

    def forward(self, wave):
        spectrum = torch.fft.rfft(to_float_waveform(wave)).abs()[:, :6400]
        return self.proj(spectrum.view(len(wave), 64, -1).mean(-1).log1p())


def losses(exp_dir):
    with open(exp_dir / "train_history.csv", newline="") as f:
        return [float(row["train_loss"]) for row in csv.DictReader(f)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, values):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    train_with(**values)
    assert not dist.is_initialized()  # training left the process group


def toy_args(tmp_path, dumped, exp):
    conf = write_config(tmp_path / "toy.yaml", epochs=3)
    text = conf.read_text().replace("model: stgram_mfn", "model: toy_spectrum_linear") \
        .replace("model_conf:\n  table: liu8", "model_conf: {}")
    conf.write_text(text)
    return {"config": conf, "train_dir": dumped, "exp_dir": tmp_path / exp, "num_threads": 1,
            "verbose": 0}


def test_two_gloo_processes_reproduce_the_single_process_loss_curve(tmp_path):
    dumped = make_dumped_set(tmp_path / "train", per_class=8)  # 18 training clips: 8 + 8 + 2
    train_with(**toy_args(tmp_path, dumped, "one"))
    torch.multiprocessing.spawn(_worker, args=(2, free_port(), toy_args(tmp_path, dumped, "two")),
                                nprocs=2, join=True)
    one, two = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(one) == len(two) == 3 and one[-1] < one[0]
    for a, b in zip(one, two):
        assert abs(a - b) <= TOLERANCE * abs(a), (one, two)


def test_leaving_the_process_group_closes_it(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)
    assert dist.is_initialized()
    leave_distributed()
    assert not dist.is_initialized()
    leave_distributed()  # no group: nothing to leave


def test_torchrun_trains_stgram_mfn_with_rank0_outputs_only(tmp_path):
    dumped = make_dumped_set(tmp_path / "train", per_class=7)  # 15 training clips: 8 + 7
    conf = write_config(tmp_path / "c.yaml", epochs=3)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", "-m", "asd_lib.bin.train", "--config", str(conf),
                    "--train_dir", str(dumped), "--exp_dir", str(tmp_path / "exp"), "--ngpu", "0",
                    "--num_threads", "1", "--verbose", "0"], check=True, timeout=300)
    curve = losses(tmp_path / "exp")
    assert len(curve) == 3 and curve[-1] < curve[0]
    assert sorted(p.name for p in (tmp_path / "exp" / "snapshots").iterdir()) == \
        ["epoch1.pth", "epoch2.pth", "epoch3.pth"]


def test_shards_of_an_id_balanced_batch_make_up_the_global_batch():
    """Each of 3 processes takes every 3rd item of the same global batch: the union is the
    single-process batch, so the batch stays ID-balanced (k per class) over all processes."""
    from asd_lib.data.samplers import SAMPLERS
    from asd_lib.train.distributed import DistContext, ShardedBatches

    labels = [c for c in range(4) for _ in range(7)]

    def batches():
        return SAMPLERS.build("class_balanced", labels=labels, batch_size=0,
                              generator=torch.Generator().manual_seed(5), per_class=3)

    shards = [list(ShardedBatches(batches(), DistContext(rank, 3, rank))) for rank in range(3)]
    for b, full in enumerate(batches()):
        parts = [shards[rank][b] for rank in range(3)]
        assert sorted(sum(parts, [])) == sorted(full)
        assert [len(p) for p in parts] == [4, 4, 4]
        counts = np.bincount([labels[i] for i in full], minlength=4)
        assert counts.tolist() == [3, 3, 3, 3]
