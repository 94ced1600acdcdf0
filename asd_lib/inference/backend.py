"""Embedding back-ends in stage 4: one back-end per (machine type, section), fitted on the
embeddings of that section's training clips, with the domains and classes the experiment
was trained with.

A clip's score is the back-end's score of its embedding; for a model conditioned on
attribute texts, the minimum over the clip's embeddings, one per candidate text
(:mod:`asd_lib.inference.forward`). Training clips are scored as test clips would be, each
leaving its own row out of what the back-end memorises
(:meth:`asd_lib.backends.base.Backend.score`).
"""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np

from asd_lib.backends import BACKENDS
from asd_lib.backends.base import Backend
from asd_lib.experiment import Group


def fit_backends(name: str, conf: dict, embeddings: np.ndarray, groups: Sequence[Group],
                 domains: Sequence[str], classes: Sequence[str]) -> Dict[Group, Backend]:
    """A back-end per group, fitted on the rows of ``embeddings`` ``[N, E]`` of that group."""
    members = defaultdict(list)
    for i, group in enumerate(groups):
        members[group].append(i)
    return {group: BACKENDS.build(name, **conf).fit(
                embeddings[rows], [domains[i] for i in rows], [classes[i] for i in rows])
            for group, rows in sorted(members.items())}


def backend_scores(backends: Dict[Group, Backend], groups: Sequence[Group],
                   candidates: Sequence[np.ndarray],
                   fitted_rows: Optional[Sequence[int]] = None) -> List[np.ndarray]:
    """Scores ``[T_i]`` of every clip's candidate embeddings ``candidates[i]`` ``[T_i, E]``
    by its group's back-end. ``fitted_rows[i]``: the clip's row within its group's fitted
    embeddings (training clips), left out of the back-end's memory."""
    members = defaultdict(list)
    for i, group in enumerate(groups):
        members[group].append(i)
    scores: List[np.ndarray] = [np.empty(0)] * len(groups)
    for group, rows in sorted(members.items()):
        if group not in backends:
            raise ValueError(f"no training clips of {group[0]} {group[1]} to fit the back-end "
                             "on; score sets of the sections the experiment was trained on")
        stacked = np.concatenate([candidates[i] for i in rows])
        owner = np.repeat(np.arange(len(rows)), [len(candidates[i]) for i in rows])
        exclude = None
        if fitted_rows is not None:
            exclude = np.asarray([fitted_rows[rows[j]] for j in owner], dtype=np.int64)
        flat = backends[group].score(stacked, exclude)
        for j, i in enumerate(rows):
            scores[i] = flat[owner == j]
    return scores


def rows_within_groups(groups: Sequence[Group]) -> List[int]:
    """Each clip's index among the clips of its group, in order (the row of its embedding
    in the group's fitted matrix)."""
    seen: Dict[Group, int] = defaultdict(int)
    rows = []
    for group in groups:
        rows.append(seen[group])
        seen[group] += 1
    return rows
