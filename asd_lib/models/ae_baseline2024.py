"""The DCASE 2023/2024 Task 2 autoencoder baseline: the 2020 network, PyTorch, and the
reconstruction-error vector for the selective Mahalanobis score.

Public code nttcslab/dcase2023_task2_baseline_ae (``networks/dcase2023t2_ae``,
``networks/criterion/mahala.py``, ``baseline.yaml``), used unchanged for 2024 (Nishida et
al., "Description and discussion on DCASE 2024 Challenge Task 2", arXiv 2406.07250).
Features and network are those of the 2020 baseline (:mod:`asd_lib.models.ae_baseline`,
reused here): 5 frames x 128 log-mels (n_fft 1024, hop 512) -> dense AE
640-128-128-128-128-8-128-128-128-128-640 with BN + ReLU. What differs:

* initialisation: the 2023 code is PyTorch with the default ``nn.Linear`` initialisation
  (``init: pytorch``, default); ``init: glorot`` keeps the Keras 2020 choice;
* the embedding is the clip's reconstruction-error vector: for the clip's input vectors
  x_v and reconstructions x^_v, ``e = mean_v (x_v - x^_v)`` (640-d). The official
  ``--score MAHALA`` forms ``delta_v = x^_v - x_v`` for every vector of a test clip and
  averages the matrix ``delta_v^T P delta_u`` over all (v, u), which equals
  ``e^T P e``: the squared Mahalanobis distance of this mean error vector (the sign does
  not matter). ``backend: mahalanobis`` (``asd_lib.backends``) scores it per domain and
  keeps the minimum (selective Mahalanobis);
* ``score`` / ``reconstruction_error``: the clip's mean squared error, the official
  ``--score MSE`` (``score: model_score``), also the training loss.
"""
from typing import Dict

import torch
from torch import nn

from asd_lib.models.ae_baseline import DenseAutoencoder
from asd_lib.models.registry import MODELS

INITS = ("pytorch", "glorot")


@MODELS.register("ae_baseline2024")
class DenseAutoencoder2024(DenseAutoencoder):
    """Waveform ``[B, T]`` -> ``{"embedding": [B, context_frames * n_mels] mean error
    vector, "reconstruction_error": [B], "score": [B]}``."""

    def __init__(self, num_samples: int, sample_rate: int = 16000, init: str = "pytorch", **conf):
        if init not in INITS:
            raise ValueError(f"ae_baseline2024: init must be one of {INITS}, got {init!r}")
        super().__init__(num_samples, sample_rate, **conf)
        if init == "pytorch":
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    module.reset_parameters()
        self.embedding_dim = self.input_dim

    def forward(self, wave: torch.Tensor) -> Dict[str, torch.Tensor]:
        vectors = self.vectors(wave)
        batch, count, dim = vectors.shape
        flat = vectors.reshape(batch * count, dim)
        error = (flat - self.decoder(self.encoder(flat))).view(batch, count, dim)
        mse = error.pow(2).mean(dim=(1, 2))
        return {"embedding": error.mean(dim=1), "reconstruction_error": mse, "score": mse}
