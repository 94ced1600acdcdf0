"""Noisy SupCon on a Feature Perturbation Head of its own, the classifier left unperturbed.

An asd_lib variant of OS-SCL (Huang, Fang, He, "Noise supervised contrastive learning and
feature-perturbed for anomalous sound detection"), neither the paper's arrangement nor its
code's: there the FPH ends the model (``osscl`` with ``perturbation_head``), so that
ArcFace (Eq. 2) and the anomaly score read the perturbed embedding too. Here ``fph_supcon``
owns an FPH (:class:`asd_lib.models.fph.FeaturePerturbationHead`) and applies SupCon
(Eq. 1, labels ``y_a`` of the mixed clips) to the perturbed embeddings only, while the
classifier (Noisy-ArcMix) and the score read the embedding itself; use it with
``model_conf: {perturbation_head: null}``. The head trains with the model but is not part
of it, so inference never sees it.
"""
from typing import Optional

from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.losses.supcon import SupConTerm
from asd_lib.models.fph import FeaturePerturbationHead


@OBJECTIVES.register("fph_supcon")
class FPHSupCon(SupConTerm):
    """Noisy SupCon on FPH-perturbed embeddings; the head trains with the model.

    ``held_out`` defaults to false: the OS-SCL code picks the best epoch by the held-out
    classification loss alone.
    """

    def __init__(self, embedding_dim: int = 128, hidden_dim: int = 64,
                 activation: str = "relu", temperature: float = 0.02,
                 base_temperature: Optional[float] = None, held_out: bool = False):
        super().__init__(temperature, base_temperature, held_out)
        self.head = FeaturePerturbationHead(embedding_dim, hidden_dim, activation)

    def forward(self, step, head):
        return self.contrast(self.head(step.embedding), step.labels), None
