"""Every experiment's results in one Markdown table per corpus, for RESULTS.md, with the
repeated trials of a system aggregated.

A result is one ``exp/<tag>/<inference_tag>/<set>/result.json`` (stage 5): the headline
numbers of that corpus's official protocol (the ``headline`` of its scorer,
:mod:`asd_lib.corpus.registry`; e.g. AUC, pAUC and mAUC averaged over machine types for
DCASE 2020, the official score and the harmonic means of AUC-source, AUC-target and pAUC
for DCASE 2021-2025), and the command that reproduces it, each option once: that of the
inference's ``run.sh`` (``exp/<tag>/<inference_tag>/run.sh``), else the experiment's
(:meth:`asd_lib.experiment.Experiment.run_command`).

Trials: the experiments ``exp/<tag>_seed<k>/`` are repeated trials of one system (asd.sh
``--num_trials`` / ``--seeds``). Their results of one inference tag and set form one row:
the mean, the sample standard deviation (n - 1 in the denominator) and the range of every
headline number over the trials, with their number. An experiment without trials is a row
of its own, as before. A result that cannot be read is left out of the tables and listed
with the reason, as is a scored set without a ``result.json``.
"""
import json
import math
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.experiment import command_from, load_experiment
from asd_lib.inference.config import read_inference_record

TRIAL_NAME = re.compile(r"^(?P<system>.+)_seed(?P<seed>[0-9]+)$")
"""An experiment dir name of one trial: ``<tag>_seed<k>``."""
TRIALS_SUFFIX = "_trials"
"""``exp/<tag>_trials/``: asd.sh's run.sh of all trials of ``<tag>`` and their summary."""


def headline_titles(dataset: str) -> List[str]:
    return [title for title, _ in get_corpus(dataset).scorer.headline]


@dataclass(frozen=True)
class ResultRow:
    """The headline numbers (fractions) of one experiment, inference and set."""

    dataset: str
    experiment: str
    inference: str
    dset: str
    values: Tuple[float, ...]
    command: Optional[str]
    exp_dir: Optional[Path] = None


@dataclass(frozen=True)
class Skipped:
    """A result left out of the tables, and why."""

    path: str
    reason: str


def read_result_row(result_json, base_dir) -> ResultRow:
    """The row of ``exp/<tag>/<inference_tag>/<set>/result.json``; the command relative to
    ``base_dir``. Raises ValueError naming the file when it cannot be read."""
    path = Path(result_json)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err}); re-run scoring (stage 5)") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a result of stage 5; re-run scoring (stage 5)")
    dataset = data.get("dataset")
    if dataset not in CORPORA:
        raise ValueError(f"{path}: dataset {dataset!r} is no corpus of this asd_lib; known: "
                         f"{', '.join(CORPORA.names())}")
    values = tuple(_lookup(data, keys, path) for _, keys in get_corpus(dataset).scorer.headline)
    exp_dir, inference_tag = path.parent.parent.parent, path.parent.parent.name
    run = load_experiment(exp_dir, checkpoint=None).run_command(inference_tag)
    return ResultRow(dataset, exp_dir.name, inference_tag, path.parent.name, values,
                     None if run is None else command_from(run, base_dir), exp_dir)


def _lookup(data: dict, keys: Sequence[str], path) -> float:
    value = data
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ValueError(f"{path}: no {'/'.join(keys)}; re-run scoring (stage 5) with this "
                             "version of asd_lib")
        value = value[key]
    return math.nan if value is None else float(value)


def collect_results(exp_roots: Iterable, base_dir,
                    experiments: Optional[Sequence[str]] = None,
                    inference: Optional[str] = None) -> Tuple[List[ResultRow], List[Skipped]]:
    """Rows of every ``<root>/<tag>/<inference_tag>/<set>/result.json`` under ``exp_roots``
    (only experiment names matching one of the globs ``experiments`` and the inference tag
    ``inference`` when given), and what was skipped: unreadable results, and test sets
    scored by stage 4 without a ``result.json``."""
    rows, skipped = [], []
    for root in exp_roots:
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"{root}: no such experiment directory; run stages 3-5 first")
        for set_dir in sorted({p.parent for pattern in ("*/*/*/result.json", "*/*/*/utt2score")
                               for p in root.glob(pattern)}):
            exp_name, inference_tag = set_dir.parent.parent.name, set_dir.parent.name
            if experiments is not None and not any(fnmatch(exp_name, pattern)
                                                   for pattern in experiments):
                continue
            if inference is not None and inference_tag != inference:
                continue
            result = set_dir / "result.json"
            if not result.is_file():
                if set_dir.name != _training_set(set_dir.parent):
                    skipped.append(Skipped(str(set_dir), "no result.json (the set has no ground "
                                                         "truth, or stage 5 has not run)"))
                continue
            try:
                rows.append(read_result_row(result, base_dir))
            except ValueError as err:
                skipped.append(Skipped(str(result), str(err).removeprefix(f"{result}: ")))
    return rows, skipped


def _training_set(inference_dir: Path) -> Optional[str]:
    """The training set an inference dir was fitted on (its ``inference.yaml``), whose
    scores are never evaluated."""
    try:
        return Path(read_inference_record(inference_dir).train_dir).name
    except ValueError:
        return "train"


# --------------------------------------------------------------------------- trials
@dataclass(frozen=True)
class TrialGroup:
    """The rows of one system, inference and set over its trials (one row: no trials)."""

    system: str
    rows: Tuple[ResultRow, ...]
    seeds: Tuple[int, ...]  # empty for an experiment without trials
    command: Optional[str]

    @property
    def first(self) -> ResultRow:
        return self.rows[0]

    @property
    def name(self) -> str:
        """The experiment, or ``<tag>_seed{0,1,2}`` for trials."""
        if len(self.rows) == 1:
            return self.first.experiment
        return f"{self.system}_seed{{{','.join(str(s) for s in self.seeds)}}}"

    def statistics(self) -> List[Dict[str, object]]:
        """Per headline number: mean, sample std (0 for one trial), min, max, the values."""
        table = np.array([row.values for row in self.rows], dtype=float)
        out = []
        for column in table.T:
            finite = not np.isnan(column).any()
            if not finite:
                std = math.nan
            elif len(column) == 1 or column.min() == column.max():
                std = 0.0  # exactly, where rounding in the mean would leave 1e-16
            else:
                std = float(np.std(column, ddof=1))
            out.append({"mean": float(column.mean()) if finite else math.nan, "std": std,
                        "min": float(column.min()) if finite else math.nan,
                        "max": float(column.max()) if finite else math.nan,
                        "values": [float(v) for v in column]})
        return out


def group_trials(rows: List[ResultRow], base_dir) -> List[TrialGroup]:
    """The rows with the trials of each (corpus, system, inference, set) in one group, in
    the order of their first row; a system's command is that of the trials' run.sh
    (``exp/<tag>_trials/``, all trials) when it exists, else its first trial's."""
    groups: Dict[Tuple[str, str, bool, str, str], List[Tuple[int, ResultRow]]] = {}
    for row in rows:
        match = TRIAL_NAME.match(row.experiment)
        system = match.group("system") if match else row.experiment
        seed = int(match.group("seed")) if match else -1
        key = (row.dataset, system, bool(match), row.inference, row.dset)
        groups.setdefault(key, []).append((seed, row))
    out = []
    for (_, system, is_trial, _, _), members in groups.items():
        members.sort(key=lambda member: member[0])
        group_rows = tuple(row for _, row in members)
        command = group_rows[0].command
        if is_trial and len(group_rows) > 1:
            command = _trials_command(group_rows[0], system, base_dir) or command
        seeds = tuple(seed for seed, _ in members) if is_trial else ()
        out.append(TrialGroup(system, group_rows, seeds, command))
    return out


def _trials_command(row: ResultRow, system: str, base_dir) -> Optional[str]:
    """The command of ``exp/<system>_trials/<inference_tag>/run.sh`` (else
    ``exp/<system>_trials/run.sh``) beside the trial of ``row``."""
    if row.exp_dir is None:
        return None
    trials = load_experiment(Path(row.exp_dir).parent / f"{system}{TRIALS_SUFFIX}",
                             checkpoint=None)
    run = trials.run_command(row.inference)
    return None if run is None else command_from(run, base_dir)


def sort_groups(groups: List[TrialGroup], sort_by: Optional[str] = None) -> List[TrialGroup]:
    """By set, then experiment and inference; with ``sort_by`` (a column title) the best
    mean first within each set of the years that have that column, missing values last."""
    if sort_by is None:
        return sorted(groups, key=lambda g: (g.first.dset, g.name, g.first.inference))
    columns = {d: headline_titles(d) for d in {g.first.dataset for g in groups}}
    if not any(sort_by in titles for titles in columns.values()):
        raise ValueError(f"--sort_by {sort_by!r} is no column of the tables; choose one of "
                         f"{sorted({t for titles in columns.values() for t in titles})}")

    def rank(group: TrialGroup) -> Tuple[bool, float]:
        titles = columns[group.first.dataset]
        if sort_by not in titles:
            return True, 0.0
        value = group.statistics()[titles.index(sort_by)]["mean"]
        return (True, 0.0) if math.isnan(value) else (False, -value)

    return sorted(groups, key=lambda g: (g.first.dset, rank(g), g.name, g.first.inference))


# --------------------------------------------------------------------------- output
def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _number(stats: Dict[str, object], trials: int) -> str:
    mean = stats["mean"]
    if math.isnan(mean):
        return ""
    if trials == 1:
        return f"{100 * mean:.2f}"
    return (f"{100 * mean:.2f} ± {100 * stats['std']:.2f} "
            f"[{100 * stats['min']:.2f}, {100 * stats['max']:.2f}]")


def format_tables(groups: List[TrialGroup], skipped: Sequence[Skipped] = ()) -> str:
    """One Markdown table per dataset, values in %, with the reproducing command; a
    ``Trials`` column and ``mean ± std [min, max]`` cells where some row has several
    trials; then the list of what was skipped."""
    if not groups and not skipped:
        return ""
    blocks = []
    for dataset in sorted({g.first.dataset for g in groups}):
        members = [g for g in groups if g.first.dataset == dataset]
        titles = headline_titles(dataset)
        trials = any(len(g.rows) > 1 for g in members)
        extra = " Trials |" if trials else ""
        lines = [f"### {dataset}", "",
                 "| Experiment | Inference | Set |" + extra + " " + " | ".join(titles)
                 + " | Command |",
                 "|:--|:--|:--|" + ("--:|" if trials else "") + "--:|" * len(titles) + ":--|"]
        for group in members:
            numbers = " | ".join(_number(s, len(group.rows)) for s in group.statistics())
            command = "(no run.sh)" if group.command is None else f"`{_cell(group.command)}`"
            count = f" {len(group.rows)} |" if trials else ""
            lines.append(f"| {_cell(group.name)} | {group.first.inference} | {group.first.dset} "
                         f"|{count} {numbers} | {command} |")
        blocks.append("\n".join(lines))
    note = ("Values in %, official protocol of each corpus (see the result.md of each set for "
            "the definitions). Commands run from the directory where this table was made.")
    if any(len(g.rows) > 1 for g in groups):
        note += (" Rows over several trials (exp/<tag>_seed<k>): mean ± sample standard "
                 "deviation [min, max] over the trials.")
    text = note + "\n\n" + "\n\n".join(blocks) + "\n"
    if skipped:
        text += "\nNot in the tables:\n\n" + "".join(
            f"- `{_cell(s.path)}`: {s.reason}\n" for s in skipped)
    return text


def tables_json(groups: List[TrialGroup], skipped: Sequence[Skipped] = ()) -> dict:
    """The rows with every headline number's statistics (fractions), for ``--json``."""
    rows = []
    for group in groups:
        titles = headline_titles(group.first.dataset)
        rows.append({
            "dataset": group.first.dataset, "experiment": group.name, "system": group.system,
            "experiments": [r.experiment for r in group.rows], "inference": group.first.inference,
            "set": group.first.dset, "trials": len(group.rows), "seeds": list(group.seeds),
            "command": group.command,
            "headline": {title: {key: _json_number(value) for key, value in stats.items()}
                         for title, stats in zip(titles, group.statistics())}})
    return {"std": "sample standard deviation over the trials (n - 1)", "rows": rows,
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped]}


def _json_number(value):
    """``value`` (a number or a list of them) with NaN as None (JSON has no NaN)."""
    if isinstance(value, list):
        return [_json_number(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value
