"""Every training config of every recipe loads and builds (a dry run without data)."""
from pathlib import Path

import pytest
import torch

from asd_lib.bin import train
from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.train.optim import OPTIMIZERS, SCHEDULERS
from asd_lib.train.stages import parse_stages
from asd_lib.train.trainer import build_model

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "egs").glob("*/asd1/conf/**/*.yaml")
                 if p.name.startswith("train_"))


def test_there_are_configs():
    assert len(CONFIGS) >= 4


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO / "egs")))
def test_config_dry_run(path):
    args = train.get_parser().parse_args(
        ["--config", str(path), "--train_dir", "unused", "--exp_dir", "unused"])
    stages = parse_stages(args.stages)
    model, head = build_model(args.model, args.model_conf, args.head, args.head_conf,
                              num_samples=args.sample_rate * 2, sample_rate=args.sample_rate,
                              num_classes=41)
    embedding = model(torch.zeros(2, args.sample_rate * 2, dtype=torch.int16))
    assert embedding.shape == (2, model.embedding_dim)
    assert head(embedding, torch.tensor([0, 40])).shape == (2, 41)
    params = list(model.parameters()) + list(head.parameters())
    for stage in stages:
        for term in stage.losses:
            OBJECTIVES.build(term.name, **term.conf)
        optimizer = OPTIMIZERS.build(stage.optim, params=params, **stage.optim_conf)
        SCHEDULERS.build(stage.scheduler, optimizer=optimizer, epochs=stage.epochs,
                         **stage.scheduler_conf)
