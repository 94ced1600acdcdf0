"""Plain softmax classifier head: logits = W e + b.

Used where a method classifies without an angular margin, e.g. the MobileNetV2
self-supervised classifier (Giri et al., DCASE 2020). Extra leading dimensions pass
through (``[B, P, E]`` patch embeddings give ``[B, P, C]`` logits); ``labels`` are accepted
and ignored so every head has the same call signature.
"""
from typing import Optional

import torch
from torch import nn

from asd_lib.losses.registry import HEADS


@HEADS.register("linear")
class LinearHead(nn.Module):
    def __init__(self, embedding_dim: int, num_classes: int, bias: bool = True):
        super().__init__()
        self.num_classes = num_classes
        self.fc = nn.Linear(embedding_dim, num_classes, bias=bias)

    def forward(self, embedding: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.fc(embedding)
