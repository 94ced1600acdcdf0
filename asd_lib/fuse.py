"""Embedding-level fusion of trained systems, scored like stage 4.

Kim et al. (DCASE 2024 Task 2 technical report, Sec. 1 and Table 1) train two systems,
one classifying machine types and one machine types + attributes, and combine their
embeddings of every clip before the back-end: ``e = (1 - w) e1 + w e2`` with w
0.62-0.67. For systems i = 1..n with weights ``w_i`` (``w_1 = 1 - w, w_2 = w`` above)::

    e(x) = sum_i w_i e_i(x) / ||e_i(x)||  /  sum_i w_i

(each system's embedding L2-normalised first, so that neither dominates by its scale; the
division by the weight sum only rescales, which the cosine back-ends ignore). Every
system directory (``exp/<tag>/<checkpoint>``) holds ``<set>/embeddings.scp`` from stage 4
for the training set and each set to fuse. The fused embeddings are written and scored as
:func:`asd_lib.inference.run_inference` scores an embedding back-end: the training set by
two-fold cross-fitting, whose scores set the per-section decision thresholds, then every
other set with the back-end fitted per (machine, section) on the fused training
embeddings, giving ``utt2score`` and the official score and decision CSVs that
``python -m asd_lib.bin.score`` reads.
"""
import json
import logging
import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from asd_lib.backends import BACKENDS
from asd_lib.backends.base import l2_normalise
from asd_lib.data.dataset import DumpedSet
from asd_lib.ensemble import system_weights
from asd_lib.inference import (backend_scores, read_embeddings, section_thresholds,
                               write_embeddings, write_official_files)
from asd_lib.utils.fileio import atomic_write, write_kv

logger = logging.getLogger(__name__)


def fuse_embeddings(embeddings: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """``sum_i w_i normalise(E_i) / sum_i w_i`` of the systems' ``[N, E]`` embeddings."""
    shapes = {e.shape for e in embeddings}
    if len(shapes) != 1:
        raise ValueError(f"the systems' embeddings differ in shape {sorted(shapes)}; fusion "
                         "adds them, so every system needs the same embedding size")
    stacked = np.stack([l2_normalise(np.asarray(e, dtype=np.float64)) for e in embeddings])
    return np.tensordot(weights, stacked, axes=1) / weights.sum()


def read_system_embeddings(system_dir, set_name: str, data: DumpedSet) -> np.ndarray:
    """A system's ``<set>/embeddings.scp`` in ``data``'s utterance order."""
    scp = Path(system_dir) / set_name / "embeddings.scp"
    if not scp.is_file():
        raise ValueError(f"{scp}: missing; run stage 4 of {system_dir} on {set_name} first")
    embeddings = read_embeddings(scp, data.utts)
    if not np.isfinite(embeddings).all():
        raise ValueError(f"{scp}: NaN or infinite embeddings; fix that system's training")
    return embeddings


def run_fusion(systems: Sequence[str], out_dir, data_root, train_set: str,
               sets: Sequence[str], dataset: str, backend: str, backend_conf: dict,
               weights: Optional[Sequence[float]] = None) -> None:
    """Fuse the systems' embeddings of ``train_set`` and ``sets`` into ``out_dir`` and score
    them with ``backend``; sets without a data dir under ``data_root`` are skipped."""
    if len(systems) < 2:
        raise ValueError(f"fusion needs at least 2 systems, got {list(systems)}")
    if backend not in BACKENDS:
        raise ValueError(f"fusion scores embeddings: backend must be one of "
                         f"{BACKENDS.names()}, got {backend!r}")
    if not isinstance(backend_conf, dict):
        raise ValueError(f"backend_conf must be a mapping of back-end arguments, got "
                         f"{backend_conf!r}")
    weights = system_weights(weights, len(systems))
    out_dir, data_root = Path(out_dir), Path(data_root)

    def fused(set_name: str, data: DumpedSet) -> np.ndarray:
        embeddings = fuse_embeddings(
            [read_system_embeddings(s, set_name, data) for s in systems], weights)
        (out_dir / set_name).mkdir(parents=True, exist_ok=True)
        write_embeddings(out_dir / set_name, data.utts, embeddings)
        return embeddings

    def write_scores(set_name: str, data: DumpedSet, scores: np.ndarray) -> None:
        write_kv(out_dir / set_name / "utt2score",
                 [(u, repr(float(s))) for u, s in zip(data.utts, scores)])
        logger.info("fused %d systems on %d clips of %s; scored with %s", len(systems),
                    len(scores), data.path, backend)

    train = DumpedSet(data_root / train_set)
    train_embeddings = fused(train_set, train)
    write_scores(train_set, train,
                 backend_scores(backend, backend_conf, train, train_embeddings, None, None))
    thresholds = section_thresholds(out_dir / train_set / "utt2score", data_root / train_set)
    for set_name in sets:
        if set_name == train_set:
            continue
        if not (data_root / set_name).is_dir():
            logger.warning("%s: no such data dir; %s skipped", data_root / set_name, set_name)
            continue
        data = DumpedSet(data_root / set_name)
        scores = backend_scores(backend, backend_conf, data, fused(set_name, data), train,
                                train_embeddings)
        write_scores(set_name, data, scores)
        write_official_files(out_dir / set_name, dataset, data, scores, thresholds)
    write_summary(out_dir / "fusion.json", systems, weights, backend, backend_conf)


def write_summary(path: Path, systems: Sequence[str], weights: np.ndarray, backend: str,
                  backend_conf: dict) -> None:
    """The fusion's systems, weights and back-end (JSON)."""
    summary = {"systems": [str(s) for s in systems],
               "weights": [float(w) for w in weights],
               "normalised_weights": [float(w) / math.fsum(weights) for w in weights],
               "backend": backend, "backend_conf": backend_conf}
    with atomic_write(path) as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
