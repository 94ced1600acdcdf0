"""ONNX export of a trained experiment, and scoring with the exported file (onnxruntime).

The exported graph maps a batch of fixed-length waveforms ``[B, T]`` (int16 PCM as dumped
by stage 2, or float in [-1, 1)) and class indices ``[B]`` to

- ``score`` ``[B]``: the experiment's forward-pass anomaly score, e.g. ``neg_log_prob``
  = ``-log softmax(logits)[label]`` with the head's margin applied at the label when the
  config's ``score_margin`` is true, exactly as stage 4
  (:func:`asd_lib.inference.embed_and_score`);
- ``embedding`` ``[B, E]``: the model's output (front-end + backbone).

It is traced by the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``)
at opset 17, the first with an ``STFT`` operator. ONNX's STFT returns real and imaginary
parts in a trailing axis of size 2, whereas torchaudio's ``Spectrogram`` works on complex
tensors, which the exporter cannot trace; the export therefore runs on a copy of the
model whose ``Spectrogram`` modules are replaced by :class:`RealSpectrogram`, the same
transform computed on (re, im) pairs: ``|X| = sqrt(re^2 + im^2)``.

The file carries ``metadata_props``: the class names in index order (``asd_lib.classes``,
JSON), ``asd_lib.sample_rate``, ``asd_lib.num_samples``, ``asd_lib.checkpoint`` and
``asd_lib.experiment``, so a scorer can check it was given the right experiment.
"""
import copy
import io
import json
import logging
import warnings
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
import onnx
import onnxruntime
import torch
import torchaudio
from torch import nn

from asd_lib.inference import FORWARD_SCORES, load_trained
from asd_lib.data.step import as_output
from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_DTYPES = ("int16", "float32")
CHECK_TOLERANCE = 1e-3  # max |ONNX - PyTorch| score difference accepted by the export check


class RealSpectrogram(nn.Module):
    """torchaudio ``Spectrogram`` (power spectrogram, ``normalized=False``) computed with a
    real-valued STFT, so that the TorchScript ONNX exporter can trace it."""

    def __init__(self, spec: torchaudio.transforms.Spectrogram):
        super().__init__()
        if spec.power is None or spec.normalized:
            raise ValueError("ONNX export supports power spectrograms without normalisation "
                             f"only; got power={spec.power}, normalized={spec.normalized}")
        self.n_fft, self.hop_length, self.win_length = spec.n_fft, spec.hop_length, spec.win_length
        self.pad, self.power = spec.pad, spec.power
        self.center, self.pad_mode, self.onesided = spec.center, spec.pad_mode, spec.onesided
        self.register_buffer("window", spec.window.clone())

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if self.pad > 0:
            wave = nn.functional.pad(wave, (self.pad, self.pad), "constant")
        shape = wave.shape
        parts = torch.stft(wave.reshape(-1, shape[-1]), self.n_fft, self.hop_length,
                           self.win_length, self.window, self.center, self.pad_mode,
                           normalized=False, onesided=self.onesided, return_complex=False)
        power = parts.pow(2).sum(-1)
        if self.power != 2.0:
            power = power.sqrt().pow(self.power)
        return power.reshape(shape[:-1] + power.shape[-2:])


def onnx_traceable(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every torchaudio ``Spectrogram`` made a :class:`RealSpectrogram`."""
    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if isinstance(module, torchaudio.transforms.Spectrogram):
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, RealSpectrogram(module))
    return model


class ScoringGraph(nn.Module):
    """(waveform ``[B, T]``, label ``[B]``) -> (anomaly score ``[B]``, embedding ``[B, E]``),
    computed as :func:`asd_lib.inference.embed_and_score` does for a forward-pass score."""

    def __init__(self, model: nn.Module, head: Optional[nn.Module], margin: bool, score: str):
        super().__init__()
        self.model, self.head, self.margin = model, head, margin
        self.score_fn = FORWARD_SCORES[score]

    def forward(self, wave: torch.Tensor, label: torch.Tensor):
        out = as_output(self.model(wave))
        embedding = out["embedding"]
        logits = None
        if self.head is not None:
            logits = self.head(embedding, label if self.margin else None).float()
        score = self.score_fn(out, logits, label).float()
        if embedding.dim() == 3:  # patch embeddings: their mean, as stage 4 writes
            embedding = embedding.mean(1)
        return score, embedding.float()


def scoring_graph(exp_dir, checkpoint: str) -> Tuple[ScoringGraph, dict, dict]:
    """The PyTorch scoring graph of ``exp_dir`` at ``checkpoint`` on the CPU, with the
    experiment's config and model info. Only one model with a forward-pass score
    (:data:`asd_lib.inference.FORWARD_SCORES`) can be exported: an embedding back-end is
    fitted on training embeddings outside the network."""
    models = load_trained(exp_dir, checkpoint, torch.device("cpu"))
    if None not in models:
        raise ValueError(f"{exp_dir} holds one model per machine type ({sorted(models)}); "
                         f"export each part's dir instead, e.g. {exp_dir}/{sorted(models)[0]}")
    trained = models[None]
    score = trained.config.get("backend", "neg_log_prob")
    if score not in FORWARD_SCORES:
        raise ValueError(f"{exp_dir}: backend {score!r} scores embeddings outside the network; "
                         f"ONNX export supports the forward-pass scores {sorted(FORWARD_SCORES)}")
    graph = ScoringGraph(trained.model, trained.head, trained.config.get("score_margin", True),
                         score)
    return graph.eval(), trained.config, trained.info


def export_onnx(exp_dir, checkpoint: str, out_path, input_dtype: str = "int16") -> Path:
    """Export ``exp_dir`` at ``checkpoint`` to ``out_path`` and check it against PyTorch.

    The check scores two random clips with onnxruntime and with PyTorch and raises
    ValueError when the scores differ by more than :data:`CHECK_TOLERANCE`.
    """
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(f"input_dtype={input_dtype!r}; choose one of {INPUT_DTYPES}")
    reference, config, info = scoring_graph(exp_dir, checkpoint)
    graph = onnx_traceable(reference)
    wave, label = _example_batch(info["num_samples"], len(info["classes"]), input_dtype)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The head's label-range check is evaluated once while tracing; the ONNX scorer
        # checks labels itself (OnnxScorer.score).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # RealSpectrogram asks for the real STFT on purpose; the exporter's notes on
        # constant folding concern strided slices it leaves to the runtime.
        warnings.filterwarnings("ignore", message="stft with return_complex=False")
        warnings.filterwarnings("ignore", message="Constant folding")
        # torch 2.9 announces the TorchScript-based exporter's retirement; it is used on
        # purpose (the torch.export-based one cannot trace the head's label check).
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript")
        warnings.filterwarnings("ignore", message="The feature will be removed")
        torch.onnx.export(
            graph, (wave, label), buffer, input_names=["waveform", "label"],
            output_names=["score", "embedding"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"waveform": {0: "batch"}, "label": {0: "batch"},
                          "score": {0: "batch"}, "embedding": {0: "batch"}})
    proto = onnx.load_from_string(buffer.getvalue())
    meta = {"asd_lib.classes": json.dumps(info["classes"]),
            "asd_lib.sample_rate": str(config["sample_rate"]),
            "asd_lib.num_samples": str(info["num_samples"]),
            "asd_lib.checkpoint": checkpoint, "asd_lib.experiment": str(exp_dir)}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    content = proto.SerializeToString()
    with torch.no_grad():
        expected = reference(wave, label)[0].numpy()
    out_path = Path(out_path)
    got = OnnxScorer(out_path, content).score(wave.numpy(), label.numpy())[0]
    difference = float(np.max(np.abs(got - expected)))
    if difference > CHECK_TOLERANCE:
        raise ValueError(f"{exp_dir}: ONNX scores differ from PyTorch by {difference:.3g} "
                         f"(> {CHECK_TOLERANCE:g}); this model cannot be exported faithfully, "
                         f"so {out_path} was not written")
    with atomic_write(out_path, "wb") as f:
        f.write(content)
    logger.info("exported %s at %s to %s (max |ONNX - PyTorch| score difference %.2e)",
                exp_dir, checkpoint, out_path, difference)
    return out_path


def _example_batch(num_samples: int, num_classes: int, input_dtype: str):
    """Two seeded noise clips at -20 dBFS and labels 0 and the last class."""
    generator = torch.Generator().manual_seed(0)
    wave = 0.1 * torch.randn(2, num_samples, generator=generator)
    if input_dtype == "int16":
        wave = torch.round(wave * 32768.0).clamp(-32768, 32767).to(torch.int16)
    return wave, torch.tensor([0, num_classes - 1], dtype=torch.long)


class OnnxScorer:
    """Scores clips with an exported file (or its ``content``, bytes) on onnxruntime's CPU
    execution provider."""

    def __init__(self, path, content: Optional[bytes] = None):
        self.path = Path(path)
        if content is None and not self.path.is_file():
            raise ValueError(f"{self.path}: no such ONNX file; make it with "
                             "python -m asd_lib.bin.export_onnx")
        self.session = onnxruntime.InferenceSession(
            content if content is not None else str(self.path),
            providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if "asd_lib.classes" not in meta:
            raise ValueError(f"{self.path}: no asd_lib metadata; it was not written by "
                             "asd_lib.bin.export_onnx")
        self.classes: List[str] = json.loads(meta["asd_lib.classes"])
        self.num_samples = int(meta["asd_lib.num_samples"])
        wave_type = self.session.get_inputs()[0].type
        self.takes_int16 = wave_type == "tensor(int16)"

    def score(self, waves: np.ndarray, labels: np.ndarray,
              batch_size: int = 64) -> Tuple[np.ndarray, np.ndarray]:
        """Anomaly scores ``[N]`` (float64) and embeddings ``[N, E]`` of int16 or float
        waveforms ``[N, T]`` with class indices ``labels`` ``[N]``."""
        labels = np.asarray(labels, dtype=np.int64)
        if waves.ndim != 2 or waves.shape[1] != self.num_samples:
            raise ValueError(f"{self.path} takes waveforms [N, {self.num_samples}]; got shape "
                             f"{waves.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes) - 1}] for {self.path}")
        if self.takes_int16 and waves.dtype != np.int16:
            raise ValueError(f"{self.path} takes int16 waveforms; got {waves.dtype}")
        if not self.takes_int16:
            waves = waves.astype(np.float32) / (32768.0 if waves.dtype == np.int16 else 1.0)
        scores, embeddings = [], []
        for start in range(0, len(labels), batch_size):
            score, embedding = self.session.run(
                ["score", "embedding"], {"waveform": waves[start:start + batch_size],
                                         "label": labels[start:start + batch_size]})
            scores.append(score)
            embeddings.append(embedding)
        return np.concatenate(scores).astype(np.float64), np.concatenate(embeddings)
