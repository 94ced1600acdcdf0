"""The DCASE 2021 Task 2 evaluator: AUC and pAUC per machine type, section and domain.

Mirrors ``dcase2021_task2_evaluator.py`` (github.com/y-kawagu/dcase2021_task2_evaluator,
the version with domain-wise means and the official score). Unlike the 2022-2025
evaluators (:mod:`asd_lib.metrics.domain_shift`), every number of a (machine type,
section, domain) is computed over that domain's test clips only, with ``y`` = 1 for an
anomalous clip:

- ``AUC`` and ``pAUC`` (McClish-standardised partial AUC, ``max_fpr`` = 0.1, see
  :mod:`asd_lib.metrics.auc`); precision, recall and F1 of the 0/1 decisions
  (:func:`asd_lib.metrics.common.decision_metrics`);
- per machine type, the rows ``arithmetic mean`` and ``harmonic mean`` over its
  (section, domain) rows, and ``source harmonic mean`` / ``target harmonic mean`` over its
  source / target rows; every harmonic mean floors its values at machine epsilon. (The
  evaluator takes the first ``len(machine_types) // 2`` rows as the source rows: with its
  7 machine types and 3 sections that is exactly the source rows, which is what is
  computed here for any number of types);
- the same four rows over all (machine type, section, domain) rows;
- the official score: the floored harmonic mean of every AUC and pAUC of every (machine
  type, section, domain): 84 values on the full evaluation set. No ci95 in 2021.

Inputs: per (machine type, section, domain) ``anomaly_score_<M>_section_XX_<domain>_test.csv``
and ``decision_result_<M>_section_XX_<domain>_test.csv`` (rows ``file_name,value``, no
header, both mandatory); the domain of a test clip is in its official file name
(``section_00_source_test_normal_0000.wav``, ``section_03_target_test_0012.wav``). The
ground truth comes from a Kaldi data dir (``utt2label``, ``utt2domain``); rows are matched
to clips by name. result.csv has the evaluator's layout line for line: per type ``<M>``,
``section,domain,AUC,pAUC,precision,recall,F1 score``, one row per section and domain
(source rows first, then target rows; ``03,source,...``), the four mean rows and a blank
row; then ``,,AUC,pAUC,...``, the four overall rows, a blank row, ``official score,,<v>`` and
a blank row.
"""
import csv
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from asd_lib.metrics.auc import partial_auc, roc_auc
from asd_lib.metrics.common import (
    DOMAINS,
    aligned,
    decision_metrics,
    floored_hmean,
    guarded,
    load_domain_ground_truth,
    pct,
    read_decision_csv,
    read_score_csv,
    require_files,
    write_result_files,
)
from asd_lib.metrics.domain_shift import (
    MAX_FPR,
    MEAN_COLUMNS,
    OVERALL_SUFFIX,
    PROTOCOLS,
    Means,
    Summary,
)

logger = logging.getLogger(__name__)

TITLE = "DCASE 2021 Task 2"
ROW_COLUMNS = ("section", "domain", "AUC", "pAUC", "precision", "recall", "F1 score")
_DOMAIN_IN_NAME = re.compile(r"section_\d{2}_(?P<domain>source|target)_test_")

@dataclass(frozen=True)
class DomainClips:
    """Ground truth and system output of one (machine, section, domain), by file name."""

    y_true: np.ndarray
    score: np.ndarray
    decision: np.ndarray


@dataclass(frozen=True)
class DomainRow:
    """Every number of one (machine type, section, domain)."""

    machine: str
    section: str
    domain: str
    auc: float
    pauc: float
    precision: float
    recall: float
    f1: float
    n_normal: int
    n_anomaly: int

    @property
    def values(self) -> Tuple[float, float, float, float, float]:
        return (self.auc, self.pauc, self.precision, self.recall, self.f1)


@dataclass(frozen=True)
class Dcase2021Result:
    """Every number of one scored set; ``machines`` pairs each type with its summary."""

    max_fpr: float
    rows: Tuple[DomainRow, ...]
    machines: Tuple[Tuple[str, Summary], ...]
    overall: Summary
    official_score: float


Unit = Tuple[str, str, str]  # (machine type, section, domain)


# ---------------------------------------------------------------------------- inputs


def official_csv_name(kind: str, machine: str, section: str,
                      file_name: Optional[str] = None) -> str:
    """Official file name of the 2021 evaluator for the domain of ``file_name``, ``kind``
    being ``anomaly_score`` or ``decision_result``: e.g.
    ``anomaly_score_fan_section_00_source_test.csv`` for
    ``section_00_source_test_normal_0000.wav``."""
    match = _DOMAIN_IN_NAME.match(file_name or "")
    if not match:
        raise ValueError(f"{file_name!r} is not a DCASE 2021 test clip name "
                         "(section_XX_<source|target>_test_...wav): the 2021 score files are "
                         "one per domain, named by the domain of each clip")
    return f"{kind}_{machine}_{section}_{match['domain']}_test.csv"


def load_units(data_dir, score_dir) -> Optional[Dict[Unit, DomainClips]]:
    """Pair every (machine, section, domain) of the data dir with its score and decision
    CSVs; None without ``utt2label``. A missing CSV or a clip mismatch is an error."""
    truth = load_domain_ground_truth(data_dir, TITLE)
    if truth is None:
        return None
    score_dir = Path(score_dir)
    units = {}
    for machine, section in sorted(truth):
        clips = truth[(machine, section)]
        for index, domain in enumerate(DOMAINS):
            names = sorted(n for n, (_, d) in clips.items() if d == index)
            if not names:
                continue
            paths = {kind: score_dir / official_csv_name(kind, machine, section, names[0])
                     for kind in ("anomaly_score", "decision_result")}
            what = f"{machine} {section} {domain}"
            require_files(list(paths.values()), what, data_dir)
            units[(machine, section, domain)] = DomainClips(
                y_true=np.array([clips[n][0] for n in names], dtype=int),
                score=aligned(names, read_score_csv(paths["anomaly_score"]),
                              paths["anomaly_score"], what),
                decision=aligned(names, read_decision_csv(paths["decision_result"]),
                                 paths["decision_result"], what).astype(int),
            )
    return units


# ------------------------------------------------------------------------- metrics


def domain_row(unit: Unit, clips: DomainClips, max_fpr: float = MAX_FPR) -> DomainRow:
    """Official numbers of one (machine, section, domain) over its clips."""
    what = " ".join(unit)
    precision, recall, f1 = decision_metrics(clips.y_true, clips.decision)
    n_anomaly = int(np.sum(clips.y_true))
    return DomainRow(
        *unit,
        auc=guarded(f"{what} AUC", roc_auc, clips.y_true, clips.score),
        pauc=guarded(f"{what} pAUC", partial_auc, clips.y_true, clips.score, max_fpr),
        precision=precision, recall=recall, f1=f1,
        n_normal=int(clips.y_true.size - n_anomaly), n_anomaly=n_anomaly,
    )


def summarise(rows: Sequence[DomainRow]) -> Summary:
    """The four mean rows over ``rows`` (each row's AUC, pAUC, P, R, F1)."""
    def means(values) -> Means:
        return Means(*map(float, values))

    table = np.array([r.values for r in rows], dtype=float)
    source = np.array([r.values for r in rows if r.domain == "source"], dtype=float)
    target = np.array([r.values for r in rows if r.domain == "target"], dtype=float)
    return Summary(
        amean=means(np.mean(table, axis=0)),
        hmean=means(floored_hmean(table, axis=0)),
        hmean_source=means(floored_hmean(source, axis=0)),
        hmean_target=means(floored_hmean(target, axis=0)),
    )


def evaluate(units, max_fpr: float = MAX_FPR) -> Dcase2021Result:
    """Official scores of ``{(machine, section, domain): clips}`` (module docstring)."""
    if not units:
        raise ValueError("nothing to score: no (machine type, section, domain) groups")
    order = sorted(units, key=lambda u: (u[0], DOMAINS.index(u[2]), u[1]))
    rows = tuple(domain_row(u, units[u], max_fpr) for u in order)
    machines = tuple((m, summarise([r for r in rows if r.machine == m]))
                     for m in dict.fromkeys(r.machine for r in rows))
    return Dcase2021Result(
        max_fpr=max_fpr, rows=rows, machines=machines, overall=summarise(rows),
        official_score=floored_hmean([v for r in rows for v in (r.auc, r.pauc)]),
    )


def score_dcase2021(data_dir, score_dir, protocol: str = "official",
                    max_fpr: float = MAX_FPR) -> Optional[Dcase2021Result]:
    """Score one set; None (logged) when the data dir has no ground truth (utt2label)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; the {TITLE} evaluator has one: "
                         f"{PROTOCOLS[0]}")
    units = load_units(data_dir, score_dir)
    if units is None:
        logger.info("%s has no utt2label: ground truth is absent, so %s is not scored",
                    data_dir, score_dir)
        return None
    return evaluate(units, max_fpr)


# ------------------------------------------------------------------------- outputs


def format_result_csv(result: Dcase2021Result) -> str:
    """result.csv in the evaluator's layout (module docstring); numbers as repr."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for machine, summary in result.machines:
        writer.writerow([machine])
        writer.writerow(ROW_COLUMNS)
        for row in result.rows:
            if row.machine == machine:
                writer.writerow([row.section.split("_", 1)[1], row.domain,
                                 *map(repr, row.values)])
        for label, means in summary.rows():
            writer.writerow([label, "", *map(repr, means)])
        writer.writerow([])
    writer.writerow(["", "", *MEAN_COLUMNS])
    for label, means in result.overall.rows():
        writer.writerow([label + OVERALL_SUFFIX, "", *map(repr, means)])
    writer.writerow([])
    writer.writerow(["official score", "", repr(result.official_score)])
    writer.writerow([])
    return buffer.getvalue()


def format_markdown(result: Dcase2021Result) -> str:
    """A Markdown table in % (per machine type, section and domain; arithmetic and
    harmonic mean over the rows) with its definitions and the official score."""
    note = (
        f"{TITLE}, official evaluator metrics, per machine type, section and domain over "
        "that domain's test clips: AUC; pAUC, the McClish-standardised partial AUC with "
        f"max_fpr = {result.max_fpr:g} (scikit-learn `roc_auc_score(y, s, "
        f"max_fpr={result.max_fpr:g})`); P / R / F1 of the decision files (reported, not "
        "ranked). The last two rows are the arithmetic and the (floored) harmonic mean over "
        f"the {len(result.rows)} rows above. Values in %."
    )
    lines = ["| Machine type | Section | Domain | AUC | pAUC | P | R | F1 |",
             "|:--|:--|:--|--:|--:|--:|--:|--:|"]
    for r in result.rows:
        lines.append(f"| {r.machine} | {r.section} | {r.domain} | "
                     + " | ".join(map(pct, r.values)) + " |")
    for label, means in (("Arithmetic mean", result.overall.amean),
                         ("Harmonic mean", result.overall.hmean)):
        lines.append(f"| {label} | | | " + " | ".join(map(pct, means)) + " |")
    score = ("Official score (harmonic mean of every AUC and pAUC): "
             f"{pct(result.official_score)}.")
    return note + "\n\n" + "\n".join(lines) + "\n\n" + score + "\n"


def _summary_dict(summary: Summary) -> dict:
    return {label: dict(zip(MEAN_COLUMNS, means)) for label, means in summary.rows()}


def result_to_dict(result: Dcase2021Result) -> dict:
    """Every number of ``result`` (fractions, not %) for result.json."""
    machine_types = {}
    for machine, summary in result.machines:
        sections: Dict[str, Dict[str, dict]] = {}
        for r in result.rows:
            if r.machine == machine:
                sections.setdefault(r.section, {})[r.domain] = {
                    **dict(zip(MEAN_COLUMNS, r.values)),
                    "n_normal": r.n_normal, "n_anomaly": r.n_anomaly}
        machine_types[machine] = {"sections": sections, **_summary_dict(summary)}
    return {
        "dataset": "dcase2021",
        "pauc_definition": "McClish-standardised partial AUC (sklearn roc_auc_score max_fpr)",
        "max_fpr": result.max_fpr,
        "auc_definition": "AUC and pAUC per (machine type, section, domain) over that "
                          "domain's clips",
        "machine_types": machine_types,
        "overall": _summary_dict(result.overall),
        "official_score": result.official_score,
        "official_score_definition": "harmonic mean of every AUC and pAUC, each floored at "
                                     "machine epsilon",
    }


def write_results(result: Dcase2021Result, out_dir) -> List[Path]:
    """Write ``result.csv``, ``result.md`` and ``result.json`` atomically into ``out_dir``."""
    return write_result_files(Path(out_dir) / "result", format_result_csv(result),
                              format_markdown(result), result_to_dict(result))
