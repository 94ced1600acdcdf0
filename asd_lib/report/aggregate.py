"""Every experiment's results in one Markdown table per DCASE year, for RESULTS.md.

A row is one ``exp/<tag>/<ckpt>/<set>/result.json`` (stage 5): the headline numbers of
that year's official protocol in %, and the command that reproduces it (from the
experiment's ``run.sh``, see :mod:`asd_lib.report.experiment`). Headlines:

- DCASE 2020: AUC, pAUC and mAUC averaged over machine types (``average`` of result.json,
  :mod:`asd_lib.metrics.dcase2020`);
- DCASE 2022-2024: the official score (harmonic mean of every AUC (source), AUC (target)
  and pAUC), then the harmonic means over all types of AUC (source), AUC (target) and
  pAUC (``overall`` of result.json, :mod:`asd_lib.metrics.dcase2024`).
"""
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from asd_lib.report.experiment import command_from, read_run_command

# Per year: (column title, key path in result.json).
HEADLINES: Dict[str, Tuple[Tuple[str, Tuple[str, ...]], ...]] = {
    "dcase2020": (
        ("AUC", ("average", "AUC")),
        ("pAUC", ("average", "pAUC")),
        ("mAUC", ("average", "mAUC")),
    ),
    "dcase2024": (
        ("Official score", ("official_score",)),
        ("AUC (source)", ("overall", "source harmonic mean", "AUC")),
        ("AUC (target)", ("overall", "target harmonic mean", "AUC")),
        ("pAUC", ("overall", "harmonic mean", "pAUC")),
    ),
}


@dataclass(frozen=True)
class ResultRow:
    """The headline numbers (fractions) of one experiment, checkpoint and set."""

    dataset: str
    experiment: str
    checkpoint: str
    dset: str
    values: Tuple[float, ...]
    command: Optional[str]


def read_result_row(result_json, base_dir) -> ResultRow:
    """The row of ``exp/<tag>/<ckpt>/<set>/result.json``; the command relative to ``base_dir``."""
    path = Path(result_json)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); re-run scoring (stage 5)") from None
    dataset = data.get("dataset")
    if dataset not in HEADLINES:
        raise ValueError(f"{path}: dataset {dataset!r} has no headline metrics; known: "
                         f"{', '.join(HEADLINES)}")
    values = tuple(_lookup(data, keys, path) for _, keys in HEADLINES[dataset])
    exp_dir = path.parent.parent.parent
    run = read_run_command(exp_dir)
    return ResultRow(dataset, exp_dir.name, path.parent.parent.name, path.parent.name, values,
                     None if run is None else command_from(run, base_dir))


def _lookup(data: dict, keys: Sequence[str], path) -> float:
    value = data
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ValueError(f"{path}: no {'/'.join(keys)}; re-run scoring (stage 5) with this "
                             "version of asd_lib")
        value = value[key]
    return math.nan if value is None else float(value)


def collect_results(exp_roots: Iterable, base_dir) -> List[ResultRow]:
    """Rows of every ``<root>/<tag>/<ckpt>/<set>/result.json`` under ``exp_roots``."""
    rows = []
    for root in exp_roots:
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"{root}: no such experiment directory; run stages 3-5 first")
        rows += [read_result_row(p, base_dir) for p in sorted(root.glob("*/*/*/result.json"))]
    return rows


def sort_rows(rows: List[ResultRow], sort_by: Optional[str] = None) -> List[ResultRow]:
    """By set, then experiment and checkpoint; with ``sort_by`` (a column title) the best
    value first within each set of the years that have that column, missing values last."""
    if sort_by is None:
        return sorted(rows, key=lambda r: (r.dset, r.experiment, r.checkpoint))
    columns = {d: [title for title, _ in HEADLINES[d]] for d in {r.dataset for r in rows}}
    if not any(sort_by in titles for titles in columns.values()):
        raise ValueError(f"--sort_by {sort_by!r} is no column of the tables; choose one of "
                         f"{sorted({t for titles in columns.values() for t in titles})}")

    def rank(row: ResultRow) -> Tuple[bool, float]:
        titles = columns[row.dataset]
        value = row.values[titles.index(sort_by)] if sort_by in titles else math.nan
        return (True, 0.0) if math.isnan(value) else (False, -value)

    return sorted(rows, key=lambda r: (r.dset, rank(r), r.experiment, r.checkpoint))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def format_tables(rows: List[ResultRow]) -> str:
    """One Markdown table per dataset, values in %, with the reproducing command."""
    if not rows:
        return ""
    blocks = []
    for dataset in sorted({r.dataset for r in rows}):
        titles = [title for title, _ in HEADLINES[dataset]]
        lines = [f"### {dataset}", "",
                 "| Experiment | Checkpoint | Set | " + " | ".join(titles) + " | Command |",
                 "|:--|:--|:--|" + "--:|" * len(titles) + ":--|"]
        for row in (r for r in rows if r.dataset == dataset):
            numbers = " | ".join("" if math.isnan(v) else f"{100 * v:.2f}" for v in row.values)
            command = "(no run.sh)" if row.command is None else f"`{_cell(row.command)}`"
            lines.append(f"| {_cell(row.experiment)} | {row.checkpoint} | {row.dset} | "
                         f"{numbers} | {command} |")
        blocks.append("\n".join(lines))
    note = ("Values in %, official protocol of each year (see the result.md of each set for "
            "the definitions). Commands run from the directory where this table was made.")
    return note + "\n\n" + "\n\n".join(blocks) + "\n"
