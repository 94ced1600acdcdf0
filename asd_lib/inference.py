"""Stage 4: embeddings, anomaly scores and decisions for one data set, batched.

Writes to ``out_dir``: ``embeddings.{ark,scp}``, ``utt2score`` (Kaldi text, all clips) and,
for test sets, the official files ``anomaly_score_<M>_<section>.csv`` and
``decision_result_<M>_<section>.csv`` (named as the year's evaluator expects), with the
per-section threshold fitted on that section's training scores.

The anomaly score comes from the experiment's ``backend`` (config key, or ``--backend``):

- a forward-pass score (:data:`FORWARD_SCORES`): ``neg_log_prob`` (-log softmax at the
  clip's class, STgram-MFN and most ID classifiers), ``neg_prob`` (-softmax at the class,
  averaged over patches: Giri et al., DCASE 2020), ``model_score`` (the model's own score,
  e.g. an autoencoder's reconstruction error);
- or an embedding back-end of :data:`asd_lib.backends.BACKENDS` (kNN, k-means + memory
  bank, GMM, LOF, Mahalanobis), fitted per (machine, section) on the training embeddings.
  Training clips are then scored by two-fold cross-fitting (each half by a back-end fitted
  on the other half), so their scores, which set the decision thresholds, are not scores
  of clips against themselves.
"""
import contextlib
import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

import kaldiio
import numpy as np
import torch
from tqdm import tqdm

from asd_lib.backends import BACKENDS
from asd_lib.backends.neg_log_prob import neg_log_prob
from asd_lib.backends.threshold import gamma_threshold
from asd_lib.data.dataset import DumpedSet, WaveformDataset
from asd_lib.data.loader import make_loader
from asd_lib.metrics import dcase2020, dcase2024
from asd_lib.models.attr_text import clip_texts
from asd_lib.train.checkpoint import load_safe, load_weights
from asd_lib.data.step import as_output
from asd_lib.train.trainer import build_model, read_model_info, select_device
from asd_lib.utils.config import read_saved_config
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv
from asd_lib.utils.log import progress_enabled


# Official file naming per DCASE year (the year's evaluator reads these files).
CSV_NAMES = {"dcase2020": dcase2020.official_csv_name,
             "dcase2024": dcase2024.official_csv_name}


def _neg_log_prob(out, logits, labels):
    if logits.dim() == 3:  # patch logits [B, P, C]: mean over patches
        return neg_log_prob(logits.flatten(0, 1), labels.repeat_interleave(logits.shape[1])) \
            .view(logits.shape[:2]).mean(1)
    return neg_log_prob(logits, labels)


def _neg_prob(out, logits, labels):
    probs = torch.softmax(logits, dim=-1)
    index = labels.view(-1, *([1] * (logits.dim() - 1))).expand(*logits.shape[:-1], 1)
    return -probs.gather(-1, index).squeeze(-1).flatten(1).mean(1) if logits.dim() == 3 \
        else -probs.gather(-1, index).squeeze(-1)


def _model_score(out, logits, labels):
    if "score" not in out:
        raise ValueError("backend model_score: this model returns no 'score'; choose another "
                         "backend (e.g. neg_log_prob or knn)")
    return out["score"]


FORWARD_SCORES = {"neg_log_prob": _neg_log_prob, "neg_prob": _neg_prob,
                  "model_score": _model_score}


class TrainedModel:
    """A trained model and head (``None`` when head-free), with the config that built them."""

    def __init__(self, exp_dir, checkpoint: str, device):
        exp_dir = Path(exp_dir)
        self.config = read_saved_config(exp_dir / "config.yaml")
        self.info = read_model_info(exp_dir)
        self.classes = {c: i for i, c in enumerate(self.info["classes"])}
        model, head = build_model(self.config["model"], self.config["model_conf"],
                                  self.config["head"], self.config["head_conf"],
                                  self.info["num_samples"], self.config["sample_rate"],
                                  len(self.info["classes"]))
        path = exp_dir / f"{checkpoint}.pth"
        if not path.exists():
            path = exp_dir / "snapshots" / f"{checkpoint}.pth"
        if not path.exists():
            raise FileNotFoundError(f"{exp_dir}/{checkpoint}.pth: no such checkpoint; "
                                    "use best, latest or epochN of a finished stage 3")
        state = load_safe(path)
        load_weights(model, state["model"], "model", path)
        if head is not None:
            load_weights(head, state["head"], "head", path)
            head = head.to(device).eval()
        self.model = model.to(device).eval()
        self.head = head
        self.device = device


def load_trained(exp_dir, checkpoint: str, device) -> Dict[Optional[str], TrainedModel]:
    """The experiment's trained model(s): ``{None: model}``, or ``{machine: model}`` when
    it trained one model per machine type (``split_by: machine``)."""
    info = read_model_info(exp_dir)
    if "parts" in info:
        return {m: TrainedModel(Path(exp_dir) / m, checkpoint, device) for m in info["parts"]}
    return {None: TrainedModel(exp_dir, checkpoint, device)}


@torch.no_grad()
def embed_and_score(trained: TrainedModel, locations: List[str], labels: List[int],
                    batch_size: int, score: str, num_workers: int = 0,
                    texts: Optional[List[str]] = None):
    """Embeddings ``[N, E]`` (patch embeddings averaged) and forward-pass scores ``[N]``
    (``None`` when ``score`` is an embedding back-end) for clips at ark ``locations``;
    ``texts`` are the clips' attribute texts for models that take them."""
    loader = make_loader(WaveformDataset(locations, labels), batch_size=batch_size,
                         num_workers=num_workers, device=trained.device)
    scorer = FORWARD_SCORES.get(score)
    margin = trained.config.get("score_margin", True)
    embeddings, scores = [], []
    for wave, label, item in tqdm(loader, desc="inference", disable=not progress_enabled()):
        wave = wave.to(trained.device, non_blocking=True)
        label = label.to(trained.device, non_blocking=True)
        kwargs = {} if texts is None else {"attributes": [texts[j] for j in item.tolist()]}
        out = as_output(trained.model(wave, **kwargs))
        embedding = out["embedding"]
        if scorer is not None:
            logits = None
            if trained.head is not None:
                logits = trained.head(embedding, label if margin else None).float()
            scores.append(scorer(out, logits, label).float())
        if embedding.dim() == 3:
            embedding = embedding.mean(1)
        embeddings.append(embedding.float())
    loader.close()
    embeddings = torch.cat(embeddings).cpu().numpy()  # one device-to-host copy at the end
    return embeddings, (torch.cat(scores).cpu().numpy().astype(np.float64) if scores else None)


def group_keys(data: DumpedSet) -> List[tuple]:
    """(machine, section) of every clip: the unit of back-ends, thresholds and scoring."""
    return list(zip(data.column("utt2machine"), data.column("utt2section")))


def domains_of(data: DumpedSet) -> List[str]:
    return data.column("utt2domain") if "utt2domain" in data.tables else ["source"] * len(data.utts)


def cross_fit_scores(backend: str, conf: dict, embeddings, domains, classes) -> np.ndarray:
    """Scores of training clips by two-fold cross-fitting: even-indexed clips of each domain
    scored by a back-end fitted on the odd-indexed ones, and vice versa."""
    domains = np.asarray(domains)
    fold = np.zeros(len(domains), dtype=int)
    for d in np.unique(domains):
        members = np.flatnonzero(domains == d)
        fold[members[1::2]] = 1
    scores = np.empty(len(domains))
    for k in (0, 1):
        fit, held = fold != k, fold == k
        if not held.any():
            continue
        if not fit.any():
            raise ValueError(f"backend {backend}: too few training clips to cross-fit")
        model = BACKENDS.build(backend, **conf).fit(
            embeddings[fit], list(domains[fit]), [classes[i] for i in np.flatnonzero(fit)])
        scores[held] = model.score(embeddings[held])
    return scores


def backend_scores(backend: str, conf: dict, data: DumpedSet, embeddings: np.ndarray,
                   train: Optional[DumpedSet], train_embeddings: Optional[np.ndarray]):
    """Per (machine, section), an embedding back-end fitted on that group's training
    embeddings scores the group's clips (cross-fitted when ``train`` is None: the training
    set itself)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of "
                         f"{sorted(FORWARD_SCORES) + BACKENDS.names()}")
    groups, domains = group_keys(data), domains_of(data)
    classes = data.column("utt2class") if train is None else None  # cross-fitting only
    scores = np.empty(len(groups))
    members = defaultdict(list)
    for i, key in enumerate(groups):
        members[key].append(i)
    fit_members = defaultdict(list)
    if train is not None:
        train_domains, train_classes = domains_of(train), train.column("utt2class")
        for i, key in enumerate(group_keys(train)):
            fit_members[key].append(i)
    for key, idx in sorted(members.items()):
        if train is None:
            scores[idx] = cross_fit_scores(backend, conf, embeddings[idx],
                                           [domains[i] for i in idx], [classes[i] for i in idx])
            continue
        fit = fit_members.get(key)
        if not fit:
            raise ValueError(f"{data.path}: no training clips of {key[0]} {key[1]} to fit the "
                             f"{backend} back-end; include that section in the training set")
        model = BACKENDS.build(backend, **conf).fit(
            train_embeddings[fit], [train_domains[i] for i in fit], [train_classes[i] for i in fit])
        scores[idx] = model.score(embeddings[idx])
    return scores


def section_thresholds(train_score_file, train_dir) -> Dict[tuple, float]:
    """Decision threshold per (machine, section): gamma fit to its training scores."""
    scores = read_kv(train_score_file)
    train = DumpedSet(train_dir)
    groups = defaultdict(list)
    for utt, key in zip(train.utts, group_keys(train)):
        if utt in scores:
            groups[key].append(float(scores[utt]))
    return {key: gamma_threshold(np.asarray(v)) for key, v in groups.items()}


def write_official_files(out_dir: Path, dataset: str, data: DumpedSet, scores: np.ndarray,
                         thresholds: Dict[tuple, float]) -> None:
    """Per (machine, section) score and decision CSVs, rows sorted by file name."""
    rows = defaultdict(list)
    for name, key, score in zip(data.file_names(), group_keys(data), scores):
        rows[key].append((name, float(score)))
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


def embed_set(models: Dict[Optional[str], TrainedModel], data: DumpedSet, batch_size, score,
              num_workers: int = 0):
    """Embeddings and forward-pass scores of every clip of ``data``, each clip through its
    machine type's model when there is one model per type."""
    machines = data.column("utt2machine")
    if None in models:
        machines = [None] * len(machines)
    # Only the class-based scores need each clip's class (and a class the model knows);
    # embedding back-ends score per section, so test clips need no class (DCASE 2024 eval).
    needs_class = score in ("neg_log_prob", "neg_prob")
    classes = data.column("utt2class") if needs_class else None
    embeddings, scores = [None] * len(machines), np.zeros(len(machines))
    all_texts = None  # attribute texts, read once for models that take them
    for part, trained in models.items():
        idx = [i for i, m in enumerate(machines) if m == part]
        if not idx:
            continue
        labels = [0] * len(idx)
        if needs_class:
            unknown = sorted({classes[i] for i in idx} - set(trained.classes))
            if unknown:
                raise ValueError(
                    f"{data.path}/utt2class: classes {unknown[:5]} were not trained; the "
                    f"{score} score needs each clip's training class: use an embedding "
                    "back-end (e.g. --backend kmeans_membank) for sets with unseen classes")
            labels = [trained.classes[classes[i]] for i in idx]
        texts = None
        if getattr(trained.model, "needs_attributes", False):
            all_texts = all_texts if all_texts is not None else clip_texts(data)
            texts = [all_texts[i] for i in idx]
        emb, sc = embed_and_score(trained, [data.locations[i] for i in idx], labels,
                                  batch_size or trained.config["infer_batch_size"], score,
                                  num_workers, texts)
        for j, i in enumerate(idx):
            embeddings[i] = emb[j]
            if sc is not None:
                scores[i] = sc[j]
    missing = sorted({m for m, e in zip(machines, embeddings) if e is None})
    if missing:
        raise ValueError(f"{data.path}: no trained model for machine types {missing}")
    return np.stack(embeddings), scores


def run_inference(exp_dir, checkpoint: str, data_dir, out_dir, dataset: str, ngpu: int = 0,
                  batch_size: Optional[int] = None, train_dir=None, train_score_file=None,
                  num_workers: int = 0, num_threads: int = 0, backend: Optional[str] = None,
                  backend_conf: Optional[dict] = None) -> None:
    device = select_device(ngpu, num_threads)
    models = load_trained(exp_dir, checkpoint, device)
    config = read_saved_config(Path(exp_dir) / "config.yaml")
    backend = backend or config.get("backend", "neg_log_prob")
    backend_conf = config.get("backend_conf", {}) if backend_conf is None else backend_conf
    data = DumpedSet(data_dir)
    for part, trained in models.items():
        data.check_dumped_as(trained.config["sample_rate"], trained.info["num_samples"],
                             str(Path(exp_dir, part or "")))
    embeddings, scores = embed_set(models, data, batch_size, backend, num_workers)
    if backend not in FORWARD_SCORES:
        train = train_embeddings = None
        if train_score_file is not None:
            train = DumpedSet(train_dir)
            train_embeddings = read_embeddings(Path(train_score_file).parent / "embeddings.scp",
                                               train.utts)
        scores = backend_scores(backend, backend_conf, data, embeddings, train, train_embeddings)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_embeddings(out_dir, data.utts, embeddings)
    write_kv(out_dir / "utt2score", [(u, repr(float(s))) for u, s in zip(data.utts, scores)])
    if train_score_file is not None:
        thresholds = section_thresholds(train_score_file, train_dir)
        write_official_files(out_dir, dataset, data, scores, thresholds)
    logging.info("scored %d clips of %s into %s (backend %s)", len(scores), data_dir, out_dir,
                 backend)


def write_embeddings(out_dir: Path, utts: List[str], embeddings: np.ndarray) -> None:
    """``embeddings.ark/scp`` (float32 vectors), written as stage 2 writes its dump: the
    archive under a temporary name, the old scp removed just before the new archive
    replaces the old one, the new scp last; an interrupted write (kill -9, full disk)
    leaves the previous pair intact or no scp, never an scp pointing into another archive."""
    ark, scp = out_dir / "embeddings.ark", out_dir / "embeddings.scp"
    lines = []
    with atomic_write(ark, "wb") as f:
        for utt, vector in zip(utts, embeddings):
            # A Kaldi archive entry is "<key> <object>"; the scp offset is the object's.
            offset = f.tell() + len(f"{utt} ".encode("utf-8"))
            kaldiio.save_ark(f, {utt: vector.astype(np.float32)})
            lines.append(f"{utt} {ark}:{offset}\n")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scp)
    with atomic_write(scp) as f:
        f.writelines(lines)


def read_embeddings(scp, utts: List[str]) -> np.ndarray:
    """Embeddings of ``utts`` from an ``embeddings.scp`` written by :func:`write_embeddings`."""
    if not Path(scp).is_file():
        raise ValueError(f"{scp}: missing; run stage 4 on the training set first")
    table = read_kv(scp)
    missing = [u for u in utts if u not in table]
    if missing:
        raise ValueError(f"{scp}: no embedding for {missing[:3]}; re-run stage 4 on the "
                         "training set")
    return np.stack([kaldiio.load_mat(table[u]) for u in utts])
