"""Official DCASE Task 2 metrics: AUC, McClish pAUC (:mod:`asd_lib.metrics.auc`) and the
scorer of each evaluator: :mod:`~asd_lib.metrics.dcase2020`, :mod:`~asd_lib.metrics.dcase2021`
and, for 2022-2025, :mod:`~asd_lib.metrics.domain_shift`."""
from asd_lib.metrics.auc import partial_auc, roc_auc, roc_curve

__all__ = ["partial_auc", "roc_auc", "roc_curve"]
