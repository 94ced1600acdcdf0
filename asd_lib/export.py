"""ONNX export of a trained experiment, and scoring with the exported file (onnxruntime).

The exported graph maps a batch of fixed-length waveforms ``[B, T]`` (int16 PCM as dumped
by stage 2, or float in [-1, 1)) and class indices ``[B]`` to

- ``score`` ``[B]``: the forward-pass anomaly score of the inference configuration given
  the class ``label``, e.g. ``neg_log_prob`` = ``-log softmax(logits)[label]`` with the
  head's margin applied at the label when ``score_margin`` is true, exactly as stage 4
  (:mod:`asd_lib.inference.scores`);
- ``embedding`` ``[B, E]``: the model's output (front-end + backbone).

It is traced by the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``)
at opset 17, the first with an ``STFT`` operator. ONNX's STFT returns real and imaginary
parts in a trailing axis of size 2, whereas torchaudio's ``Spectrogram`` works on complex
tensors, which the exporter cannot trace. Every front-end computes its power
spectrogram with :func:`asd_lib.frontends.mel.power_spectrogram` (``|X|^2 = re^2 +
im^2``), which asks for the (re, im) pairs while the exporter traces it.

The file carries ``metadata_props``: the class names in index order (``asd_lib.classes``,
JSON), the training classes of every section (``asd_lib.section_classes``, JSON), the
inference configuration, ``asd_lib.sample_rate``, ``asd_lib.num_samples``,
``asd_lib.checkpoint`` and ``asd_lib.experiment``. As stage 4, :class:`OnnxScorer` scores a
clip of a section with each of the section's classes and keeps the smallest score.
"""
import dataclasses
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from asd_lib.data.step import as_output
from asd_lib.experiment import load_experiment
from asd_lib.inference.config import InferenceConfig
from asd_lib.inference.scores import FORWARD_SCORES, class_scores, model_score
from asd_lib.models.traits import traits
from asd_lib.utils.extras import require
from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_DTYPES = ("int16", "float32")
CHECK_TOLERANCE = 1e-3  # max |ONNX - PyTorch| score difference accepted by the export check


class ScoringGraph(nn.Module):
    """(waveform ``[B, T]``, label ``[B]``) -> (anomaly score ``[B]``, embedding ``[B, E]``),
    computed as stage 4 computes a forward-pass score given the class ``label``."""

    def __init__(self, model: nn.Module, head: Optional[nn.Module], margin: bool, score: str):
        super().__init__()
        self.model, self.head, self.margin = model, head, margin
        self.score = FORWARD_SCORES[score]

    def forward(self, wave: torch.Tensor, label: torch.Tensor):
        out = as_output(self.model(wave))
        embedding = out["embedding"]
        if self.score.needs_class:
            score = class_scores(self.score, self.head, embedding, label[:, None], self.margin)
        else:
            score = model_score(self.score, out)
        if traits(self.model).patch_embeddings:  # their mean, as stage 4 writes
            embedding = embedding.mean(1)
        return score[:, 0], embedding.float()


def scoring_graph(exp_dir, checkpoint: str, config: InferenceConfig):
    """The PyTorch scoring graph of ``exp_dir`` at ``checkpoint`` on the CPU, and the
    experiment. Only one model with a forward-pass score
    (:data:`asd_lib.inference.scores.FORWARD_SCORES`) can be exported: an embedding back-end
    is fitted on training embeddings outside the network."""
    experiment = load_experiment(exp_dir, checkpoint, torch.device("cpu"))
    if None not in experiment.parts:
        parts = sorted(experiment.parts)
        raise ValueError(f"{exp_dir} holds one model per machine type ({parts}); export each "
                         f"part's dir instead, e.g. {exp_dir}/{parts[0]}")
    if not config.is_forward_score:
        raise ValueError(f"backend {config.backend!r} scores embeddings outside the network; "
                         f"ONNX export supports the forward-pass scores {sorted(FORWARD_SCORES)}")
    trained = experiment.parts[None]
    graph = ScoringGraph(trained.model, trained.head, config.score_margin, config.score)
    return graph.eval(), experiment


def export_onnx(exp_dir, checkpoint: str, out_path, input_dtype: str = "int16",
                config: InferenceConfig = InferenceConfig(score="neg_log_prob")) -> Path:
    """Export ``exp_dir`` at ``checkpoint`` with the forward-pass score of ``config`` to
    ``out_path`` and check it against PyTorch.

    The check scores two random clips with onnxruntime and with PyTorch and raises
    ValueError when the scores differ by more than :data:`CHECK_TOLERANCE`.
    """
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(f"input_dtype={input_dtype!r}; choose one of {INPUT_DTYPES}")
    onnx = require("onnx", "export_onnx")
    reference, experiment = scoring_graph(exp_dir, checkpoint, config)
    trained = experiment.parts[None]
    wave, label = _example_batch(trained.num_samples, len(trained.class_names), input_dtype)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The head's label-range check is evaluated once while tracing; the ONNX scorer
        # checks labels itself (OnnxScorer.score).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # power_spectrogram asks for the real STFT on purpose; the exporter's notes on
        # constant folding concern strided slices it leaves to the runtime.
        warnings.filterwarnings("ignore", message="stft with return_complex=False")
        warnings.filterwarnings("ignore", message="Constant folding")
        # torch 2.9 announces the TorchScript-based exporter's retirement; it is used on
        # purpose (the torch.export-based one cannot trace the head's label check).
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript")
        warnings.filterwarnings("ignore", message="The feature will be removed")
        torch.onnx.export(
            reference, (wave, label), buffer, input_names=["waveform", "label"],
            output_names=["score", "embedding"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"waveform": {0: "batch"}, "label": {0: "batch"},
                          "score": {0: "batch"}, "embedding": {0: "batch"}})
    proto = onnx.load_from_string(buffer.getvalue())
    sections = {f"{m} {s}": names for (m, s), names in
                experiment.labels.section_classes().items()}
    meta = {"asd_lib.classes": json.dumps(trained.class_names),
            "asd_lib.section_classes": json.dumps(sections),
            "asd_lib.inference_config": json.dumps(dataclasses.asdict(config)),
            "asd_lib.sample_rate": str(trained.sample_rate),
            "asd_lib.num_samples": str(trained.num_samples),
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
        onnxruntime = require("onnxruntime", "scoring with an ONNX file")
        self.session = onnxruntime.InferenceSession(
            content if content is not None else str(self.path),
            providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if "asd_lib.classes" not in meta:
            raise ValueError(f"{self.path}: no asd_lib metadata; it was not written by "
                             "asd_lib.bin.export_onnx")
        self.classes: List[str] = json.loads(meta["asd_lib.classes"])
        self.section_classes: Dict[str, List[str]] = json.loads(meta["asd_lib.section_classes"])
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

    def score_sections(self, waves: np.ndarray, machine: str, section: str,
                       batch_size: int = 64) -> np.ndarray:
        """Anomaly scores ``[N]`` of clips of ``machine`` ``section``: the smallest score over
        the section's training classes, as stage 4 scores a test clip."""
        key = f"{machine} {section}"
        if key not in self.section_classes:
            raise ValueError(f"{self.path}: the model was not trained on {key}; it knows "
                             f"{', '.join(sorted(self.section_classes))}")
        index = {name: i for i, name in enumerate(self.classes)}
        per_class = [self.score(waves, np.full(len(waves), index[name]), batch_size)[0]
                     for name in self.section_classes[key]]
        return np.min(per_class, axis=0)
