"""Label-free fusion of back-ends: each member's score standardised by its own training
scores, then the minimum (or mean) over members.

Source: the Z-MIN fusion of Zhou and Wang, "Scoring backends matter more than pooling: a
systematic study of training-free anomalous sound detection under domain shift",
arXiv:2606.19269, 2026: every back-end is z-normalised with the statistics of its
training-bank self-scores and the fused score is the minimum over back-ends. No test
label, anomaly or domain label is used, so the fusion can be fitted per section like any
back-end. Here, per (machine type, section):

1. every member m is fitted on the section's training clips;
2. its self-scores s_m(x_j) are leave-one-out scores (``score(x_train,
   exclude=arange(N))``: a clip is scored without itself where the member memorises
   clips, as fitted where it summarises them), and mu_m, sigma_m are their mean and
   standard deviation (population, ddof = 0; infinite self-scores, from a bank emptied
   by leaving a clip out, are skipped);
3. ``score(x) = combine_m (s_m(x) - mu_m) / sigma_m``, ``combine`` being ``min`` (the
   paper's) or ``mean`` (ours: an average, for members that disagree only by noise).

asd_lib's choices: ``sigma_m = 0`` (every self-score equal) divides by 1, logged, as such a
member has no spread to standardise; a fusion needs at least 2 members and no member may
itself be a ``fusion``.

``backend_conf``: ``backends``, a list of ``{name: <back-end>, conf: {...}}`` (``conf``
optional), each checked against the back-end registry; ``combine``: ``min`` or ``mean``.
"""
import logging
from collections.abc import Sequence as SequenceType
from typing import Any, Dict, List, Sequence

import numpy as np

from asd_lib.backends.base import Backend
from asd_lib.backends.registry import BACKENDS

logger = logging.getLogger(__name__)

COMBINE = ("min", "mean")
_NAME = "fusion"


@BACKENDS.register(_NAME)
class ScoreFusion(Backend):
    """``backends``: the members, ``[{name, conf}, ...]``; ``combine``: min or mean."""

    def __init__(self, backends: Sequence[Dict[str, Any]], combine: str = "min"):
        if combine not in COMBINE:
            raise ValueError(f"fusion: backend_conf combine must be one of {COMBINE}, got "
                             f"{combine!r}")
        self.combine = combine
        self.members = _check_members(backends)
        self.fitted: List[Backend] = []
        self.means = self.scales = None

    def _fit(self, x, domains, classes):
        self.fitted, means, scales = [], [], []
        for name, conf in self.members:
            member = BACKENDS.build(name, **conf).fit(x, domains, classes)
            own = member.score(x, exclude=np.arange(len(x)))
            own = own[np.isfinite(own)]
            if not len(own):
                raise ValueError(f"fusion: member {name!r} gives no finite leave-one-out score "
                                 f"of the {len(x)} training clips; choose another member")
            scale = own.std()
            if not scale > 0:
                logger.warning("fusion: member %r scores every training clip %g; its scores "
                               "are centred but not scaled", name, own[0])
                scale = 1.0
            self.fitted.append(member)
            means.append(own.mean())
            scales.append(scale)
        self.means, self.scales = np.asarray(means), np.asarray(scales)

    def _score(self, x, exclude):
        standard = np.stack([(member.score(x, exclude) - mean) / scale for member, mean, scale
                             in zip(self.fitted, self.means, self.scales)])
        return standard.min(axis=0) if self.combine == "min" else standard.mean(axis=0)


def _check_members(backends) -> List[tuple]:
    """``[(name, checked conf), ...]`` of the ``backends`` list, or a ValueError (a
    :class:`~asd_lib.utils.config.ConfigError` from the registry) naming the member."""
    if isinstance(backends, (str, bytes, dict)) or not isinstance(backends, SequenceType):
        raise ValueError("fusion: backend_conf backends must be a list of {name: <back-end>, "
                         f"conf: {{...}}}}, got {backends!r}")
    if len(backends) < 2:
        raise ValueError(f"fusion: backend_conf backends names {len(backends)} back-end(s); "
                         "fuse at least 2 (a single back-end is its own config)")
    members = []
    for i, member in enumerate(backends):
        key = f"backend_conf.backends[{i}]"
        if not isinstance(member, dict) or "name" not in member:
            raise ValueError(f"{key}: expected {{name: <back-end>, conf: {{...}}}}, got "
                             f"{member!r}")
        unknown = sorted(set(member) - {"name", "conf"})
        if unknown:
            raise ValueError(f"{key}: unknown key(s) {unknown}; a member has name and conf")
        if member["name"] == _NAME:
            raise ValueError(f"{key}.name: a fusion cannot be a member of a fusion; list its "
                             "members here instead")
        conf = BACKENDS.check_conf(member["name"], member.get("conf"), f"{key}.name",
                                   f"{key}.conf")
        try:  # the member's own checks of its values
            BACKENDS.build(member["name"], **conf)
        except ValueError as err:
            raise ValueError(f"{key}.conf: {err}") from None
        members.append((member["name"], conf))
    return members
