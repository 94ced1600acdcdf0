"""The noisy SupCon term of OS-SCL on its own Feature Perturbation Head.

Huang, Fang, He, "Noise supervised contrastive learning and feature-perturbed for anomalous
sound detection": ``fph_supcon`` owns an FPH (:class:`asd_lib.models.fph.FeaturePerturbationHead`)
and applies SupCon (temperature 0.02, base temperature 0.07) with the labels ``y_a`` to the
perturbed embeddings of the mixed clips; the classifier (Noisy-ArcMix) reads the embedding
itself.
"""
from typing import Optional

from asd_lib.losses.objectives import OBJECTIVES
from asd_lib.losses.supcon import SupConTerm
from asd_lib.models.fph import FeaturePerturbationHead


@OBJECTIVES.register("fph_supcon")
class FPHSupCon(SupConTerm):
    """Noisy SupCon on FPH-perturbed embeddings (OS-SCL); the head trains with the model.

    ``held_out`` defaults to false: the OS-SCL code picks the best epoch by the held-out
    classification loss alone.
    """

    def __init__(self, embedding_dim: int = 128, hidden_dim: int = 64,
                 activation: str = "relu", temperature: float = 0.02,
                 base_temperature: Optional[float] = 0.07, held_out: bool = False):
        super().__init__(temperature, base_temperature, held_out)
        self.head = FeaturePerturbationHead(embedding_dim, hidden_dim, activation)

    def forward(self, step, head):
        return self.contrast(self.head(step.embedding), step.labels), None
