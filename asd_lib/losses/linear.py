"""Plain softmax classifier head: logits = W e + b.

Used where a method classifies without an angular margin, e.g. the MobileNetV2
self-supervised classifier (Giri et al., DCASE 2020). Extra leading dimensions pass
through (``[B, P, E]`` patch embeddings give ``[B, P, C]`` logits); ``labels`` are accepted
and ignored so every head has the same call signature. ``class_multiplier`` k gives k
outputs per class: the synthetic classes of spectral warping (class ``c + g * num_classes``
for warp group g).
"""
from typing import Optional

import torch
from torch import nn

from asd_lib.losses.registry import HEADS


@HEADS.register("linear")
class LinearHead(nn.Module):
    def __init__(self, embedding_dim: int, num_classes: int, bias: bool = True,
                 class_multiplier: int = 1):
        super().__init__()
        if class_multiplier < 1:
            raise ValueError(f"LinearHead: class_multiplier must be >= 1, got {class_multiplier}")
        self.num_classes = num_classes  # real classes; scoring uses 0 .. num_classes - 1
        self.class_multiplier = class_multiplier
        self.fc = nn.Linear(embedding_dim, num_classes * class_multiplier, bias=bias)

    def forward(self, embedding: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.fc(embedding)
