"""OS-SCL backbones: Huang, Fang, He, "Noise supervised contrastive learning and
feature-perturbed for anomalous sound detection" (arXiv 2509.13853; public code
huangswt/OS-SCL, ``SCLTFSTgramMFN``).

``inputs`` picks the stacked maps: ``[mel, tgram, tfgram]`` (TFSTgram, Eq. 3, the paper's
best; code ``--fussion 1``) or ``[mel]`` (mel only, ``--fussion 2``); Liu_8 MobileFaceNet.

The Feature Perturbation Head (Sec. II-A, :class:`asd_lib.models.fph.FeaturePerturbationHead`)
ends the model: the perturbed, L2-normalised embedding ``x_emb`` is what both loss terms
read (noisy SupCon, Eq. 1, and Noisy-ArcMix, Eq. 2) and what the ArcFace head scores at
inference, as in the paper (Table VI ablates it as "w/o FPH") and the code.
``perturbation_head`` is its activation (``relu``, the paper's for TFSTgram;
``leaky_relu``, LeakyReLU(0.01), for the mel-only model) or ``None`` for the Table VI
model without FPH; ``perturbation_dim`` is its compression R (64; Table VI tries 4-128).

Log-mel: the paper does not give its log; the code's ``AmplitudeToDB`` computes
``10 log10(max(S, 1e-10))`` (``log: clamp``), so digital silence is -100 dB.

Parameters (10 s clips, 128 x 313 maps): 1,366,998 for TFSTgram with the FPH (1,350,038
without) and 886,720 for the mel-only model (869,760 without), the ArcFace head's
41 x 128 weights apart. The code's model also builds, and never uses, the rest of the PANNs
Wavegram-Logmel network inside its TFgram module (79,797,225 parameters: ``pre_block4``,
the 2-D conv blocks, ``fc1``, ``fc_audioset``), computes and discards MobileFaceNet's
``fc_out`` (Linear(128, 41)), and for the mel-only model computes and discards its
TgramNet and TFgram; none of these is built here.
"""
from typing import Optional, Sequence

import torch

from asd_lib.models.feature_stack import FeatureStackMFN
from asd_lib.models.fph import FeaturePerturbationHead
from asd_lib.models.registry import MODELS

TFSTGRAM_INPUTS = ("mel", "tgram", "tfgram")


@MODELS.register("osscl")
class OSSCLNet(FeatureStackMFN):
    """Waveform ``[B, num_samples]`` (+ ``mix``) -> FPH-perturbed embedding
    ``[B, embedding_dim]`` (the plain embedding when ``perturbation_head`` is ``None``)."""

    log_compression = {"log": "clamp"}

    def __init__(
        self,
        num_samples: int,
        sample_rate: int = 16000,
        inputs: Sequence[str] = TFSTGRAM_INPUTS,
        embedding_dim: int = 128,
        table: str = "liu8",
        mel_conf: Optional[dict] = None,
        tgram_conf: Optional[dict] = None,
        perturbation_head: Optional[str] = "relu",
        perturbation_dim: int = 64,
    ):
        super().__init__(num_samples, sample_rate, inputs, embedding_dim, table, mel_conf,
                         tgram_conf)
        self.perturbation = (None if perturbation_head is None else
                             FeaturePerturbationHead(embedding_dim, perturbation_dim,
                                                     activation=perturbation_head))

    def forward(self, wave: torch.Tensor, mix=None) -> torch.Tensor:
        embedding = super().forward(wave, mix)
        return embedding if self.perturbation is None else self.perturbation(embedding)
