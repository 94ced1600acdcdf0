"""Training objectives: the loss terms a stage lists by name.

Each objective is called as ``objective(embedding, labels, head) -> (loss, logits)``,
where ``head`` is the experiment's classification head (e.g. ArcFace) and ``logits``
(or ``None``) feed the accuracy statistics.
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

    def __call__(self, embedding, labels, head):
        logits = head(embedding, labels)
        return F.cross_entropy(logits, labels), logits
