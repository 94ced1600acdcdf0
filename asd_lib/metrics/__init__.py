"""Official DCASE Task 2 metrics: AUC, McClish pAUC, per-year scoring (see EVALUATION.md)."""
from asd_lib.metrics.auc import partial_auc, roc_auc, roc_curve

__all__ = ["partial_auc", "roc_auc", "roc_curve"]
