"""Every experiment's results in one Markdown table per corpus, for RESULTS.md.

A row is one ``exp/<tag>/<inference_tag>/<set>/result.json`` (stage 5): the headline
numbers of that corpus's official protocol in % (the ``headline`` of its scorer,
:mod:`asd_lib.corpus.registry`; e.g. AUC, pAUC and mAUC averaged over machine types for
DCASE 2020, the official score and the harmonic means of AUC-source, AUC-target and pAUC
for DCASE 2024), and the command that reproduces it (from the experiment's ``run.sh``, see
:mod:`asd_lib.report.experiment`).
"""
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from asd_lib.corpus import CORPORA, get_corpus
from asd_lib.report.experiment import command_from, read_run_command


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


def read_result_row(result_json, base_dir) -> ResultRow:
    """The row of ``exp/<tag>/<inference_tag>/<set>/result.json``; the command relative to
    ``base_dir``."""
    path = Path(result_json)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err}); re-run scoring (stage 5)") from None
    dataset = data.get("dataset")
    if dataset not in CORPORA:
        raise ValueError(f"{path}: dataset {dataset!r} is no corpus of this asd_lib; known: "
                         f"{', '.join(CORPORA.names())}")
    values = tuple(_lookup(data, keys, path) for _, keys in get_corpus(dataset).scorer.headline)
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
    """Rows of every ``<root>/<tag>/<inference_tag>/<set>/result.json`` under ``exp_roots``."""
    rows = []
    for root in exp_roots:
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"{root}: no such experiment directory; run stages 3-5 first")
        rows += [read_result_row(p, base_dir) for p in sorted(root.glob("*/*/*/result.json"))]
    return rows


def sort_rows(rows: List[ResultRow], sort_by: Optional[str] = None) -> List[ResultRow]:
    """By set, then experiment and inference; with ``sort_by`` (a column title) the best
    value first within each set of the years that have that column, missing values last."""
    if sort_by is None:
        return sorted(rows, key=lambda r: (r.dset, r.experiment, r.inference))
    columns = {d: headline_titles(d) for d in {r.dataset for r in rows}}
    if not any(sort_by in titles for titles in columns.values()):
        raise ValueError(f"--sort_by {sort_by!r} is no column of the tables; choose one of "
                         f"{sorted({t for titles in columns.values() for t in titles})}")

    def rank(row: ResultRow) -> Tuple[bool, float]:
        titles = columns[row.dataset]
        value = row.values[titles.index(sort_by)] if sort_by in titles else math.nan
        return (True, 0.0) if math.isnan(value) else (False, -value)

    return sorted(rows, key=lambda r: (r.dset, rank(r), r.experiment, r.inference))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def format_tables(rows: List[ResultRow]) -> str:
    """One Markdown table per dataset, values in %, with the reproducing command."""
    if not rows:
        return ""
    blocks = []
    for dataset in sorted({r.dataset for r in rows}):
        titles = headline_titles(dataset)
        lines = [f"### {dataset}", "",
                 "| Experiment | Inference | Set | " + " | ".join(titles) + " | Command |",
                 "|:--|:--|:--|" + "--:|" * len(titles) + ":--|"]
        for row in (r for r in rows if r.dataset == dataset):
            numbers = " | ".join("" if math.isnan(v) else f"{100 * v:.2f}" for v in row.values)
            command = "(no run.sh)" if row.command is None else f"`{_cell(row.command)}`"
            lines.append(f"| {_cell(row.experiment)} | {row.inference} | {row.dset} | "
                         f"{numbers} | {command} |")
        blocks.append("\n".join(lines))
    note = ("Values in %, official protocol of each corpus (see the result.md of each set for "
            "the definitions). Commands run from the directory where this table was made.")
    return note + "\n\n" + "\n\n".join(blocks) + "\n"
