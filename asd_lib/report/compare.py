"""Does system A beat system B on the same test set? A paired comparison of the corpus's
headline numbers (the ``headline`` of its scorer, e.g. AUC, pAUC and mAUC for DCASE 2020,
the official score and the harmonic-mean AUC (source), AUC (target) and pAUC for
2021-2025).

Per set and headline number:

- the value of A and of B (the mean over the trials of a group, :mod:`asd_lib.report.systems`)
  and their difference A - B, computed as the resamples are (equal to the official
  result.json's numbers; the tests check it to 1e-12);
- a confidence interval of A - B from a paired bootstrap over the test clips (Efron &
  Tibshirani, An Introduction to the Bootstrap, 1993, ch. 13, the percentile interval):
  each resample draws clips with replacement within each (machine type, section, domain,
  label) stratum (so every AUC of the evaluator stays defined; stratifying is our choice),
  the same clip indices for A, B and every trial of a group, whose numbers are averaged per
  resample; the numbers are recomputed as the official evaluator defines them
  (:mod:`asd_lib.metrics.resampled`);
- with at least two trials on each side, the two-sided Welch t-test (Welch, Biometrika
  34(1/2), 1947; ``scipy.stats.ttest_ind(equal_var=False)``) of the trials' values
  (:func:`welch_test`);
- the verdict, from the bootstrap interval alone: "A better" when it lies above 0, "B
  better" when below 0, otherwise "no significant difference at <confidence> %". The
  Welch test is reported beside it, not used (our choice): it measures the run-to-run
  variation of training on one fixed test set, not the sampling of the test clips that
  the bootstrap measures, and with a few trials it has little power.

Every headline number is higher-is-better. Both systems must be of one corpus and scored on
the same clips of each set (the ``utt2score`` of every trial); the ground truth is
``<data_root>/<set>/``.
"""
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import scipy.stats

from asd_lib.corpus import get_corpus
from asd_lib.metrics.resampled import ClipLayout, ResampledHeadline, stratified_indices
from asd_lib.report.systems import System, resolve_system, scored_clips, scored_sets
from asd_lib.utils.fileio import atomic_write


@dataclass(frozen=True)
class Welch:
    """Two-sided Welch t-test of A's against B's trial values; ``note`` explains a
    degenerate case (statistic and df are then None)."""

    statistic: Optional[float]
    p_value: float
    df: Optional[float]
    note: str = ""


@dataclass(frozen=True)
class NumberComparison:
    """One headline number of one set (fractions, not %)."""

    title: str
    a: float
    b: float
    difference: float
    ci: Tuple[float, float]
    verdict: str
    a_trials: Tuple[float, ...]
    b_trials: Tuple[float, ...]
    welch: Optional[Welch]


@dataclass(frozen=True)
class SetComparison:
    dset: str
    clips: int
    numbers: Tuple[NumberComparison, ...]


@dataclass(frozen=True)
class Comparison:
    a: System
    b: System
    dataset: str
    resamples: int
    seed: int
    confidence: float
    sets: Tuple[SetComparison, ...]


def welch_test(a_values: Sequence[float], b_values: Sequence[float]) -> Optional[Welch]:
    """Welch's test of two groups of trial values; None unless both have two or more.

    Both groups without variance (every trial of a side equal): the statistic is undefined,
    so p = 1 with the note "identical trials" when the two values are equal, and p = 0 (the
    limit of the test as the variances shrink, as scipy also returns) when they differ."""
    a, b = np.asarray(a_values, dtype=float), np.asarray(b_values, dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    if a.min() == a.max() and b.min() == b.max():
        if a[0] == b[0]:
            return Welch(None, 1.0, None, "identical trials")
        return Welch(None, 0.0, None, "no variance on either side, values differ")
    with warnings.catch_warnings():  # scipy's precision warning for a constant side
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.ttest_ind(a, b, equal_var=False)
    return Welch(float(result.statistic), float(result.pvalue), float(result.df))


def percent(confidence: float) -> str:
    return f"{100 * confidence:g} %"


def verdict(ci: Tuple[float, float], confidence: float) -> str:
    """"A better" / "B better" when the interval of A - B excludes 0, else no difference."""
    if ci[0] > 0:
        return "A better"
    if ci[1] < 0:
        return "B better"
    return f"no significant difference at {percent(confidence)}"


def percentile_interval(differences: np.ndarray, confidence: float) -> np.ndarray:
    """``(2, numbers)``: the (1 - c) / 2 and (1 + c) / 2 percentiles of each column (numpy's
    linear interpolation between order statistics)."""
    return np.percentile(differences, [50 * (1 - confidence), 50 * (1 + confidence)], axis=0)


def _load_trials(resampled: ResampledHeadline, system: System, dset: str, data_dir: Path
                 ) -> Tuple[ClipLayout, List[np.ndarray]]:
    """The clips of ``data_dir`` (the same for every system scored on it) and the score
    vector of each trial, read by the evaluator's loader."""
    loaded = [resampled.load(data_dir, directory / dset) for directory in system.dirs]
    if loaded[0] is None:
        raise ValueError(f"{data_dir}: no utt2label, so {dset} has no ground truth to "
                         "compare on; leave it out of --sets")
    return loaded[0][0], [scores for _, scores in loaded]


def _check_same_clips(a: System, b: System, dset: str) -> int:
    """The clip count of ``dset``; ValueError unless every trial of both scored the same."""
    dirs = list(a.dirs) + list(b.dirs)
    reference = scored_clips(dirs[0] / dset)
    for directory in dirs[1:]:
        clips = scored_clips(directory / dset)
        if clips != reference:
            only_first, only_other = sorted(reference - clips), sorted(clips - reference)
            raise ValueError(
                f"{dirs[0] / dset} and {directory / dset} scored different test clips "
                f"({len(reference)} and {len(clips)} in utt2score; {len(only_first)} only in "
                f"the first, e.g. {only_first[:3]}; {len(only_other)} only in the second, "
                f"e.g. {only_other[:3]}); a paired comparison needs both systems scored on "
                "the same data dir: re-run stage 4 of one of them on it")
    return len(reference)


def compare_set(a: System, b: System, dset: str, data_dir: Path, resamples: int, seed: int,
                confidence: float) -> SetComparison:
    """Every headline number of ``dset`` for A against B (module docstring)."""
    scorer = get_corpus(a.dataset).scorer
    clips = _check_same_clips(a, b, dset)
    layout, a_scores = _load_trials(scorer.resampled, a, dset, data_dir)
    _, b_scores = _load_trials(scorer.resampled, b, dset, data_dir)
    headline = scorer.resampled.headline
    indices = stratified_indices(layout.strata(), resamples, seed)

    def side(scores: List[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        trials = np.concatenate([headline(layout, s[None, :]) for s in scores])
        boot = np.mean([headline(layout, s[indices]) for s in scores], axis=0)
        return trials, boot

    a_trials, a_boot = side(a_scores)
    b_trials, b_boot = side(b_scores)
    low, high = percentile_interval(a_boot - b_boot, confidence)
    numbers = []
    for j, (title, _) in enumerate(scorer.headline):
        ci = (float(low[j]), float(high[j]))
        a_mean, b_mean = float(np.mean(a_trials[:, j])), float(np.mean(b_trials[:, j]))
        numbers.append(NumberComparison(
            title=title, a=a_mean, b=b_mean, difference=a_mean - b_mean, ci=ci,
            verdict=verdict(ci, confidence),
            a_trials=tuple(map(float, a_trials[:, j])), b_trials=tuple(map(float, b_trials[:, j])),
            welch=welch_test(a_trials[:, j], b_trials[:, j])))
    return SetComparison(dset, clips, tuple(numbers))


def _choose_sets(a: System, b: System, sets: Optional[Sequence[str]], data_root: Path
                 ) -> List[str]:
    a_sets, b_sets = scored_sets(a), scored_sets(b)
    if sets:
        for dset in sets:
            for system, scored in ((a, a_sets), (b, b_sets)):
                if dset not in scored:
                    raise ValueError(f"--sets {dset}: {system.spec} has not scored it (no "
                                     f"<inference dir>/{dset}/ with utt2score and official "
                                     "CSVs in every trial); run stage 4 on it or leave it out")
            if not (data_root / dset / "utt2label").is_file():
                raise ValueError(f"--sets {dset}: {data_root / dset}/utt2label is missing, so "
                                 "it has no ground truth to compare on; leave it out")
        return list(sets)
    common = sorted(s for s in a_sets & b_sets if (data_root / s / "utt2label").is_file())
    if not common:
        raise ValueError(f"no set to compare: {a.spec} scored {sorted(a_sets)}, {b.spec} "
                         f"scored {sorted(b_sets)}, and a set needs both and ground truth "
                         f"({data_root}/<set>/utt2label; see --data_root)")
    return common


def compare(a_spec: str, b_spec: str, sets: Optional[Sequence[str]] = None,
            data_root="dump", resamples: int = 1000, seed: int = 0,
            confidence: float = 0.95) -> Comparison:
    """Compare the systems ``a_spec`` and ``b_spec`` on ``sets`` (default: every set both
    scored that has ground truth under ``data_root``)."""
    if resamples < 1:
        raise ValueError(f"--resamples {resamples}: give a positive count, e.g. 1000")
    if not 0 < confidence < 1:
        raise ValueError(f"--confidence {confidence}: give a level between 0 and 1, e.g. 0.95")
    a, b = resolve_system(a_spec), resolve_system(b_spec)
    if a.dataset != b.dataset:
        raise ValueError(f"{a_spec} is of {a.dataset} but {b_spec} of {b.dataset}; compare "
                         "systems of one corpus")
    scorer = get_corpus(a.dataset).scorer
    if scorer.resampled is None:
        raise ValueError(f"{a.dataset}: its scorer has no resampled headline numbers "
                         "(asd_lib.metrics.resampled), so it cannot be compared")
    data_root = Path(data_root)
    results = tuple(compare_set(a, b, dset, data_root / dset, resamples, seed, confidence)
                    for dset in _choose_sets(a, b, sets, data_root))
    return Comparison(a, b, a.dataset, resamples, seed, confidence, results)


# ------------------------------------------------------------------------- outputs


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def _welch_cell(welch: Optional[Welch]) -> str:
    if welch is None:
        return ""
    return f"{welch.p_value:.3g}" + (f" ({welch.note})" if welch.note else "")


def _system_line(name: str, system: System) -> str:
    trials = len(system.dirs)
    dirs = ", ".join(f"`{d}`" for d in system.dirs)
    return f"- {name} = `{system.spec}`: {trials} trial{'s' if trials > 1 else ''} ({dirs})"


def format_markdown(comparison: Comparison) -> str:
    """The comparison as a Markdown table in % with its definitions."""
    level = percent(comparison.confidence)
    title = get_corpus(comparison.dataset).title
    note = (
        f"Paired comparison on {title}, official headline numbers in % (A and B: mean over "
        f"their trials). {level} CI: percentile interval of A - B over "
        f"{comparison.resamples} paired bootstrap resamples of the test clips (drawn with "
        "replacement within each machine type, section, domain and label; the same clips "
        f"for A and B; seed {comparison.seed}). Welch p: two-sided Welch t-test over the "
        "trials, with two or more on each side (reported, not used in the verdict). Verdict: "
        "from the CI.")
    lines = [note, "", _system_line("A", comparison.a), _system_line("B", comparison.b), "",
             f"| Set | Number | A | B | A - B | {level} CI | Welch p | Verdict |",
             "|:--|:--|--:|--:|--:|:--|--:|:--|"]
    for result in comparison.sets:
        for n in result.numbers:
            lines.append(f"| {result.dset} | {n.title} | {_pct(n.a)} | {_pct(n.b)} | "
                         f"{_pct(n.difference)} | [{_pct(n.ci[0])}, {_pct(n.ci[1])}] | "
                         f"{_welch_cell(n.welch)} | {n.verdict} |")
    return "\n".join(lines) + "\n"


def _finite(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else value


def to_dict(comparison: Comparison) -> dict:
    """Every number of ``comparison`` (fractions, not %) for its JSON file."""
    def system(s: System) -> dict:
        return {"spec": s.spec, "inference_dirs": [str(d) for d in s.dirs]}

    def number(n: NumberComparison) -> dict:
        welch = None if n.welch is None else {
            "statistic": _finite(n.welch.statistic), "p_value": n.welch.p_value,
            "df": _finite(n.welch.df), "note": n.welch.note}
        return {"A": n.a, "B": n.b, "difference": n.difference, "ci": list(n.ci),
                "verdict": n.verdict, "A_trials": list(n.a_trials),
                "B_trials": list(n.b_trials), "welch": welch}

    return {
        "dataset": comparison.dataset,
        "A": system(comparison.a),
        "B": system(comparison.b),
        "resamples": comparison.resamples,
        "seed": comparison.seed,
        "confidence": comparison.confidence,
        "method": "paired bootstrap over test clips, stratified by machine type, section, "
                  "domain and label; percentile interval of A - B; verdict from it",
        "sets": {r.dset: {"clips": r.clips, "numbers": {n.title: number(n) for n in r.numbers}}
                 for r in comparison.sets},
    }


def run_comparison(a_spec: str, b_spec: str, out: Optional[str] = None,
                   json_out: Optional[str] = None, **options) -> str:
    """:func:`compare` (``options`` are its keyword arguments), the Markdown table written
    to ``out`` and the JSON to ``json_out`` where given; returns the table."""
    comparison = compare(a_spec, b_spec, **options)
    text = format_markdown(comparison)
    if out is not None:
        with atomic_write(out) as f:
            f.write(text)
    if json_out is not None:
        with atomic_write(json_out) as f:
            f.write(json.dumps(to_dict(comparison), indent=2) + "\n")
    return text
