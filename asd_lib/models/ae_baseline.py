"""The DCASE 2020 Task 2 baseline: a dense autoencoder on stacked log-mel frames.

Koizumi et al., "Description and discussion on DCASE2020 Challenge Task2: unsupervised
anomalous sound detection for machine condition monitoring", DCASE 2020 workshop; public
code ``dcase2020_task2_baseline`` (``keras_model.get_model``, ``common.file_to_vector_array``).

Input vectors are 5 consecutive frames of the 128-band log-mel spectrogram concatenated
frame after frame (640-d; a 313-frame clip gives 309 vectors). The network is
``Dense(128) x 4 -> Dense(8) -> Dense(128) x 4 -> Dense(640)``, every layer but the output
followed by batch normalisation and ReLU, trained with the mean squared error. The anomaly
score of a clip is the mean over its vectors of the vector's mean squared reconstruction
error (score ``model_score``).

As Keras does, dense weights start Glorot-uniform with zero biases, and batch
normalisation uses Keras' epsilon 1e-3 and moving-average momentum 0.99 (PyTorch
``momentum=0.01``).
"""
from typing import Dict, Optional

import torch
from torch import nn

from asd_lib.frontends.power_mel import PowerMel
from asd_lib.models.registry import MODELS


def stack_frames(spec: torch.Tensor, context: int) -> torch.Tensor:
    """``[B, n_mels, frames]`` -> ``[B, frames - context + 1, context * n_mels]``: vector
    ``v`` is frames ``v .. v + context - 1`` concatenated, each frame's ``n_mels`` values
    together (the baseline's layout)."""
    frames = spec.shape[-1]
    if frames < context:
        raise ValueError(f"ae_baseline: {frames} frames are fewer than the {context} frames "
                         "of one input vector; use longer clips")
    windows = spec.unfold(-1, context, 1)  # [B, n_mels, V, context]
    return windows.permute(0, 2, 3, 1).reshape(spec.shape[0], frames - context + 1, -1)


def dense_block(in_dim: int, out_dim: int, bn_eps: float, bn_momentum: float) -> nn.Sequential:
    """Dense, batch normalisation, ReLU (one hidden layer of the baseline)."""
    return nn.Sequential(nn.Linear(in_dim, out_dim),
                         nn.BatchNorm1d(out_dim, eps=bn_eps, momentum=bn_momentum),
                         nn.ReLU())


@MODELS.register("ae_baseline")
class DenseAutoencoder(nn.Module):
    """Waveform ``[B, T]`` -> ``{"embedding": [B, bottleneck_dim] (bottleneck averaged over
    the clip's vectors), "reconstruction_error": [B], "score": [B]}``.

    ``reconstruction_error`` and ``score`` are the same per-clip mean squared error; the
    ``reconstruction_mse`` objective averages the first over the batch.
    """

    def __init__(self, num_samples: int, sample_rate: int = 16000, context_frames: int = 5,
                 hidden_dim: int = 128, hidden_layers: int = 4, bottleneck_dim: int = 8,
                 bn_eps: float = 1e-3, bn_momentum: float = 0.01,
                 frontend_conf: Optional[dict] = None):
        super().__init__()
        conf = dict(frontend_conf or {})
        if "sample_rate" in conf:
            raise ValueError("ae_baseline: set sample_rate on the model, not inside frontend_conf")
        self.frontend = PowerMel(sample_rate=sample_rate, **conf)
        frames = self.frontend.num_frames(num_samples)
        if frames < context_frames:
            raise ValueError(f"ae_baseline: clips of {num_samples} samples give {frames} "
                             f"frames, fewer than context_frames={context_frames}")
        self.context_frames = context_frames
        self.input_dim = context_frames * self.frontend.n_mels
        self.embedding_dim = bottleneck_dim
        widths = [self.input_dim] + [hidden_dim] * hidden_layers + [bottleneck_dim]
        self.encoder = nn.Sequential(*[dense_block(a, b, bn_eps, bn_momentum)
                                       for a, b in zip(widths[:-1], widths[1:])])
        widths = [bottleneck_dim] + [hidden_dim] * hidden_layers
        self.decoder = nn.Sequential(*[dense_block(a, b, bn_eps, bn_momentum)
                                       for a, b in zip(widths[:-1], widths[1:])],
                                     nn.Linear(hidden_dim, self.input_dim))
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def vectors(self, wave: torch.Tensor) -> torch.Tensor:
        """The input vectors ``[B, V, context_frames * n_mels]`` of each clip."""
        spec = self.frontend.log(self.frontend(wave))
        return stack_frames(spec, self.context_frames)

    def forward(self, wave: torch.Tensor) -> Dict[str, torch.Tensor]:
        vectors = self.vectors(wave)
        batch, count, dim = vectors.shape
        flat = vectors.reshape(batch * count, dim)
        code = self.encoder(flat)
        error = (self.decoder(code) - flat).pow(2).mean(1).view(batch, count).mean(1)
        return {"embedding": code.view(batch, count, -1).mean(1),
                "reconstruction_error": error, "score": error}
