"""OS-SCL backbones: Huang, Fang, He, "Noise supervised contrastive learning and
feature-perturbed for anomalous sound detection" (arXiv 2509.13853; public code
huangswt/OS-SCL, ``SCLTFSTgramMFN``).

``inputs`` picks the stacked maps: ``[mel, tgram, tfgram]`` (TFSTgram, the paper's best,
code ``--fussion 1``) or ``[mel]`` (mel only, ``--fussion 2``); Liu_8 MobileFaceNet.  The
loss terms are ``fph_supcon`` (noisy SupCon on the Feature Perturbation Head) and
``noisy_arcmix`` on the embedding.

``perturbation_head`` (``relu`` / ``leaky_relu``) is the public code's arrangement instead:
the FPH is part of the model, so ArcFace, SupCon (plain ``supcon`` objective) and the
anomaly score all read the perturbed, L2-normalised embedding.

Log-mel: the paper does not give its log; the code's ``AmplitudeToDB`` computes
``10 log10(max(S, 1e-10))`` (``log: clamp``), so digital silence is -100 dB.
"""
from typing import Optional, Sequence

import torch

from asd_lib.models.fph import FeaturePerturbationHead
from asd_lib.models.feature_stack import FeatureStackMFN
from asd_lib.models.registry import MODELS

TFSTGRAM_INPUTS = ("mel", "tgram", "tfgram")


@MODELS.register("osscl")
class OSSCLNet(FeatureStackMFN):
    """Waveform ``[B, num_samples]`` (+ ``mix``) -> embedding ``[B, embedding_dim]``."""

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
        perturbation_head: Optional[str] = None,
    ):
        super().__init__(num_samples, sample_rate, inputs, embedding_dim, table, mel_conf,
                         tgram_conf)
        self.perturbation = (None if perturbation_head is None else
                             FeaturePerturbationHead(embedding_dim, activation=perturbation_head))

    def forward(self, wave: torch.Tensor, mix=None) -> torch.Tensor:
        embedding = super().forward(wave, mix)
        return embedding if self.perturbation is None else self.perturbation(embedding)
