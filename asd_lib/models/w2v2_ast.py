"""wav2vec 2.0 + AST embedding model: the pretrained-model system of Kim et al.

Kim et al., "Anomalous sound detection based on pre-trained models with different audio
representations", DCASE 2024 Task 2 technical report: two pretrained audio models look at
two representations of the clip (Sec. 2), and their embeddings are fused into one
(Sec. 3.3):

* wav2vec 2.0 (Baevski et al., NeurIPS 2020) on the 16 kHz waveform; its frame features
  are pooled by attentive statistics pooling (Sec. 3.2; weighted mean and standard
  deviation, :mod:`asd_lib.models.pooling`) into ``[B, 2, H]``;
* AST, the Audio Spectrogram Transformer (Gong et al., Interspeech 2021), on its Kaldi
  filterbank input; its CLS token ``[B, 1, H]`` is the clip's vector;
* the two are concatenated along the second dimension, ``[B, 3, H]``, and a small CNN
  (:class:`FusionCNN`) compresses that into the embedding, which an ArcFace head
  (``head: arcface``, Sec. 3.4, Eq. 1) classifies during training.

Both backbones are Hugging Face ``transformers`` models (``Wav2Vec2Model``, ``ASTModel``),
built per backbone from, in this order of precedence:

* ``random_init: {wav2vec2: {...}, ast: {...}}``: a randomly initialised model of that
  ``Wav2Vec2Config`` / ``ASTConfig`` (tiny ones make the debug configuration);
* ``pretrained_dir: {wav2vec2: DIR, ast: DIR}``: a local copy made with
  ``hf download <name> --local-dir DIR`` (never fetched here; a missing directory is an
  error that says how to get it). A relative DIR is relative to where training and
  inference run (the recipe directory); inference rebuilds the model, so it needs the
  directories too before the trained weights replace the pretrained ones;
* ``pretrained_name: {wav2vec2: NAME, ast: NAME}``: a hub name, downloaded (or read from
  the Hugging Face cache) by ``from_pretrained`` when the model is built.

``transformers`` is imported when a model is built, not when this module is imported.

The AST input is what ``ASTFeatureExtractor`` computes, here batched in torch on the
model's device (:class:`KaldiFbank`, equal to ``torchaudio.compliance.kaldi.fbank`` with
``window_type="hanning"``): 128 log mel filterbanks of 25 ms frames every 10 ms, zero-padded
or cut to the model's ``max_length`` frames (1024 for the AudioSet AST, 10.24 s), then
``(x - mean) / (2 std)`` with the AudioSet statistics mean -4.2677393, std 4.5689974. The
wav2vec 2.0 input is normalised per clip to zero mean and unit variance as
``Wav2Vec2FeatureExtractor(do_normalize=True)`` does for ``facebook/wav2vec2-base``.

Per backbone, ``train_mode`` is ``finetune`` (every weight trained), ``freeze_feature_encoder``
(wav2vec 2.0: its convolutional feature encoder fixed; AST: its patch and position
embeddings fixed) or ``freeze`` (the whole backbone fixed and kept in eval mode).
"""
from pathlib import Path
from typing import Dict, Optional, Sequence

import torch
from torch import nn
from torchaudio.compliance.kaldi import get_mel_banks

from asd_lib.data.step import Mix
from asd_lib.frontends.mel import to_float_waveform
from asd_lib.models.pooling import AttentiveStatsPooling
from asd_lib.models.registry import MODELS
from asd_lib.utils.extras import require

BACKBONES = ("wav2vec2", "ast")
TRAIN_MODES = ("finetune", "freeze_feature_encoder", "freeze")
AST_TOKENS = ("cls", "cls_distill")
HUB_NAMES = {"wav2vec2": "facebook/wav2vec2-base",
             "ast": "MIT/ast-finetuned-audioset-10-10-0.4593"}
"""The published backbones' names on the Hugging Face hub (for the error messages)."""
AST_MEAN, AST_STD = -4.2677393, 4.5689974  # AudioSet statistics of ASTFeatureExtractor
SAMPLE_RATE = 16000


def _transformers():
    return require("transformers", "model w2v2_ast")


def _per_backbone(value: Optional[dict], key: str) -> dict:
    """A ``{backbone: ...}`` option, checked for unknown backbone names."""
    value = value or {}
    if not isinstance(value, dict):
        raise ValueError(f"w2v2_ast: {key} must map backbone names {BACKBONES} to values, "
                         f"got {value!r}")
    unknown = sorted(set(value) - set(BACKBONES))
    if unknown:
        raise ValueError(f"w2v2_ast: {key} has unknown backbone(s) {unknown}; use {BACKBONES}")
    return value


def load_backbone(kind: str, pretrained_dir=None, pretrained_name: Optional[str] = None,
                  random_init: Optional[dict] = None) -> nn.Module:
    """The ``kind`` backbone (``wav2vec2`` or ``ast``) as a float32 ``transformers`` model:
    random with config ``random_init``, else from the local ``pretrained_dir``, else from the
    hub name ``pretrained_name``."""
    if kind not in BACKBONES:
        raise ValueError(f"unknown backbone {kind!r}; choose one of {BACKBONES}")
    transformers = _transformers()
    model_cls, config_cls = {
        "wav2vec2": (transformers.Wav2Vec2Model, transformers.Wav2Vec2Config),
        "ast": (transformers.ASTModel, transformers.ASTConfig),
    }[kind]
    if random_init is not None:
        return model_cls(config_cls(**random_init))
    if pretrained_dir is not None:
        path = Path(pretrained_dir)
        if not (path / "config.json").is_file():
            name = pretrained_name or HUB_NAMES[kind]
            raise FileNotFoundError(
                f"w2v2_ast: pretrained_dir of {kind} {path} does not exist or holds no "
                f"config.json. Get the weights on a machine with internet access: "
                f"'hf download {name} --local-dir {path}' (older huggingface_hub: "
                f"'huggingface-cli download {name} --local-dir {path}'), then copy the "
                f"directory here; or set model_conf.pretrained_dir.{kind} to where it is")
        return model_cls.from_pretrained(str(path), local_files_only=True).float()
    if pretrained_name is not None:
        return model_cls.from_pretrained(pretrained_name).float()
    raise ValueError(f"w2v2_ast: no source for the {kind} backbone; set "
                     f"model_conf.pretrained_dir.{kind} (a local copy of {HUB_NAMES[kind]}), "
                     f"pretrained_name.{kind} (a hub name) or random_init.{kind} (a config)")


def zero_mean_unit_variance(x: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Per-clip ``(x - mean) / sqrt(var + eps)`` (population variance), as
    ``Wav2Vec2FeatureExtractor`` normalises its input."""
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


class KaldiFbank(nn.Module):
    """Waveform ``[B, T]`` -> log mel filterbanks ``[B, frames, num_mel_bins]``, batched.

    The computation of ``torchaudio.compliance.kaldi.fbank(..., window_type="hanning")`` with
    its other defaults (no dither, ``snip_edges``: ``1 + (T - 400) // 160`` frames of 25 ms
    every 10 ms at 16 kHz): per frame, remove the DC offset, pre-emphasise (0.97, first
    sample replicated), apply a symmetric Hann window, zero-pad to 512 points, power
    spectrum, Kaldi mel filterbank (20 Hz to Nyquist), ``log(max(., float32 eps))``.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, num_mel_bins: int = 128,
                 frame_length_ms: float = 25.0, frame_shift_ms: float = 10.0,
                 preemphasis: float = 0.97, low_freq: float = 20.0):
        super().__init__()
        self.window_size = int(sample_rate * frame_length_ms / 1000)
        self.window_shift = int(sample_rate * frame_shift_ms / 1000)
        self.n_fft = 1 << (self.window_size - 1).bit_length()  # next power of two
        self.preemphasis = preemphasis
        banks, _ = get_mel_banks(num_mel_bins, self.n_fft, float(sample_rate), low_freq, 0.0,
                                 100.0, -500.0, 1.0)
        self.register_buffer("mel_banks", nn.functional.pad(banks, (0, 1)), persistent=False)
        self.register_buffer("window", torch.hann_window(self.window_size, periodic=False),
                             persistent=False)

    def num_frames(self, num_samples: int) -> int:
        return 1 + (num_samples - self.window_size) // self.window_shift

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.shape[-1] < self.window_size:
            raise ValueError(f"KaldiFbank: clips of {wave.shape[-1]} samples are shorter than "
                             f"one {self.window_size}-sample frame")
        frames = wave.unfold(-1, self.window_size, self.window_shift)  # [B, F, W]
        frames = frames - frames.mean(dim=-1, keepdim=True)
        previous = torch.cat([frames[..., :1], frames[..., :-1]], dim=-1)
        frames = (frames - self.preemphasis * previous) * self.window
        power = torch.fft.rfft(frames, n=self.n_fft).abs().pow(2)
        mel = power @ self.mel_banks.T
        return mel.clamp(min=torch.finfo(torch.float32).eps).log()


class AstInput(nn.Module):
    """Waveform ``[B, T]`` -> normalised AST input ``[B, max_length, num_mel_bins]``
    (``ASTFeatureExtractor``: fbank, zero-pad or cut to ``max_length`` frames, then
    ``(x - mean) / (2 std)``)."""

    def __init__(self, max_length: int, num_mel_bins: int, mean: float = AST_MEAN,
                 std: float = AST_STD):
        super().__init__()
        self.fbank = KaldiFbank(num_mel_bins=num_mel_bins)
        self.max_length = max_length
        self.mean, self.std = mean, std

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = self.fbank(wave)[:, :self.max_length]
        x = nn.functional.pad(x, (0, 0, 0, self.max_length - x.shape[1]))
        return (x - self.mean) / (2 * self.std)


class FusionCNN(nn.Module):
    """The stacked branch vectors ``[B, 3, H]`` -> embedding ``[B, embedding_dim]``.

    The report's input (Sec. 3.3): wav2vec 2.0's pooled mean and standard deviation and
    AST's CLS token, each ``H`` long, stacked as three rows. The report does not describe
    the CNN; our choice is a small 1-D CNN along ``H`` with the three rows as its input
    channels: per entry of ``channels``, Conv1d(kernel ``kernel_size``, stride 2, 'same'
    padding) + BN + ReLU; then adaptive average pooling to ``pooled_length`` positions,
    flattening, and Linear(channels[-1] * pooled_length, embedding_dim) + BN.
    """

    rows = 3

    def __init__(self, hidden_size: int, embedding_dim: int, channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3, pooled_length: int = 16):
        super().__init__()
        if not channels or kernel_size < 1 or kernel_size % 2 == 0 or pooled_length < 1:
            raise ValueError(f"FusionCNN: need >= 1 channel entry, an odd kernel_size and "
                             f"pooled_length >= 1; got {list(channels)}, {kernel_size}, "
                             f"{pooled_length}")
        layers, previous = [], self.rows
        for c in channels:
            layers += [nn.Conv1d(previous, c, kernel_size, stride=2, padding=kernel_size // 2),
                       nn.BatchNorm1d(c), nn.ReLU()]
            previous = c
        layers.append(nn.AdaptiveAvgPool1d(pooled_length))
        self.conv = nn.Sequential(*layers)
        self.project = nn.Sequential(nn.Linear(previous * pooled_length, embedding_dim),
                                     nn.BatchNorm1d(embedding_dim))
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1:] != (self.rows, self.hidden_size):
            raise ValueError(f"FusionCNN expects [B, {self.rows}, {self.hidden_size}]; got "
                             f"{tuple(x.shape)}")
        return self.project(self.conv(x).flatten(1))


def _apply_train_mode(kind: str, backbone: nn.Module, mode: str) -> None:
    if mode not in TRAIN_MODES:
        raise ValueError(f"w2v2_ast: train_mode.{kind} must be one of {TRAIN_MODES}, "
                         f"got {mode!r}")
    if mode == "freeze":
        backbone.requires_grad_(False)
    elif mode == "freeze_feature_encoder":
        if kind == "wav2vec2":
            backbone.freeze_feature_encoder()
        else:
            backbone.embeddings.requires_grad_(False)


@MODELS.register("w2v2_ast")
class W2v2Ast(nn.Module):
    """Waveform ``[B, T]`` (int16 or float, 16 kHz) -> fused embedding ``[B, embedding_dim]``.

    Options (see the module docstring): ``pretrained_dir``, ``pretrained_name``,
    ``random_init`` and ``train_mode`` map backbone names to values; ``attention_dim`` and
    ``attention_activation`` shape the attentive statistics pooling; ``ast_token``: ``cls``
    (the CLS token) or ``cls_distill`` (mean of the CLS and distillation tokens, the
    ``pooler_output`` of ``ASTModel``); ``w2v2_normalize``: per-clip normalisation of the
    wav2vec 2.0 input; ``fusion_channels``, ``fusion_kernel``, ``fusion_length``:
    :class:`FusionCNN`. With a mixup augmentation the waveforms are mixed before both
    branches.
    """

    def __init__(self, num_samples: int, sample_rate: int = SAMPLE_RATE,
                 embedding_dim: int = 256, pretrained_dir: Optional[Dict[str, str]] = None,
                 pretrained_name: Optional[Dict[str, str]] = None,
                 random_init: Optional[Dict[str, dict]] = None,
                 train_mode: Optional[Dict[str, str]] = None, attention_dim: int = 128,
                 attention_activation: str = "tanh", ast_token: str = "cls",
                 w2v2_normalize: bool = True, fusion_channels: Sequence[int] = (16, 32),
                 fusion_kernel: int = 3, fusion_length: int = 16):
        super().__init__()
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"w2v2_ast: both backbones take {SAMPLE_RATE} Hz audio; dump the "
                             f"data at {SAMPLE_RATE} Hz (sample_rate is {sample_rate})")
        if ast_token not in AST_TOKENS:
            raise ValueError(f"w2v2_ast: ast_token must be one of {AST_TOKENS}, got {ast_token!r}")
        pretrained_dir = _per_backbone(pretrained_dir, "pretrained_dir")
        pretrained_name = _per_backbone(pretrained_name, "pretrained_name")
        random_init = _per_backbone(random_init, "random_init")
        train_mode = _per_backbone(train_mode, "train_mode")
        backbones = {kind: load_backbone(kind, pretrained_dir.get(kind), pretrained_name.get(kind),
                                         random_init.get(kind)) for kind in BACKBONES}
        self.wav2vec2, self.ast = backbones["wav2vec2"], backbones["ast"]
        self.train_mode = {kind: train_mode.get(kind, "finetune") for kind in BACKBONES}
        for kind, backbone in backbones.items():
            _apply_train_mode(kind, backbone, self.train_mode[kind])
        ast_config = self.ast.config
        self.ast_input = AstInput(ast_config.max_length, ast_config.num_mel_bins)
        if num_samples < self.ast_input.fbank.window_size:
            raise ValueError(f"w2v2_ast: clips of {num_samples} samples are shorter than one "
                             f"25 ms filterbank frame")
        self.ast_token = ast_token
        self.w2v2_normalize = w2v2_normalize
        hidden_size = self.wav2vec2.config.hidden_size
        if ast_config.hidden_size != hidden_size:
            raise ValueError(f"w2v2_ast: the fusion stacks wav2vec 2.0 and AST vectors, so both "
                             f"need one hidden size; got {hidden_size} and "
                             f"{ast_config.hidden_size}")
        self.pooling = AttentiveStatsPooling(hidden_size, attention_dim, attention_activation)
        self.fusion = FusionCNN(hidden_size, embedding_dim, fusion_channels, fusion_kernel,
                                fusion_length)
        self.embedding_dim = embedding_dim

    def train(self, mode: bool = True) -> "W2v2Ast":
        super().train(mode)
        for kind in BACKBONES:
            if self.train_mode[kind] == "freeze":
                getattr(self, kind).eval()
        return self

    def branches(self, x: torch.Tensor):
        """The pooled wav2vec 2.0 statistics ``[B, 2 H]`` (mean, then standard deviation)
        and the AST token ``[B, H]`` of float waveforms ``x`` ``[B, T]``."""
        w2v2_in = zero_mean_unit_variance(x) if self.w2v2_normalize else x
        frames = self.wav2vec2(input_values=w2v2_in).last_hidden_state
        tokens = self.ast(input_values=self.ast_input(x)).last_hidden_state
        token = tokens[:, 0] if self.ast_token == "cls" else tokens[:, :2].mean(dim=1)
        return self.pooling(frames), token

    def forward(self, wave: torch.Tensor, mix: Optional[Mix] = None) -> torch.Tensor:
        x = to_float_waveform(wave)
        if mix is not None:
            x = mix.apply(x)
        pooled, token = self.branches(x)
        stacked = torch.cat([pooled.unflatten(1, (2, -1)), token.unsqueeze(1)], dim=1)
        return self.fusion(stacked)
