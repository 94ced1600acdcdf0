"""The training-free reference models: no trainable parameter, embeddings as defined (time
statistics of the log-mel; mean-pooled frames of a frozen encoder), weights defined by the
config, and configs that pair them with ``stages: []`` only."""
import argparse

import pytest
import torch

from asd_lib.frontends.mel import LogMel
from asd_lib.models import MODELS
from asd_lib.models.traits import traits
from asd_lib.train.checks import check_training_free
from asd_lib.train.stages import parse_stages
from asd_lib.utils.config import ConfigError

TINY_AST = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 32, "max_length": 100, "num_mel_bins": 128}
TINY_W2V2 = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
             "intermediate_size": 32, "conv_dim": [16, 16], "conv_kernel": [10, 8],
             "conv_stride": [5, 8], "num_conv_pos_embeddings": 16,
             "num_conv_pos_embedding_groups": 2}


def trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_logmel_stats_are_the_time_mean_and_std_of_the_log_mel():
    wave = (torch.randn(3, 16000, generator=torch.Generator().manual_seed(0)) * 3000).short()
    spec = LogMel()(wave.float() / 32768)  # [3, 128, 32]
    mean_only = MODELS.build("logmel_stats", num_samples=16000)
    both = MODELS.build("logmel_stats", num_samples=16000, std=True)
    assert mean_only.embedding_dim == 128 and both.embedding_dim == 256
    torch.testing.assert_close(mean_only(wave), spec.mean(dim=-1), rtol=0, atol=1e-5)
    torch.testing.assert_close(both(wave)[:, 128:], spec.std(dim=-1, unbiased=False),
                               rtol=0, atol=1e-5)
    assert trainable(both) == 0 and traits(both).training_free and traits(type(both)).training_free


@pytest.mark.parametrize("backbone, init, special", [("ast", TINY_AST, 2), ("wav2vec2", TINY_W2V2, 0)])
def test_frozen_encoder_mean_pools_frames_with_weights_the_config_defines(backbone, init, special):
    wave = torch.randn(2, 16000, generator=torch.Generator().manual_seed(1))
    model = MODELS.build("frozen_encoder", num_samples=16000, backbone=backbone, random_init=init)
    again = MODELS.build("frozen_encoder", num_samples=16000, backbone=backbone, random_init=init)
    other = MODELS.build("frozen_encoder", num_samples=16000, backbone=backbone,
                         random_init=init, init_seed=1)
    model.train()  # a frozen encoder stays in eval mode
    assert not model.encoder.training and trainable(model) == 0 and model.embedding_dim == 16
    embedding = model(wave)
    assert embedding.shape == (2, 16)
    torch.testing.assert_close(again(wave), embedding, rtol=0, atol=0)
    assert not torch.allclose(other(wave), embedding)
    with torch.no_grad():
        if backbone == "ast":
            frames = model.encoder(input_values=model.ast_input(wave)).last_hidden_state
        else:
            normed = (wave - wave.mean(1, keepdim=True)) / torch.sqrt(
                wave.var(1, unbiased=False, keepdim=True) + 1e-7)
            frames = model.encoder(input_values=normed).last_hidden_state
    torch.testing.assert_close(embedding, frames[:, special:].mean(dim=1), rtol=0, atol=1e-6)


def test_frozen_encoder_refuses_other_rates_and_layers():
    with pytest.raises(ValueError, match="takes 16000 Hz audio; dump the data at 16000 Hz"):
        MODELS.build("frozen_encoder", num_samples=8000, sample_rate=8000, random_init=TINY_AST)
    with pytest.raises(ValueError, match="layer 5 is outside the encoder's 1 layers"):
        MODELS.build("frozen_encoder", num_samples=16000, random_init=TINY_AST, layer=5)


def config(model: str, head: str, stages: list):
    return argparse.Namespace(model=model, head=head), parse_stages(stages)


STAGE = [{"name": "a", "epochs": 1, "losses": [{"name": "margin_cross_entropy"}]}]


@pytest.mark.parametrize("model, head, stages, message", [
    ("stgram_mfn", "arcface", [], "stages: \\[\\] trains nothing, but model 'stgram_mfn' has to be trained"),
    ("logmel_stats", "none", STAGE, "model 'logmel_stats' is training-free .*give stages: \\[\\]"),
    ("logmel_stats", "arcface", [], "a classification head would be untrained: use head: none"),
])
def test_training_free_goes_with_no_stages_and_no_head(model, head, stages, message):
    with pytest.raises(ConfigError, match=message):
        check_training_free(*config(model, head, stages))
    check_training_free(*config("logmel_stats", "none", []))
    check_training_free(*config("stgram_mfn", "arcface", STAGE))
