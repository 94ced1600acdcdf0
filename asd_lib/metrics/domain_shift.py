"""The DCASE 2022-2025 Task 2 evaluators: AUC-s, AUC-t, pAUC, P/R/F1, harmonic means.

One computation, parametrised by year (:class:`DomainShiftEvaluator`): the official
evaluators of 2022 (github.com/Kota-Dohi/dcase2022_evaluator), 2023
(nttcslab/dcase2023_task2_evaluator) and 2024 (nttcslab/dcase2024_task2_evaluator, the
2023 code with other machine types) compute the same numbers, and the 2025 evaluator's
README (nttcslab/dcase2025_task2_evaluator) documents the same inputs, result layout and
official score (its code was not available to check). For each machine type and section,
with ``y`` = 1 for an anomalous clip:

- ``AUC (source)`` / ``AUC (target)``: AUC over the normal clips of that domain plus ALL
  anomalous clips of the section (both domains);
- ``pAUC``: McClish-standardised partial AUC (``max_fpr`` = 0.1, see
  :mod:`asd_lib.metrics.auc`) over all clips of the section; ``AUC (all)`` likewise;
- precision, recall and F1 per domain over that domain's clips, from the 0/1 decisions
  (:func:`asd_lib.metrics.common.decision_metrics`); reported, not ranked;
- per machine type and over all types, the rows ``arithmetic mean``, ``harmonic mean``,
  ``source harmonic mean`` and ``target harmonic mean`` of (AUC, pAUC, precision, recall,
  F1), each metric listed once per section and domain (source values, then target values;
  pAUC twice); every harmonic mean floors its values at machine epsilon first;
- the official score: harmonic mean of the list of every AUC (source), AUC (target) and
  pAUC of every (machine type, section), each floored at ``eps``;
- ``official score ci95``: mean of the jackknife 95 % half-widths of the AUC and pAUC of
  all clips pooled over types (:func:`jackknife_ci95`).

One difference between the years, reproduced as each evaluator writes it: the per-type
``source harmonic mean`` row is the harmonic mean of the first ``k`` columns of the type's
list above and ``target harmonic mean`` of the others. The 2023 evaluator (so 2024, and
2025 by its README) splits at the number of sections, i.e. source values against target
values (:data:`SPLIT_BY_DOMAIN`). The 2022 evaluator splits at ``len(section_ids) // 2``,
which for its 3 sections per type is 1 (:data:`SPLIT_AS_2022`): its per-type "source
harmonic mean" holds section 03's (or 00's) source values only, and "target harmonic mean"
the 5 others; its README example shows this (ToyCar's source harmonic mean AUC equals
section 03's AUC (source)). Every other row, the overall rows and the official score are
the same in every year.

Inputs: ``anomaly_score_<M>_section_XX_test.csv`` and ``decision_result_<M>_section_XX_test.csv``
(rows ``file_name,value``, no header, both mandatory) and a Kaldi data dir whose
``utt2label`` and ``utt2domain`` hold the ground truth; file names are the base names of the
``wav.scp`` entries (the full official name for dev, ``section_XX_NNNN.wav`` for eval test).
Rows are matched to clips by name (:func:`asd_lib.metrics.common.aligned`). result.csv has
the evaluator's layout line for line, and its numbers are scikit-learn's, as the
evaluators compute them (:mod:`asd_lib.metrics.auc`).
"""
import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

import numpy as np
import scipy.stats

from asd_lib.metrics.auc import partial_auc, roc_auc
from asd_lib.metrics.common import (
    DOMAINS,
    Group,
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

logger = logging.getLogger(__name__)

MAX_FPR = 0.1
PROTOCOLS = ("official",)

# result.csv vocabulary of the official evaluators
SECTION_COLUMNS = (
    "AUC (all)", "AUC (source)", "AUC (target)", "pAUC",
    "precision (source)", "precision (target)", "recall (source)", "recall (target)",
    "F1 score (source)", "F1 score (target)",
)
MEAN_COLUMNS = ("AUC", "pAUC", "precision", "recall", "F1 score")
MEAN_ROWS = ("arithmetic mean", "harmonic mean", "source harmonic mean", "target harmonic mean")
OVERALL_SUFFIX = " over all machine types, sections, and domains"
HEADLINE = (("Official score", ("official_score",)),
            ("AUC (source)", ("overall", "source harmonic mean", "AUC")),
            ("AUC (target)", ("overall", "target harmonic mean", "AUC")),
            ("pAUC", ("overall", "harmonic mean", "pAUC")))
"""The results-table columns of every year (title, key path in result.json)."""


class TypeSplit(NamedTuple):
    """How an evaluator splits a type's 2 x n_sections columns into its per-type
    ``source harmonic mean`` (the first ``columns(n_sections)``) and ``target harmonic
    mean`` (the rest) rows."""

    columns: Callable[[int], int]
    description: str


SPLIT_BY_DOMAIN = TypeSplit(
    lambda n_sections: n_sections,
    "per type: source harmonic mean over every section's source values, target harmonic "
    "mean over the target values")
SPLIT_AS_2022 = TypeSplit(
    lambda n_sections: max(1, n_sections // 2),
    "per type, as the 2022 evaluator writes them: source harmonic mean over the first "
    "n_sections // 2 columns (for 3 sections: the first section's source values), target "
    "harmonic mean over the other columns; the overall rows split by domain")


@dataclass(frozen=True)
class SectionClips:
    """Ground truth and system output of one (machine, section), sorted by file name."""

    y_true: np.ndarray  # 1 anomaly, 0 normal
    domain: np.ndarray  # 0 source, 1 target
    score: np.ndarray
    decision: np.ndarray  # 1 anomaly, 0 normal


@dataclass(frozen=True)
class DomainScore:
    """AUC of one domain (its normal clips + all anomalies) and its decision metrics."""

    auc: float
    precision: float
    recall: float
    f1: float
    n_normal: int
    n_anomaly: int


@dataclass(frozen=True)
class SectionScore:
    """Every number of one (machine type, section)."""

    machine: str
    section: str
    auc_all: float
    pauc: float
    source: DomainScore
    target: DomainScore

    @property
    def hmean(self) -> float:
        """Floored harmonic mean of this section's AUC (source), AUC (target) and pAUC."""
        return floored_hmean([self.source.auc, self.target.auc, self.pauc])


class Means(NamedTuple):
    """One mean row of result.csv: (AUC, pAUC, precision, recall, F1 score)."""

    auc: float
    pauc: float
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Summary:
    """The four mean rows of a block of result.csv, in :data:`MEAN_ROWS` order."""

    amean: Means
    hmean: Means
    hmean_source: Means
    hmean_target: Means

    def rows(self) -> Tuple[Tuple[str, Means], ...]:
        """(row label, means) pairs in result.csv order."""
        return tuple(zip(MEAN_ROWS, (self.amean, self.hmean, self.hmean_source, self.hmean_target)))


@dataclass(frozen=True)
class DomainShiftResult:
    """Every number of one scored set; ``machines`` pairs each type with its summary."""

    dataset: str
    title: str
    type_split: str  # TypeSplit.description
    max_fpr: float
    sections: Tuple[SectionScore, ...]
    machines: Tuple[Tuple[str, Summary], ...]
    overall: Summary
    official_score: float
    official_score_ci95: float


# ---------------------------------------------------------------------------- inputs


def official_csv_name(kind: str, machine: str, section: str,
                      file_name: Optional[str] = None) -> str:
    """Official file name of the 2022-2025 evaluators, ``kind`` being ``anomaly_score`` or
    ``decision_result``: e.g. ``anomaly_score_fan_section_00_test.csv``; one file per
    (machine, section), whatever the clip (``file_name``)."""
    return f"{kind}_{machine}_{section}_test.csv"


def load_sections(data_dir, score_dir, title: str) -> Optional[Dict[Group, SectionClips]]:
    """Pair every (machine, section) of the data dir with its score and decision CSVs;
    None without ``utt2label``. A missing CSV or a clip count mismatch is an error."""
    truth = load_domain_ground_truth(data_dir, title)
    if truth is None:
        return None
    score_dir = Path(score_dir)
    sections = {}
    for machine, section in sorted(truth):
        clips = truth[(machine, section)]
        names = sorted(clips)
        paths = {kind: score_dir / official_csv_name(kind, machine, section)
                 for kind in ("anomaly_score", "decision_result")}
        what = f"{machine} {section}"
        require_files(list(paths.values()), what, data_dir)
        sections[(machine, section)] = SectionClips(
            y_true=np.array([clips[n][0] for n in names], dtype=int),
            domain=np.array([clips[n][1] for n in names], dtype=int),
            score=aligned(names, read_score_csv(paths["anomaly_score"]),
                          paths["anomaly_score"], what),
            decision=aligned(names, read_decision_csv(paths["decision_result"]),
                             paths["decision_result"], what).astype(int),
        )
    expected = {official_csv_name("anomaly_score", m, s) for m, s in truth}
    for path in sorted(score_dir.glob("anomaly_score_*_test.csv")):
        if path.name not in expected:
            logger.warning("%s has no ground truth in %s; ignored", path, data_dir)
    return sections


# ------------------------------------------------------------------------- metrics


def section_score(machine: str, section: str, clips: SectionClips,
                  max_fpr: float = MAX_FPR) -> SectionScore:
    """Official numbers of one (machine, section) (module docstring)."""
    what = f"{machine} {section}"
    domains = {}
    for index, domain in enumerate(DOMAINS):
        in_domain = clips.domain == index
        auc_clips = in_domain | (clips.y_true == 1)
        precision, recall, f1 = decision_metrics(clips.y_true[in_domain],
                                                 clips.decision[in_domain])
        domains[domain] = DomainScore(
            auc=guarded(f"{what} AUC ({domain})", roc_auc,
                        clips.y_true[auc_clips], clips.score[auc_clips]),
            precision=precision,
            recall=recall,
            f1=f1,
            n_normal=int(np.sum(in_domain & (clips.y_true == 0))),
            n_anomaly=int(np.sum(in_domain & (clips.y_true == 1))),
        )
    return SectionScore(
        machine=machine,
        section=section,
        auc_all=guarded(f"{what} AUC (all)", roc_auc, clips.y_true, clips.score),
        pauc=guarded(f"{what} pAUC", partial_auc, clips.y_true, clips.score, max_fpr),
        **domains,
    )


def summarise(rows, source_columns: Optional[int] = None) -> Summary:
    """The four mean rows over ``rows``, each metric listed for every row's source then
    every row's target (pAUC, which has no domain, listed twice), as the evaluators do;
    the source harmonic mean takes the first ``source_columns`` values (default: the
    source values), the target one the rest."""
    table = np.array(
        [
            [r.source.auc for r in rows] + [r.target.auc for r in rows],
            [r.pauc for r in rows] * 2,
            [r.source.precision for r in rows] + [r.target.precision for r in rows],
            [r.source.recall for r in rows] + [r.target.recall for r in rows],
            [r.source.f1 for r in rows] + [r.target.f1 for r in rows],
        ],
        dtype=float,
    )
    k = len(rows) if source_columns is None else source_columns
    return Summary(
        amean=Means(*map(float, np.mean(table, axis=1))),
        hmean=Means(*map(float, floored_hmean(table, axis=1))),
        hmean_source=Means(*map(float, floored_hmean(table[:, :k], axis=1))),
        hmean_target=Means(*map(float, floored_hmean(table[:, k:], axis=1))),
    )


def jackknife_ci95(fn: Callable[[np.ndarray, np.ndarray], float], y_true, score) -> float:
    """95 % half-width of the evaluators' delete-one jackknife of ``fn(y_true, score)``.

    Following the evaluators (after Mesaros et al., IEEE/ACM TASLP 27(6), 2019, sec. IV):
    ``theta_i`` = ``fn`` without clip i, ``sigma = sqrt(sum_i (theta_i - mean theta)^2 /
    (N (N - 1)))`` and the half-width ``t_{0.975, N-1} * sigma``. (Its sigma is the
    textbook jackknife standard error divided by N - 1; we keep the official formula.)
    """
    y_true, score = np.asarray(y_true), np.asarray(score, dtype=float)
    n = y_true.size
    keep = np.ones(n, dtype=bool)
    thetas = np.empty(n)
    for i in range(n):
        keep[i] = False
        thetas[i] = fn(y_true[keep], score[keep])
        keep[i] = True
    sigma = np.sqrt(np.sum((thetas - np.mean(thetas)) ** 2) / (n * (n - 1)))
    t_crit = abs(scipy.stats.t.ppf((1 - 0.95) / 2, n - 1))
    return float(t_crit * sigma)


@dataclass(frozen=True)
class DomainShiftEvaluator:
    """The evaluator of one year: ``dataset`` (the corpus name, written to result.json),
    ``title`` (in tables and messages) and its per-type ``type_split``."""

    dataset: str
    title: str
    type_split: TypeSplit = SPLIT_BY_DOMAIN

    def evaluate(self, sections: Mapping[Group, SectionClips],
                 max_fpr: float = MAX_FPR) -> DomainShiftResult:
        """Official scores of ``{(machine, section): clips}`` (module docstring)."""
        if not sections:
            raise ValueError("nothing to score: no (machine type, section) groups")
        groups = sorted(sections)
        rows = tuple(section_score(m, s, sections[(m, s)], max_fpr) for m, s in groups)
        machines = []
        for machine in dict.fromkeys(m for m, _ in groups):
            own = [r for r in rows if r.machine == machine]
            machines.append((machine, summarise(own, self.type_split.columns(len(own)))))
        # the official score's list: every AUC (source), then every AUC (target), every pAUC
        all_values = ([r.source.auc for r in rows] + [r.target.auc for r in rows]
                      + [r.pauc for r in rows])
        y_all = np.concatenate([sections[g].y_true for g in groups])
        score_all = np.concatenate([sections[g].score for g in groups])
        ci95 = np.mean([
            jackknife_ci95(roc_auc, y_all, score_all),
            jackknife_ci95(lambda y, s: partial_auc(y, s, max_fpr), y_all, score_all),
        ])
        return DomainShiftResult(
            dataset=self.dataset,
            title=self.title,
            type_split=self.type_split.description,
            max_fpr=max_fpr,
            sections=rows,
            machines=tuple(machines),
            overall=summarise(rows),
            official_score=floored_hmean(all_values),
            official_score_ci95=float(ci95),
        )

    def score(self, data_dir, score_dir, protocol: str = "official",
              max_fpr: float = MAX_FPR) -> Optional[DomainShiftResult]:
        """Score one set; None (logged) when the data dir has no ground truth (utt2label).
        The evaluators have one protocol, ``official``."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; the {self.title} evaluator has "
                             f"one: {PROTOCOLS[0]}")
        sections = load_sections(data_dir, score_dir, self.title)
        if sections is None:
            logger.info("%s has no utt2label: ground truth is absent, so %s is not scored",
                        data_dir, score_dir)
            return None
        return self.evaluate(sections, max_fpr)


# ------------------------------------------------------------------------- outputs


def _section_values(row: SectionScore) -> Tuple[float, ...]:
    """The values of :data:`SECTION_COLUMNS` for one section."""
    s, t = row.source, row.target
    return (row.auc_all, s.auc, t.auc, row.pauc,
            s.precision, t.precision, s.recall, t.recall, s.f1, t.f1)


def format_result_csv(result: DomainShiftResult) -> str:
    """result.csv in the evaluators' layout: per machine type ``<M>`` / section header /
    one row per section (number without ``section_``) / mean header / 4 mean rows / blank;
    then the 4 overall mean rows, the official score and its ci95. Numbers as repr."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    mean_header = ["", "", *MEAN_COLUMNS]
    for machine, summary in result.machines:
        writer.writerow([machine])
        writer.writerow(["section", *SECTION_COLUMNS])
        for row in result.sections:
            if row.machine == machine:
                number = row.section.split("_", 1)[1]
                writer.writerow([number, *map(repr, _section_values(row))])
        writer.writerow(mean_header)
        for label, means in summary.rows():
            writer.writerow([label, "", *map(repr, means)])
        writer.writerow([])
    writer.writerow(mean_header)
    for label, means in result.overall.rows():
        writer.writerow([label + OVERALL_SUFFIX, "", *map(repr, means)])
    writer.writerow([])
    writer.writerow(["official score", "", repr(result.official_score)])
    writer.writerow(["official score ci95", "", repr(result.official_score_ci95)])
    writer.writerow([])
    return buffer.getvalue()


def format_markdown(result: DomainShiftResult) -> str:
    """A Markdown table in % (per machine type, arithmetic and harmonic mean over types)
    with its definitions and the official score."""
    n = len(result.sections)
    note = (
        f"{result.title}, official evaluator metrics. AUC-s / AUC-t: AUC over the normal "
        "clips of the source / target domain plus all anomalous clips of the section; "
        "pAUC: McClish-standardised partial AUC over all clips of the section with "
        f"max_fpr = {result.max_fpr:g} (scikit-learn `roc_auc_score(y, s, "
        f"max_fpr={result.max_fpr:g})`); hmean: harmonic mean of AUC-s, AUC-t and pAUC, "
        "each floored at machine epsilon. P / R / F1 (-s source, -t target): precision, "
        "recall and F1 of the decision files over that domain's clips (reported, not "
        "ranked). The last two rows are the arithmetic and the (floored) harmonic mean "
        f"over the {n} rows above. Values in %."
    )
    several = len(result.machines) != n
    rows = [
        "| Machine type | AUC-s | AUC-t | pAUC | hmean | P-s | R-s | F1-s | P-t | R-t | F1-t |",
        "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    columns = []
    for r in result.sections:
        values = (r.source.auc, r.target.auc, r.pauc, r.hmean,
                  r.source.precision, r.source.recall, r.source.f1,
                  r.target.precision, r.target.recall, r.target.f1)
        columns.append(values)
        label = f"{r.machine} {r.section}" if several else r.machine
        rows.append(f"| {label} | " + " | ".join(map(pct, values)) + " |")
    table = np.array(columns)
    amean = np.mean(table, axis=0)
    hmean = floored_hmean(table, axis=0)
    hmean[3] = result.official_score  # the hmean of per-row hmeans is the official score
    rows.append("| Arithmetic mean | " + " | ".join(map(pct, amean)) + " |")
    rows.append("| Harmonic mean | " + " | ".join(map(pct, hmean)) + " |")
    score = (
        "Official score (harmonic mean of every AUC-s, AUC-t and pAUC): "
        f"{pct(result.official_score)} (official score ci95: "
        f"{pct(result.official_score_ci95)})."
    )
    return note + "\n\n" + "\n".join(rows) + "\n\n" + score + "\n"


def _means_dict(means: Means) -> dict:
    return dict(zip(MEAN_COLUMNS, means))


def _summary_dict(summary: Summary) -> dict:
    return {label: _means_dict(means) for label, means in summary.rows()}


def result_to_dict(result: DomainShiftResult) -> dict:
    """Every number of ``result`` (fractions, not %) for result.json."""
    machine_types = {}
    for machine, summary in result.machines:
        sections = {}
        for row in result.sections:
            if row.machine == machine:
                entry = dict(zip(SECTION_COLUMNS, _section_values(row)))
                entry["hmean (AUC (source), AUC (target), pAUC)"] = row.hmean
                for domain in DOMAINS:
                    counts = getattr(row, domain)
                    entry[f"n_normal ({domain})"] = counts.n_normal
                    entry[f"n_anomaly ({domain})"] = counts.n_anomaly
                sections[row.section] = entry
        machine_types[machine] = {"sections": sections, **_summary_dict(summary)}
    return {
        "dataset": result.dataset,
        "pauc_definition": "McClish-standardised partial AUC (sklearn roc_auc_score max_fpr)",
        "max_fpr": result.max_fpr,
        "auc_definition": "AUC (d): normal clips of domain d plus all anomalous clips",
        "source_target_harmonic_means": result.type_split,
        "machine_types": machine_types,
        "overall": _summary_dict(result.overall),
        "official_score": result.official_score,
        "official_score_definition": (
            "harmonic mean of every AUC (source), AUC (target) and pAUC, each floored at "
            "machine epsilon"
        ),
        "official_score_ci95": result.official_score_ci95,
    }


def write_results(result: DomainShiftResult, out_dir) -> List[Path]:
    """Write ``result.csv``, ``result.md`` and ``result.json`` atomically into ``out_dir``."""
    return write_result_files(Path(out_dir) / "result", format_result_csv(result),
                              format_markdown(result), result_to_dict(result))
