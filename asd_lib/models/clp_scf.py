"""CLP-SCF: Guan, Xiao, Liu, Zhu, Wang, "Anomalous sound detection using audio
representation with machine ID based contrastive learning pretraining", ICASSP 2023.

The STgram-MFN backbone (:class:`asd_lib.models.stgram_mfn.STgramMFN`) followed by an MLP
projector; the projector output is the embedding.  Stage 1 (contrastive learning
pretraining, CLP) trains backbone + projector with SupCon over machine-ID labels; stage 2
(supervised classification fine-tuning, SCF) puts the ArcFace classifier on the projector
output and fine-tunes everything (``conf/tuning/train_clp_scf.yaml``).

Projector: the paper gives no sizes and no code is public; we use the SupCon reference
projector (Khosla et al., NeurIPS 2020, code ``SupConResNet`` with ``head='mlp'``):
Linear(E, hidden) + ReLU + Linear(hidden, out), with hidden = out = E = 128 by default.
"""
from typing import Optional

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
    """Waveform ``[B, num_samples]`` -> projector output ``[B, projector_dim]``."""

    def __init__(
        self,
        num_samples: int,
        sample_rate: int = 16000,
        embedding_dim: int = 128,
        table: str = "paper",
        frontend_conf: Optional[dict] = None,
        projector_hidden_dim: int = 128,
        projector_dim: int = 128,
    ):
        super().__init__()
        self.backbone = STgramMFN(num_samples, sample_rate, embedding_dim, table, frontend_conf)
        self.projector = MLPProjector(embedding_dim, projector_hidden_dim, projector_dim)
        self.embedding_dim = projector_dim

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.projector(self.backbone(wave))
