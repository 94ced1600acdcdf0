"""Plots of a scored set and ``exp/<tag>/report.md``, the plots beside the result tables.

Layout (stage 5 runs :func:`plot_set` per set: plots, then :func:`write_report`)::

    exp/<tag>/plots/training_curves.png
    exp/<tag>/<inference_tag>/<set>/plots/{roc,scores,tsne}_<machine>.png
    exp/<tag>/report.md    training curves, then per <inference_tag>/<set>: result.md + plot table

The report is rebuilt from what is on disk each time, so it covers every set scored so far.
"""
import logging
import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import numpy as np

from asd_lib.corpus import get_corpus
from asd_lib.experiment import (
    Experiment,
    load_experiment,
    read_training_history,
    unique_options,
)
from asd_lib.inference.thresholds import read_thresholds
from asd_lib.report.plots import (
    TSNE_MIN_POINTS,
    plot_roc,
    plot_score_histograms,
    plot_training_curves,
    plot_tsne,
    tsne_map,
)
from asd_lib.report.scored_set import (
    Group,
    ScoredSet,
    load_embeddings,
    load_scored_set,
    thresholds_from_decisions,
)
from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)

# Plot kinds of a set, in report column order: (file prefix, column title).
SET_PLOTS = (("roc", "ROC (FPR <= 0.1 shaded)"), ("scores", "Scores and threshold"),
             ("tsne", "t-SNE of embeddings"))
TRAINING_PLOT = "plots/training_curves.png"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def plot_name(kind: str, machine: str) -> str:
    """File name of a set plot, e.g. ``roc_fan.png``."""
    return f"{kind}_{_UNSAFE.sub('_', machine)}.png"


def plot_set(exp_dir, score_dir, data_dir, dataset: str, thresholds_file=None,
             tsne_max_points: int = 1000, seed: int = 0) -> Path:
    """Stage 5's plots of one set and the experiment's training curves, then the report.

    Decision thresholds are stage 4's, read from ``thresholds_file`` (the training run's
    ``thresholds.csv``) when given, else recovered from the set's official decision files
    (named as ``dataset``'s evaluator expects); without either, the histograms have no
    threshold line. Returns the path of ``exp_dir/report.md``.
    """
    score_dir = Path(score_dir)
    scored = load_scored_set(score_dir, data_dir)
    if thresholds_file is not None:
        thresholds = {g: t.value for g, t in read_thresholds(thresholds_file).items()}
    elif any(score_dir.glob("decision_result_*.csv")):
        thresholds = thresholds_from_decisions(score_dir, scored, get_corpus(dataset).csv_name)
    else:
        logger.info("%s: no decision files and no training scores; no threshold lines",
                    score_dir)
        thresholds = {}
    title = f"{score_dir.parent.name}/{score_dir.name}"
    plot_scored_set(scored, score_dir, thresholds, title, tsne_max_points, seed)
    plot_training(exp_dir)
    return write_report(exp_dir)


def plot_scored_set(scored: ScoredSet, score_dir, thresholds: Mapping[Group, float],
                    title: str, tsne_max_points: int = 1000, seed: int = 0) -> List[Path]:
    """ROC, score-histogram and t-SNE plots per machine type into ``score_dir/plots``.

    ROC curves need both classes in a section; sections without them are left out of the
    ROC plot (logged). t-SNE uses at most ``tsne_max_points`` clips per machine type, a
    seeded random subset. Earlier plots of these kinds that this run did not make are
    removed, so the plot dir matches the set.
    """
    out_dir = Path(score_dir) / "plots"
    groups = scored.groups()
    embeddings = load_embeddings(score_dir, scored.utts)
    written = []
    for machine in scored.machine_types():
        members = {s: idx for (m, s), idx in groups.items() if m == machine}
        labelled = {s: (scored.labels[idx], scored.scores[idx]) for s, idx in members.items()
                    if scored.labels is not None and len(set(scored.labels[idx])) == 2}
        for section in sorted(set(members) - set(labelled)):
            logger.info("%s %s: no ROC curve (needs normal and anomalous clips)", machine, section)
        if labelled:
            written.append(plot_roc(machine, labelled, title, out_dir / plot_name("roc", machine)))
        histograms = {s: (None if scored.labels is None else scored.labels[idx],
                          scored.scores[idx]) for s, idx in members.items()}
        machine_thresholds = {s: t for (m, s), t in thresholds.items() if m == machine}
        written.append(plot_score_histograms(machine, histograms, machine_thresholds, title,
                                             out_dir / plot_name("scores", machine)))
        index = np.sort(np.concatenate(list(members.values())))
        if index.size > tsne_max_points:
            rng = np.random.default_rng(seed)
            index = np.sort(rng.choice(index, tsne_max_points, replace=False))
        if index.size < TSNE_MIN_POINTS:
            logger.info("%s: %d clips are too few for a t-SNE map", machine, index.size)
            continue
        coords = tsne_map(embeddings[index], seed)
        labels = None if scored.labels is None else scored.labels[index]
        written.append(plot_tsne(machine, coords, [scored.sections[i] for i in index], labels,
                                 title, out_dir / plot_name("tsne", machine)))
    kinds = tuple(f"{kind}_" for kind, _ in SET_PLOTS)
    for old in out_dir.glob("*.png"):
        if old.name.startswith(kinds) and old not in written:
            old.unlink()
    logger.info("wrote %d plots to %s", len(written), out_dir)
    return written


def plot_training(exp_dir) -> Optional[Path]:
    """``exp_dir/plots/training_curves.png`` from ``exp_dir/train_history.csv``; None
    (logged) when the experiment has no history."""
    exp_dir = Path(exp_dir)
    if not (exp_dir / "train_history.csv").is_file():
        logger.info("%s/train_history.csv: missing; no training curves", exp_dir)
        return None
    history = read_training_history(exp_dir)
    return plot_training_curves(history, f"{exp_dir.name}: training", exp_dir / TRAINING_PLOT)


def write_report(exp_dir) -> Path:
    """Write ``exp_dir/report.md`` from the results and plots on disk; returns its path."""
    experiment = load_experiment(exp_dir, checkpoint=None)
    exp_dir = experiment.exp_dir
    lines = [f"# Experiment `{exp_dir.name}`", "", *_summary(experiment), ""]
    if (exp_dir / TRAINING_PLOT).is_file():
        lines += ["## Training", "", f"![training curves of {exp_dir.name}]({TRAINING_PLOT})",
                  ""]
    for score_dir in experiment.score_dirs():
        lines += _set_section(exp_dir, score_dir)
    path = exp_dir / "report.md"
    with atomic_write(path) as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")
    logger.info("wrote %s", path)
    return path


def _summary(experiment: Experiment) -> List[str]:
    """What was trained and how to re-run it (each option of the command once)."""
    lines = []
    config = experiment.config
    if config is not None:
        epochs = sum(int(stage.get("epochs", 0)) for stage in config.get("stages") or [])
        lines.append(f"Model `{config.get('model')}` with head `{config.get('head')}`, "
                     f"{epochs} epochs on `{config.get('train_dir')}`; full configuration: "
                     "[config.yaml](config.yaml).")
    run = experiment.run_command()
    if run is not None:
        lines += ["", f"Made in `{run.directory}` by:", "", "```sh", unique_options(run.command),
                  "```", "",
                  "Re-run from a stage N with `run.sh --stage N` in this directory."]
    return lines


def _set_section(exp_dir: Path, score_dir: Path) -> List[str]:
    """One ``<inference_tag>/<set>`` section: its result tables, then its plots per machine type."""
    checkpoint, dset = score_dir.parent.name, score_dir.name
    lines = [f"## Checkpoint `{checkpoint}`, set `{dset}`", ""]
    for table in sorted(score_dir.glob("result*.md")):
        if table.name != "result.md":
            lines += [f"`{table.name}`:", ""]
        lines += [table.read_text(encoding="utf-8").rstrip("\n"), ""]
    plots = _set_plots(score_dir)
    if plots:
        rel = score_dir.relative_to(exp_dir).as_posix()
        lines.append("| Machine type | " + " | ".join(t for _, t in SET_PLOTS) + " |")
        lines.append("|:--" * (len(SET_PLOTS) + 1) + "|")
        for machine, files in sorted(plots.items()):
            cells = [f"![{kind} {machine}]({rel}/plots/{files[kind]})" if kind in files else ""
                     for kind, _ in SET_PLOTS]
            lines.append(f"| {machine} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _set_plots(score_dir: Path) -> Dict[str, Dict[str, str]]:
    """``{machine: {kind: file name}}`` of the set plots in ``score_dir/plots``."""
    found: Dict[str, Dict[str, str]] = {}
    kinds = {kind for kind, _ in SET_PLOTS}
    for path in sorted((score_dir / "plots").glob("*.png")):
        kind, _, machine = path.stem.partition("_")
        if kind in kinds and machine:
            found.setdefault(machine, {})[kind] = path.name
    return found

