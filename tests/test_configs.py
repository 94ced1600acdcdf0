"""Every training config of every recipe loads and builds (a dry run without data): the
model (each machine type's, for one model per type) embeds a batch, the head gives one
logit row per embedding, and every loss term, augmentation, optimiser and schedule builds.
Every inference config loads, and every training config names one that exists."""
from pathlib import Path

import pytest
import torch

from asd_lib.augment import AUGMENTS
from asd_lib.data.step import as_output
from asd_lib.experiment import build_model
from asd_lib.inference import InferenceConfig
from asd_lib.losses import OBJECTIVES
from asd_lib.train.optim import OPTIMIZERS, SCHEDULERS
from asd_lib.train.stages import parse_stages
from train_helpers import train_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "egs").glob("*/asd1/conf/**/*.yaml")
                 if p.name.startswith("train_"))
DECODE_CONFIGS = sorted((REPO / "egs").glob("*/asd1/conf/decode/*.yaml"))
NUM_CLASSES = 41
SAMPLE_RATE = 16000  # stage 2's default; a config states no rate


def test_there_are_configs():
    assert len(CONFIGS) >= 10


def dry_run(args) -> None:
    num_samples = SAMPLE_RATE * 3
    stages = parse_stages(args.stages)
    try:
        model, head = build_model(args.model, args.model_conf, args.head, args.head_conf,
                                  num_samples=num_samples, sample_rate=SAMPLE_RATE,
                                  num_classes=NUM_CLASSES)
    except FileNotFoundError as err:  # pretrained weights not downloaded (tests/test_w2v2_ast.py
        pytest.skip(str(err))         # builds these configs from tiny local copies)
    embedding = as_output(model(torch.zeros(2, num_samples, dtype=torch.int16)))["embedding"]
    assert embedding.shape[0] == 2 and embedding.shape[-1] == model.embedding_dim
    params = list(model.parameters())
    if head is not None:
        logits = head(embedding, torch.tensor([0, NUM_CLASSES - 1]))
        assert logits.shape[:-1] == embedding.shape[:-1]
        assert logits.shape[-1] % NUM_CLASSES == 0
        params += list(head.parameters())
    for stage in stages:
        for term in stage.losses:
            OBJECTIVES.build(term.name, **term.conf)
        for augment in stage.augments:
            AUGMENTS.build(augment["name"], **augment.get("conf", {}))
        optimizer = OPTIMIZERS.build(stage.optim, params=params, **stage.optim_conf)
        SCHEDULERS.build(stage.scheduler, optimizer=optimizer, epochs=stage.epochs,
                         **stage.scheduler_conf)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO / "egs")))
def test_config_dry_run(path):
    config = train_config(path)
    for part in [config] + [config.for_machine(m) for m in sorted(config.split_overrides)]:
        dry_run(part)


@pytest.mark.parametrize("path", DECODE_CONFIGS, ids=lambda p: str(p.relative_to(REPO / "egs")))
def test_inference_config_loads(path):
    config = InferenceConfig.from_yaml(path)
    assert config.batch_size >= 1


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO / "egs")))
def test_training_config_names_an_existing_inference_config(path):
    lines = [x for x in path.read_text().splitlines()
             if x.startswith("# Scoring (stage 4): --inference_config ")]
    assert len(lines) == 1, path
    recipe = path.parents[2] if path.parent.name == "tuning" else path.parents[1]
    assert (recipe / lines[0].split()[-1]).is_file(), lines[0]
