"""Stage 4: embeddings, anomaly scores and decisions for one data set, batched.

Writes to ``out_dir``: ``embeddings.{ark,scp}``, ``utt2score`` (Kaldi text, all clips) and,
for test sets, the official files ``anomaly_score_<M>_<section>.csv`` and
``decision_result_<M>_<section>.csv`` (named as the year's evaluator expects), with the
per-section threshold fitted on that section's training scores.
"""
import logging
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

import kaldiio
import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from asd_lib.backends.neg_log_prob import neg_log_prob
from asd_lib.backends.threshold import gamma_threshold
from asd_lib.data.dataset import DumpedSet, WaveformDataset
from asd_lib.metrics import dcase2020
from asd_lib.train.checkpoint import load_safe, load_weights
from asd_lib.train.trainer import build_model, read_model_info, select_device
from asd_lib.utils.config import read_saved_config
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv
from asd_lib.utils.log import progress_enabled


# Official file naming per DCASE year (the year's evaluator reads these files).
CSV_NAMES = {"dcase2020": dcase2020.official_csv_name}


def load_trained(exp_dir, checkpoint: str, device):
    """The trained model and head of ``exp_dir`` at ``checkpoint`` (best, latest, epochN)."""
    exp_dir = Path(exp_dir)
    config = read_saved_config(exp_dir / "config.yaml")
    info = read_model_info(exp_dir)
    model, head = build_model(config["model"], config["model_conf"], config["head"],
                              config["head_conf"], info["num_samples"], config["sample_rate"],
                              len(info["classes"]))
    path = exp_dir / f"{checkpoint}.pth"
    if not path.exists():
        path = exp_dir / "snapshots" / f"{checkpoint}.pth"
    if not path.exists():
        raise FileNotFoundError(f"{exp_dir}/{checkpoint}.pth: no such checkpoint; "
                                "use best, latest or epochN of a finished stage 3")
    state = load_safe(path)
    load_weights(model, state["model"], "model", path)
    load_weights(head, state["head"], "head", path)
    return model.to(device).eval(), head.to(device).eval(), config, info


@torch.no_grad()
def embed_and_score(model, head, locations: List[str], labels: List[int], batch_size: int,
                    device, margin: bool, num_workers: int = 0):
    """Embeddings [N, E] and anomaly scores [N] for clips in ark ``locations``."""
    loader = DataLoader(WaveformDataset(locations, labels), batch_size=batch_size,
                        shuffle=False, num_workers=num_workers)
    embeddings, scores = [], []
    for wave, label, _ in tqdm(loader, desc="inference", disable=not progress_enabled()):
        wave, label = wave.to(device), label.to(device)
        embedding = model(wave)
        logits = head(embedding, label if margin else None)
        embeddings.append(embedding.float().cpu())
        scores.append(neg_log_prob(logits.float(), label).cpu())
    return torch.cat(embeddings).numpy(), torch.cat(scores).numpy().astype(np.float64)


def section_thresholds(train_score_file, train_dir) -> Dict[tuple, float]:
    """Decision threshold per (machine, section): gamma fit to its training scores."""
    scores = read_kv(train_score_file)
    train = DumpedSet(train_dir)
    groups = defaultdict(list)
    for utt, machine, section in zip(train.utts, train.column("utt2machine"),
                                     train.column("utt2section")):
        if utt in scores:
            groups[(machine, section)].append(float(scores[utt]))
    return {key: gamma_threshold(np.asarray(v)) for key, v in groups.items()}


def write_official_files(out_dir: Path, dataset: str, data: DumpedSet, scores: np.ndarray,
                         thresholds: Dict[tuple, float]) -> None:
    """Per (machine, section) score and decision CSVs, rows sorted by file name."""
    rows = defaultdict(list)
    for name, machine, section, score in zip(data.file_names(), data.column("utt2machine"),
                                             data.column("utt2section"), scores):
        rows[(machine, section)].append((name, float(score)))
    for (machine, section), items in sorted(rows.items()):
        items.sort()
        if (machine, section) not in thresholds:
            raise ValueError(f"{data.path}: no training clips of {machine} {section} to fit a "
                             "decision threshold; include that section in the training set")
        threshold = thresholds[(machine, section)]
        csv_name = CSV_NAMES[dataset]
        with atomic_write(out_dir / csv_name("anomaly_score", machine, section)) as f:
            f.writelines(f"{name},{score}\n" for name, score in items)
        with atomic_write(out_dir / csv_name("decision_result", machine, section)) as f:
            f.writelines(f"{name},{int(score > threshold)}\n" for name, score in items)


def run_inference(exp_dir, checkpoint: str, data_dir, out_dir, dataset: str, ngpu: int = 0,
                  batch_size: Optional[int] = None, train_dir=None, train_score_file=None,
                  num_workers: int = 0, num_threads: int = 0) -> None:
    device = select_device(ngpu, num_threads)
    model, head, config, info = load_trained(exp_dir, checkpoint, device)
    data = DumpedSet(data_dir)
    index = {c: i for i, c in enumerate(info["classes"])}
    classes = data.column("utt2class")
    unknown = sorted(set(classes) - set(index))
    if unknown:
        raise ValueError(f"{data_dir}/utt2class: classes {unknown[:5]} were not trained; the "
                         "model knows only the machine IDs of its training set")
    embeddings, scores = embed_and_score(
        model, head, data.locations, [index[c] for c in classes],
        batch_size or config["infer_batch_size"], device, config["score_margin"], num_workers)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_embeddings(out_dir, data.utts, embeddings)
    write_kv(out_dir / "utt2score", [(u, repr(float(s))) for u, s in zip(data.utts, scores)])
    if train_score_file is not None:
        thresholds = section_thresholds(train_score_file, train_dir)
        write_official_files(out_dir, dataset, data, scores, thresholds)
    logging.info("scored %d clips of %s into %s", len(scores), data_dir, out_dir)


def write_embeddings(out_dir: Path, utts: List[str], embeddings: np.ndarray) -> None:
    """``embeddings.ark/scp`` (float32 vectors), the scp renamed into place last."""
    ark, scp = out_dir / "embeddings.ark", out_dir / "embeddings.scp"
    tmp_scp = out_dir / ".embeddings.scp.tmp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{tmp_scp}") as writer:
        for utt, vector in zip(utts, embeddings):
            writer(utt, vector.astype(np.float32))
    tmp_scp.replace(scp)
