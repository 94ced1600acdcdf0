"""Training objectives: the loss terms a stage lists by name.

Each objective is called as ``objective(step, head) -> (loss, logits)`` with the batch's
:class:`asd_lib.data.step.Step` (model outputs in ``step.out``, labels, mixup state) and
the experiment's classification head (``None`` for head-free models); ``logits`` (or
``None``) feed the accuracy statistics. An objective with parameters of its own is an
``nn.Module``: the trainer optimises and checkpoints it with the model.
"""
import torch.nn.functional as F

from asd_lib.utils.registry import Registry

OBJECTIVES = Registry("objective")


@OBJECTIVES.register("margin_cross_entropy")
class MarginCrossEntropy:
    """Cross-entropy over the head's logits with the margin at the true class.

    With an ArcFace head this is the additive angular margin loss (Deng et al., CVPR 2019,
    Eq. 3), the training loss of STgram-MFN (Liu et al., ICASSP 2022).
    """

    def __call__(self, step, head):
        logits = head(step.embedding, step.labels)
        return F.cross_entropy(logits, step.labels), logits
