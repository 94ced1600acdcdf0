"""CLP-SCF: Guan, Xiao, Liu, Zhu, Wang, "Anomalous sound detection using audio
representation with machine ID based contrastive learning pretraining", ICASSP 2023.

Fig. 1: the STgram-MFN backbone (:class:`asd_lib.models.stgram_mfn.STgramMFN`), an MLP
projector P giving the audio embedding ``z_i``, and, for fine-tuning, a classifier C after
the projector giving the latent feature ``h_i`` (Sec. 2.2). Stage 1 (contrastive learning
pretraining, CLP) trains backbone + projector with the CL-Meta loss (Eq. 2, SupCon over
machine-ID labels) on ``z_i``; stage 2 (self-supervised classification fine-tuning, SCF)
fine-tunes everything with ArcFace on ``h_i`` (Eq. 3), and the anomaly score is
``-log p(ID)`` from those ArcFace logits (``conf/tuning/train_clp_scf.yaml``).

The model returns ``{"embedding": h_i, "projection": z_i}``: the classification head and
the score read ``h_i``; the stage-1 SupCon term reads ``z_i`` (``output: projection``).
C is built from the start so that stage 2 continues from the stage-1 weights; no stage-1
loss reaches it, so it begins fine-tuning at its initial weights.

Sizes: the paper names P an MLP and C "a simple classifier" and gives no sizes, and no
code is public. Our choices: P is the projector of the SupCon reference code (Khosla et
al., NeurIPS 2020, ``SupConResNet`` with ``head='mlp'``), Linear(E, 128) + ReLU +
Linear(128, 128); C is one Linear(128, 128) layer with bias, the smallest map that gives
``h_i`` its own learned space, without an activation that would confine ``h_i`` to a
cone before ArcFace normalises it.
"""
from typing import Dict, Optional

import torch
from torch import nn

from asd_lib.models.registry import MODELS
from asd_lib.models.stgram_mfn import STgramMFN


class MLPProjector(nn.Sequential):
    """Linear(in, hidden) + ReLU + Linear(hidden, out), both with bias."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, out_dim))


@MODELS.register("clp_scf")
class CLPSCF(nn.Module):
    """Waveform ``[B, num_samples]`` -> ``{"embedding": h [B, classifier_dim],
    "projection": z [B, projector_dim]}``."""

    def __init__(
        self,
        num_samples: int,
        sample_rate: int = 16000,
        embedding_dim: int = 128,
        table: str = "paper",
        frontend_conf: Optional[dict] = None,
        projector_hidden_dim: int = 128,
        projector_dim: int = 128,
        classifier_dim: int = 128,
    ):
        super().__init__()
        self.backbone = STgramMFN(num_samples, sample_rate, embedding_dim, table, frontend_conf)
        self.projector = MLPProjector(embedding_dim, projector_hidden_dim, projector_dim)
        self.classifier = nn.Linear(projector_dim, classifier_dim)
        self.embedding_dim = classifier_dim

    def forward(self, wave: torch.Tensor) -> Dict[str, torch.Tensor]:
        projection = self.projector(self.backbone(wave))
        return {"embedding": self.classifier(projection), "projection": projection}
