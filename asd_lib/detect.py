"""Anomaly scores and decisions for new recordings of a trained machine type and section.

The clips take the recipe's own path, so a clip gets the score stage 4 gives it:

1. stage 2's front-end (:func:`asd_lib.data.audio.dump_clips`: read, resample, first
   channel, crop / tile / pad to the model's clip length) writes them to a temporary
   dumped set of the given machine type and section. A wav file given by path is read as
   a path whatever its name; only the entries of a ``wav.scp`` may be ``cmd |`` commands,
   and only with ``allow_pipes``;
2. stage 4 (:func:`asd_lib.inference.run_inference`) scores that set as it scored the test
   sets of the inference dir ``exp/<tag>/<inference_tag>`` (its configuration, checkpoint
   and training-set outputs, :class:`asd_lib.inference.config.InferenceRecord`), or an
   exported ONNX file does (:class:`asd_lib.export.OnnxScorer`);
3. a clip is anomalous when its score exceeds the section's decision threshold, stage 4's
   (:mod:`asd_lib.inference.thresholds`), unless one threshold is given.
"""
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from asd_lib.data.audio import MAX_CLIPPED, WavSource, dump_clips, wav_scp_sources
from asd_lib.data.dataset import load_scp_arrays
from asd_lib.experiment import read_model_info, recorded_sample_rate
from asd_lib.export import OnnxScorer
from asd_lib.inference import run_inference
from asd_lib.inference.config import read_inference_record
from asd_lib.inference.thresholds import FILE_NAME, read_thresholds
from asd_lib.report.experiment import resolve_recipe_path
from asd_lib.utils.fileio import read_kv, write_kv

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detection:
    """The result for one input clip; ``decision`` is 1 for anomalous, 0 for normal."""

    key: str
    score: float
    threshold: float
    decision: int


def read_inputs(files: Sequence[str], scp: Optional[str],
                allow_pipes: bool = False) -> List[Tuple[str, WavSource]]:
    """``(key, source)`` per clip: each file keyed by its path and read as a path whatever
    its name, or the lines of a ``wav.scp`` (its ``cmd |`` entries only with
    ``allow_pipes``, :func:`asd_lib.data.audio.wav_scp_sources`)."""
    if bool(files) == (scp is not None):
        raise ValueError("give either wav files or --scp, not both and not neither")
    if scp is not None:
        return list(wav_scp_sources(scp, allow_pipes).items())
    if allow_pipes:
        raise ValueError("--allow_pipes applies to the entries of --scp; wav files given as "
                         "arguments are always read as paths")
    if len(set(files)) != len(files):
        raise ValueError("a wav file is given twice; each clip once, please")
    for path in files:
        problem = name_problem(path)
        if problem is not None:
            raise ValueError(f"{printable_name(path)}: {problem}, which the clip lists of "
                             "stage 2 (wav.scp, feats.scp: UTF-8 text, one clip a line) "
                             "cannot hold; rename the file, or copy it to such a name")
        if os.path.isdir(path):
            raise ValueError(f"{path}: a directory, not a wav file; give the wav files in it "
                             f"(e.g. {os.path.join(path, '*.wav')}) or a wav.scp with --scp")
    return [(path, WavSource(path)) for path in files]


def name_problem(path: str) -> Optional[str]:
    """What keeps ``path`` out of a Kaldi list (``None`` when nothing does): a line break,
    or bytes that are not UTF-8 (which Python holds as lone surrogates, PEP 383)."""
    if "\n" in path or "\r" in path:
        return "the file name has a line break"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not UTF-8"
    return None


def printable_name(path: str) -> str:
    """``path`` as one printable line: bytes that are not UTF-8 as ``\\xNN``, control
    characters as their escapes (``\\n``)."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def clip_length(exp_dir) -> int:
    """Samples per clip the experiment's model takes (``model_info.yaml``)."""
    info = read_model_info(exp_dir)
    if "num_samples" not in info and info.get("parts"):
        info = read_model_info(Path(exp_dir) / info["parts"][0])
    return int(info["num_samples"])


def detect(inference_dir, inputs: Sequence[Tuple[str, WavSource]], machine: str, section: str,
           threshold: Optional[float] = None, short_clip: str = "tile", onnx_path=None,
           ngpu: int = 0, max_clipped: float = MAX_CLIPPED) -> List[Detection]:
    """Score ``inputs`` (``(key, source)``, :func:`read_inputs`) of ``machine``
    ``section`` as stage 4 of ``inference_dir`` scores a test set; ``threshold`` (one value
    for every clip) replaces the section's decision threshold. ``short_clip`` and
    ``max_clipped`` are stage 2's (:func:`asd_lib.data.audio.dump_clips`)."""
    inference_dir = Path(inference_dir)
    exp_dir = inference_dir.parent
    record = read_inference_record(inference_dir)
    train_out = inference_dir / Path(record.train_dir).name
    if threshold is None:
        thresholds = read_thresholds(train_out / FILE_NAME)
        if (machine, section) not in thresholds:
            raise ValueError(f"{train_out / FILE_NAME}: no threshold of {machine} {section}; "
                             f"the experiment was trained on "
                             f"{', '.join(' '.join(g) for g in sorted(thresholds))}")
        threshold = thresholds[(machine, section)].value
    sample_rate = recorded_sample_rate(_first_part(exp_dir))
    with tempfile.TemporaryDirectory(prefix="asd_detect_") as tmp:
        dumped = _dump_inputs(Path(tmp) / "dump", inputs, machine, section, sample_rate,
                              clip_length(exp_dir), short_clip, max_clipped)
        if onnx_path is not None:
            waves = load_scp_arrays(dumped / "feats.scp")
            stacked = np.stack([waves[_utt(i)] for i in range(len(inputs))])
            scores = OnnxScorer(onnx_path).score_sections(stacked, machine, section)
        else:
            out_dir = Path(tmp) / "scores"
            run_inference(exp_dir, record.checkpoint, dumped, out_dir, record.dataset,
                          record.config, resolve_recipe_path(record.train_dir, exp_dir),
                          train_out, ngpu=ngpu)
            table = read_kv(out_dir / "utt2score")
            scores = np.array([float(table[_utt(i)]) for i in range(len(inputs))])
    return [Detection(key, float(s), float(threshold), int(s > threshold))
            for (key, _), s in zip(inputs, scores)]


def _first_part(exp_dir: Path) -> Path:
    info = read_model_info(exp_dir)
    return exp_dir / info["parts"][0] if "parts" in info else exp_dir


def _utt(index: int) -> str:
    """Utterance id of the index-th input in the temporary set (sorted as inputs are)."""
    return f"clip{index:08d}"


def _dump_inputs(out_dir: Path, inputs, machine: str, section: str, sample_rate: int,
                 num_samples: int, short_clip: str, max_clipped: float) -> Path:
    """A dumped data dir of the inputs, as stage 2 writes one; its ``wav.scp`` names each
    clip ``<utt>.wav`` (stage 4 reads file names from it, never the audio)."""
    out_dir.mkdir(parents=True)
    utts = [_utt(i) for i in range(len(inputs))]
    write_kv(out_dir / "wav.scp", ((u, f"{u}.wav") for u in utts))
    dump_clips(zip(utts, (source for _, source in inputs)), out_dir / "feats",
               sample_rate=sample_rate, segment_sec=num_samples / sample_rate,
               short_clip=short_clip, max_clipped=max_clipped)
    write_kv(out_dir / "utt2machine", ((u, machine) for u in utts))
    write_kv(out_dir / "utt2section", ((u, section) for u in utts))
    return out_dir
