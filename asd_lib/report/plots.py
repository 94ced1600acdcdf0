"""PNG plots of one scored set and of a training run, drawn with matplotlib's Agg renderer.

Figures are made with the object-oriented API (``Figure`` + ``FigureCanvasAgg``), never
pyplot, so no display or global state is involved and each file is written atomically.

- :func:`plot_roc`: ROC curves of one machine type, one line per section with its AUC and
  pAUC (McClish, ``max_fpr`` = 0.1, :mod:`asd_lib.metrics.auc`), the region FPR <= 0.1
  that the pAUC scores shaded;
- :func:`plot_score_histograms`: normal and anomalous score histograms per section with
  the section's decision threshold;
- :func:`plot_tsne`: a 2-D t-SNE map (van der Maaten & Hinton, JMLR 9, 2008; scikit-learn's
  ``TSNE``) of the L2-normalised embeddings of one machine type, coloured by section,
  normal clips as dots and anomalous clips as crosses;
- :func:`plot_training_curves`: loss, accuracy and learning rate per epoch from
  ``exp/<tag>/train_history.csv`` (read by :func:`asd_lib.experiment.read_training_history`).
"""
import math
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.manifold import TSNE

from asd_lib.metrics.auc import partial_auc, roc_auc, roc_curve
from asd_lib.utils.fileio import atomic_write

MAX_FPR = 0.1
DPI = 100
TSNE_MIN_POINTS = 5  # t-SNE needs perplexity < number of points


def save_figure(fig: Figure, path) -> Path:
    """Render ``fig`` with Agg into ``path`` (PNG), atomically."""
    FigureCanvasAgg(fig)
    path = Path(path)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=DPI)
    return path


def _grid(count: int, max_cols: int = 4):
    cols = min(count, max_cols)
    return int(math.ceil(count / cols)), cols


def plot_roc(machine: str, sections: Mapping[str, tuple], title: str, path) -> Path:
    """ROC curves of ``machine``; ``sections`` maps a section to ``(y_true, score)``."""
    fig = Figure(figsize=(5.5, 5.0))
    ax = fig.subplots()
    ax.axvspan(0.0, MAX_FPR, color="0.9", label=f"pAUC range (FPR <= {MAX_FPR:g})")
    ax.axvline(MAX_FPR, color="0.5", linestyle=":", linewidth=1)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="chance")
    for section, (y_true, score) in sorted(sections.items()):
        fpr, tpr = roc_curve(y_true, score)
        auc, pauc = roc_auc(y_true, score), partial_auc(y_true, score, MAX_FPR)
        ax.plot(fpr, tpr, linewidth=1.5,
                label=f"{section}: AUC {100 * auc:.1f}, pAUC {100 * pauc:.1f}")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate (normal clips flagged)",
           ylabel="true positive rate (anomalies found)", title=f"{machine}: ROC, {title}")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_score_histograms(machine: str, sections: Mapping[str, tuple],
                          thresholds: Mapping[str, float], title: str, path) -> Path:
    """One panel per section: score histograms of normal and anomalous clips (or of all
    clips when ``y_true`` is None) and the decision threshold where ``thresholds`` has it."""
    rows, cols = _grid(len(sections))
    fig = Figure(figsize=(3.6 * cols, 2.9 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (section, (y_true, score)) in zip(axes, sorted(sections.items())):
        edges, log_axis = histogram_edges(score, thresholds.get(section))
        if y_true is None:
            ax.hist(score, bins=edges, color="tab:gray", alpha=0.8, label="unlabelled")
        else:
            ax.hist(score[y_true == 0], bins=edges, color="tab:blue", alpha=0.6, label="normal")
            ax.hist(score[y_true == 1], bins=edges, color="tab:red", alpha=0.6, label="anomaly")
        if section in thresholds:
            ax.axvline(thresholds[section], color="black", linestyle="--", linewidth=1.2,
                       label=f"threshold {thresholds[section]:.3g}")
        ax.set(title=f"{machine} {section}", xlabel="anomaly score", ylabel="clips",
               xscale="log" if log_axis else "linear")
        ax.legend(fontsize="x-small")
    for ax in axes[len(sections):]:
        ax.set_visible(False)
    fig.suptitle(f"{machine}: anomaly scores, {title}")
    fig.tight_layout()
    return save_figure(fig, path)


def histogram_edges(score: np.ndarray, threshold: Optional[float]):
    """Histogram bin edges and whether the axis is logarithmic: log-spaced bins when every
    value is positive and they span more than two decades (as negative log-probabilities
    of well-fitted clips do), linear bins otherwise."""
    bins = min(30, max(5, score.size // 4))
    values = score if threshold is None else np.append(score, threshold)
    if values.min() > 0 and values.max() / values.min() > 100:
        return np.geomspace(values.min(), values.max(), bins + 1), True
    return np.histogram_bin_edges(values, bins=bins), False


def tsne_map(embeddings: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE coordinates of L2-normalised ``embeddings`` (euclidean distance between
    unit vectors orders pairs as the cosine does, the similarity ArcFace trains)."""
    count = embeddings.shape[0]
    if count < TSNE_MIN_POINTS:
        raise ValueError(f"t-SNE needs at least {TSNE_MIN_POINTS} embeddings, got {count}")
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    unit = embeddings / np.maximum(norms, 1e-12)
    perplexity = min(30.0, (count - 1) / 3.0)
    return TSNE(n_components=2, perplexity=perplexity, init="pca",
                random_state=seed).fit_transform(unit)


def plot_tsne(machine: str, coords: np.ndarray, sections: Sequence[str],
              labels: Optional[np.ndarray], title: str, path) -> Path:
    """Scatter of t-SNE ``coords`` coloured by section; crosses mark anomalous clips."""
    fig = Figure(figsize=(6.0, 5.0))
    ax = fig.subplots()
    sections = np.asarray(sections)
    names = sorted(set(sections.tolist()))
    colours = _colours(len(names))
    for colour, section in zip(colours, names):
        mine = sections == section
        normal = mine if labels is None else mine & (labels == 0)
        ax.scatter(coords[normal, 0], coords[normal, 1], s=14, color=colour, marker="o",
                   label=section if labels is None else f"{section} normal")
        if labels is not None and (mine & (labels == 1)).any():
            anomalous = mine & (labels == 1)
            ax.scatter(coords[anomalous, 0], coords[anomalous, 1], s=22, color=colour,
                       marker="x", label=f"{section} anomaly")
    ax.set(title=f"{machine}: t-SNE of embeddings, {title}", xticks=[], yticks=[])
    ax.legend(fontsize="x-small", loc="best", ncol=2 if len(names) > 4 else 1)
    fig.tight_layout()
    return save_figure(fig, path)


def _colours(count: int):
    """Distinct colours: tab10 up to 10 sections, tab20 beyond."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(count)]


def plot_training_curves(history: Mapping[str, np.ndarray], title: str, path) -> Path:
    """Loss, accuracy and learning rate per epoch; held-out curves where recorded, dotted
    lines where a training stage ends."""
    epochs = history["epoch"]
    fig = Figure(figsize=(12.0, 3.6))
    ax_loss, ax_acc, ax_lr = fig.subplots(1, 3)
    for ax, key, name in ((ax_loss, "loss", "loss"), (ax_acc, "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], marker="o", markersize=3, label="train")
        held_out = history.get(f"valid_{key}")
        if held_out is not None and np.isfinite(held_out).any():
            ax.plot(epochs, held_out, marker="o", markersize=3, label="held-out")
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.legend(fontsize="small")
    ax_lr.plot(epochs, history["lr"], marker="o", markersize=3, color="tab:green")
    ax_lr.set(xlabel="epoch", ylabel="learning rate", title="learning rate")
    if np.all(history["lr"] > 0):
        ax_lr.set_yscale("log")
    stages = history.get("stage")
    if stages is not None:
        for index in np.flatnonzero(stages[1:] != stages[:-1]):
            for ax in (ax_loss, ax_acc, ax_lr):
                ax.axvline(epochs[index] + 0.5, color="0.5", linestyle=":", linewidth=1)
    for ax in (ax_loss, ax_acc, ax_lr):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
