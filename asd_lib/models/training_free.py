"""Training-free embedding models: references that tell whether training helps.

Neither model has a trainable parameter; an experiment with one of them has no training
stages (``stages: []``): stage 3 records the configuration, the training labels and the
held-out split and trains nothing, and stages 4-5 score it with any back-end, like a
trained system. The two references follow ASDKit (Fujimura et al., "ASDKit: A Toolkit for
Comprehensive Evaluation of Anomalous Sound Detection Methods", arXiv 2507.10264, 2025),
whose ``raw_spec`` system scores spectrogram features without training and whose
``raw_beats`` / ``raw_eat`` systems score frozen pretrained encoders; the encoders here are
the wav2vec 2.0 and AST backbones of :mod:`asd_lib.models.w2v2_ast`.

* ``logmel_stats``: the time mean (and with ``std: true`` also the time standard
  deviation) of the clip's log-mel spectrogram, ``[B, n_mels]`` (or ``[B, 2 n_mels]``).
  The front-end is the one STgram-MFN trains on (:class:`~asd_lib.frontends.mel.LogMel`,
  16 kHz, 1024-point frames every 512 samples, 128 mels, ``10 log10 max(S, 1e-10)``), our
  choice, so that the reference and the trained system see the same spectrogram.
* ``frozen_encoder``: one pretrained encoder (``backbone: wav2vec2`` or ``ast``), its
  frame embeddings of the last layer (``layer: -1``; another index picks that hidden
  state) mean-pooled over time: wav2vec 2.0's frames, or AST's patch tokens (the CLS and
  distillation tokens left out). The inputs are prepared as in :mod:`~asd_lib.models.w2v2_ast`
  (per-clip normalised waveform; AudioSet-normalised Kaldi filterbanks). Weights come from
  ``pretrained_dir`` (a local copy, as the CAU system's), ``pretrained_name`` or, for
  tests, ``random_init`` (a tiny random encoder, drawn with the seed ``init_seed`` so that
  the config defines its weights too).

The weights of a training-free model are never saved in the experiment: inference rebuilds
the model from ``config.yaml``, which defines it entirely (for ``frozen_encoder`` together
with its pretrained directory).
"""
from typing import Optional

import torch
from torch import nn

from asd_lib.frontends.mel import LogMel, to_float_waveform
from asd_lib.models.registry import MODELS
from asd_lib.models.w2v2_ast import (
    BACKBONES,
    SAMPLE_RATE,
    AstInput,
    load_backbone,
    zero_mean_unit_variance,
)

AST_SPECIAL_TOKENS = 2  # CLS and distillation tokens ahead of AST's patch tokens


@MODELS.register("logmel_stats")
class LogMelStats(nn.Module):
    """Waveform ``[B, T]`` -> time mean (and standard deviation) of its log-mel spectrogram,
    ``[B, n_mels]`` (``[B, 2 n_mels]`` with ``std``); see the module docstring."""

    training_free = True

    def __init__(self, num_samples: int, sample_rate: int = 16000, n_mels: int = 128,
                 n_fft: int = 1024, hop_length: int = 512, std: bool = False):
        super().__init__()
        if num_samples < n_fft // 2 + 1:
            raise ValueError(f"logmel_stats: clips of {num_samples} samples are too short for "
                             f"{n_fft}-point frames")
        self.logmel = LogMel(sample_rate=sample_rate, n_fft=n_fft, win_length=n_fft,
                             hop_length=hop_length, n_mels=n_mels)
        self.std = bool(std)
        self.embedding_dim = n_mels * (2 if self.std else 1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spec = self.logmel(to_float_waveform(wave))  # [B, n_mels, frames]
        if not self.std:
            return spec.mean(dim=-1)
        return torch.cat([spec.mean(dim=-1), spec.std(dim=-1, unbiased=False)], dim=1)


@MODELS.register("frozen_encoder")
class FrozenEncoder(nn.Module):
    """Waveform ``[B, T]`` (16 kHz) -> mean-pooled frame embeddings of a frozen pretrained
    encoder, ``[B, hidden_size]``; see the module docstring."""

    training_free = True

    def __init__(self, num_samples: int, sample_rate: int = SAMPLE_RATE,
                 backbone: str = "ast", pretrained_dir: Optional[str] = None,
                 pretrained_name: Optional[str] = None, random_init: Optional[dict] = None,
                 layer: int = -1, init_seed: int = 0):
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"frozen_encoder: backbone must be one of {BACKBONES}, "
                             f"got {backbone!r}")
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"frozen_encoder: the {backbone} encoder takes {SAMPLE_RATE} Hz "
                             f"audio; dump the data at {SAMPLE_RATE} Hz (sample_rate is "
                             f"{sample_rate})")
        self.kind = backbone
        # inference rebuilds the model: random weights must come out the same every time
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            self.encoder = load_backbone(backbone, pretrained_dir, pretrained_name, random_init)
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        num_layers = self.encoder.config.num_hidden_layers
        if not -(num_layers + 1) <= layer <= num_layers:
            raise ValueError(f"frozen_encoder: layer {layer} is outside the encoder's "
                             f"{num_layers} layers (0 = its input embeddings, -1 = the last)")
        self.layer = layer
        self.ast_input = None
        if backbone == "ast":
            self.ast_input = AstInput(self.encoder.config.max_length,
                                      self.encoder.config.num_mel_bins)
            if num_samples < self.ast_input.fbank.window_size:
                raise ValueError(f"frozen_encoder: clips of {num_samples} samples are shorter "
                                 "than one 25 ms filterbank frame")
        self.embedding_dim = self.encoder.config.hidden_size

    def train(self, mode: bool = True) -> "FrozenEncoder":
        super().train(mode)
        self.encoder.eval()  # frozen: dropout off and normalisation statistics fixed
        return self

    @torch.no_grad()
    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = to_float_waveform(wave)
        if self.kind == "wav2vec2":
            out = self.encoder(input_values=zero_mean_unit_variance(x),
                               output_hidden_states=self.layer != -1)
            first = 0
        else:
            out = self.encoder(input_values=self.ast_input(x),
                               output_hidden_states=self.layer != -1)
            first = AST_SPECIAL_TOKENS
        frames = out.last_hidden_state if self.layer == -1 else out.hidden_states[self.layer]
        return frames[:, first:].mean(dim=1)
