"""The headline numbers of each official evaluator, computed for many resampled copies of
a test set at once (the paired bootstrap of :mod:`asd_lib.report.compare`).

A scored set is read with the evaluator's own loader (so the clips, their order and every
check are the evaluator's) into a :class:`ClipLayout` (per clip its machine type and
section, domain and label) and a score vector. A resample keeps the labels of every
position and draws its clip within the position's (machine type, section, domain, label)
stratum (:func:`stratified_indices`), so each resampled copy has the original's group
sizes and every AUC stays defined; its scores are one row of a matrix, and the headline
functions below compute the evaluator's headline numbers (the ``headline`` of the corpus's
scorer, in that order) for every row with :func:`asd_lib.metrics.ranked_auc.roc_areas`:

- DCASE 2020 (:mod:`asd_lib.metrics.dcase2020`, protocol ``per_id``): AUC and pAUC per
  machine ID; per type their means and mAUC, the minimum AUC; the means over types;
- DCASE 2021 (:mod:`asd_lib.metrics.dcase2021`): AUC and pAUC per (type, section, domain)
  over that domain's clips; the floored harmonic means of every AUC and pAUC (official
  score), of the source AUCs, of the target AUCs and of the pAUCs;
- DCASE 2022-2025 (:mod:`asd_lib.metrics.domain_shift`): per (type, section) AUC (source)
  and AUC (target) over that domain's normal clips and all anomalous clips, pAUC over all
  clips; the floored harmonic means of all three lists (official score), of each AUC list
  and of the pAUC list (listed twice, as the evaluators do).

On the unresampled scores these equal the official result.json's headline numbers (the
tests check it to 1e-12).
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from asd_lib.metrics import dcase2020, dcase2021, domain_shift
from asd_lib.metrics.common import DOMAINS, floored_hmean
from asd_lib.metrics.ranked_auc import roc_areas


@dataclass(frozen=True)
class ClipLayout:
    """The test clips of one set in the evaluator's order: per clip ``section`` (an index
    into ``sections``, the (machine type, section) pairs), ``domain`` (0 source, 1 target)
    and ``label`` (1 anomaly, 0 normal)."""

    sections: Tuple[Tuple[str, str], ...]
    section: np.ndarray
    domain: np.ndarray
    label: np.ndarray

    def strata(self) -> np.ndarray:
        """Per clip, the index of its (machine type, section, domain, label) stratum."""
        keys = np.stack([self.section, self.domain, self.label], axis=1)
        return np.unique(keys, axis=0, return_inverse=True)[1].ravel()


ScoredClips = Tuple[ClipLayout, np.ndarray]


@dataclass(frozen=True)
class ResampledHeadline:
    """How a corpus's headline numbers are bootstrapped: ``load(data_dir, score_dir)``
    gives the scored set (None without ground truth) and ``headline(layout, scores)`` the
    headline numbers of every row of a ``(rows, clips)`` score matrix as a
    ``(rows, numbers)`` array."""

    load: Callable[..., Optional[ScoredClips]]
    headline: Callable[[ClipLayout, np.ndarray], np.ndarray]


def stratified_indices(strata: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, clips)`` clip indices: in each row, every position gets a clip drawn
    with replacement, uniformly, from the clips of its own stratum; strata are drawn in
    ascending order from ``numpy.random.default_rng(seed)``."""
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    indices = np.empty((resamples, strata.size), dtype=np.intp)
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        indices[:, members] = members[rng.integers(0, members.size,
                                                   size=(resamples, members.size))]
    return indices


def _layout(sections: List[Tuple[str, str]], parts: List[Tuple[int, np.ndarray, np.ndarray]]
            ) -> ClipLayout:
    """A layout from (section index, domains, labels) blocks in the evaluator's order."""
    return ClipLayout(
        sections=tuple(sections),
        section=np.concatenate([np.full(y.size, k) for k, _, y in parts]),
        domain=np.concatenate([np.asarray(d, dtype=int) for _, d, _ in parts]),
        label=np.concatenate([np.asarray(y, dtype=int) for _, _, y in parts]),
    )


# ------------------------------------------------------------------------- DCASE 2020


def load_dcase2020(data_dir, score_dir) -> Optional[ScoredClips]:
    groups = dcase2020.load_scored_groups(data_dir, score_dir)
    if groups is None:
        return None
    sections = list(groups)
    parts = [(k, np.zeros(groups[g][0].size), groups[g][0]) for k, g in enumerate(sections)]
    return _layout(sections, parts), np.concatenate([groups[g][1] for g in sections])


def headline_dcase2020(layout: ClipLayout, scores: np.ndarray,
                       max_fpr: float = dcase2020.MAX_FPR) -> np.ndarray:
    """AUC, pAUC and mAUC (means over machine types) of every row of ``scores``."""
    per_type: Dict[str, List[Tuple[np.ndarray, np.ndarray]]] = {}
    for k, (machine, _) in enumerate(layout.sections):
        columns = layout.section == k
        per_type.setdefault(machine, []).append(
            roc_areas(layout.label[columns], scores[:, columns], max_fpr))
    aucs = [np.mean([auc for auc, _ in ids], axis=0) for ids in per_type.values()]
    paucs = [np.mean([pauc for _, pauc in ids], axis=0) for ids in per_type.values()]
    maucs = [np.min([auc for auc, _ in ids], axis=0) for ids in per_type.values()]
    return np.stack([np.mean(aucs, axis=0), np.mean(paucs, axis=0), np.mean(maucs, axis=0)],
                    axis=1)


# ------------------------------------------------------------------------- DCASE 2021


def load_dcase2021(data_dir, score_dir) -> Optional[ScoredClips]:
    units = dcase2021.load_units(data_dir, score_dir)
    if units is None:
        return None
    sections = list(dict.fromkeys((m, s) for m, s, _ in units))
    parts = [(sections.index((m, s)), np.full(clips.y_true.size, DOMAINS.index(d)),
              clips.y_true) for (m, s, d), clips in units.items()]
    return _layout(sections, parts), np.concatenate([c.score for c in units.values()])


def headline_dcase2021(layout: ClipLayout, scores: np.ndarray,
                       max_fpr: float = dcase2021.MAX_FPR) -> np.ndarray:
    """Official score, source / target harmonic mean AUC and harmonic mean pAUC of every
    row of ``scores`` (the 2021 evaluator's overall rows)."""
    aucs: Dict[int, List[np.ndarray]] = {0: [], 1: []}
    paucs = []
    for k in range(len(layout.sections)):
        for domain in (0, 1):
            columns = (layout.section == k) & (layout.domain == domain)
            if columns.any():
                auc, pauc = roc_areas(layout.label[columns], scores[:, columns], max_fpr)
                aucs[domain].append(auc)
                paucs.append(pauc)
    every = np.stack(aucs[0] + aucs[1] + paucs, axis=1)
    return np.stack([floored_hmean(every, axis=1),
                     floored_hmean(np.stack(aucs[0], axis=1), axis=1),
                     floored_hmean(np.stack(aucs[1], axis=1), axis=1),
                     floored_hmean(np.stack(paucs, axis=1), axis=1)], axis=1)


# -------------------------------------------------------------------- DCASE 2022-2025


def domain_shift_loader(title: str) -> Callable[..., Optional[ScoredClips]]:
    """The loader of a 2022-2025 evaluator (``title`` names the corpus in its errors)."""
    def load(data_dir, score_dir) -> Optional[ScoredClips]:
        sections = domain_shift.load_sections(data_dir, score_dir, title)
        if sections is None:
            return None
        keys = list(sections)
        parts = [(k, sections[g].domain, sections[g].y_true) for k, g in enumerate(keys)]
        return _layout(keys, parts), np.concatenate([sections[g].score for g in keys])
    return load


def headline_domain_shift(layout: ClipLayout, scores: np.ndarray,
                          max_fpr: float = domain_shift.MAX_FPR) -> np.ndarray:
    """Official score, source / target harmonic mean AUC and harmonic mean pAUC of every
    row of ``scores`` (the 2022-2025 evaluators' overall rows)."""
    aucs: Dict[int, List[np.ndarray]] = {0: [], 1: []}
    paucs = []
    for k in range(len(layout.sections)):
        columns = layout.section == k
        labels, rows = layout.label[columns], scores[:, columns]
        for domain in (0, 1):
            keep = (layout.domain[columns] == domain) | (labels == 1)
            aucs[domain].append(roc_areas(labels[keep], rows[:, keep], max_fpr)[0])
        paucs.append(roc_areas(labels, rows, max_fpr)[1])
    return np.stack([floored_hmean(np.stack(aucs[0] + aucs[1] + paucs, axis=1), axis=1),
                     floored_hmean(np.stack(aucs[0], axis=1), axis=1),
                     floored_hmean(np.stack(aucs[1], axis=1), axis=1),
                     floored_hmean(np.stack(paucs * 2, axis=1), axis=1)], axis=1)


DCASE2020 = ResampledHeadline(load_dcase2020, headline_dcase2020)
DCASE2021 = ResampledHeadline(load_dcase2021, headline_dcase2021)


def domain_shift_resampled(title: str) -> ResampledHeadline:
    return ResampledHeadline(domain_shift_loader(title), headline_domain_shift)
