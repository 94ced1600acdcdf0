"""One training or inference step: the batch, its augmentation state and the model outputs.

The trainer fills a :class:`Step` per batch: augmentations (``asd_lib.augment``) may
replace the waveform or labels and set ``mix`` and ``model_kwargs``; the model is called as
``model(step.wave, **step.model_kwargs)`` and its outputs land in ``step.out``; every loss
term of the stage then reads what it needs from the step.
"""
import dataclasses
from typing import Any, Dict, Optional

import torch


@dataclasses.dataclass
class Mix:
    """Mixup state shared by every place that mixes (Zhang et al., ICLR 2018, Eq. 1).

    ``x~ = lam * x + (1 - lam) * x[perm]``: the same ``lam`` and permutation apply to the
    waveform and to the log-mel (Noisy-ArcMix, Choi & Choi, ICASSP 2024), and the loss
    weights label ``y_a = y`` by ``lam`` and ``y_b = y[perm]`` by ``1 - lam``.
    """

    lam: torch.Tensor  # scalar tensor (or [B] for per-item mixing)
    perm: torch.Tensor  # [B] long, the partner of each item

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        lam = self.lam.to(x.device, x.dtype)
        if lam.dim() == 1:
            lam = lam.view(-1, *([1] * (x.dim() - 1)))
        return lam * x + (1 - lam) * x[self.perm.to(x.device)]


@dataclasses.dataclass
class Step:
    wave: torch.Tensor  # [B, T] int16 or float
    labels: torch.Tensor  # [B] class indices
    mix: Optional[Mix] = None
    model_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
    out: Dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)

    @property
    def embedding(self) -> torch.Tensor:
        return self.out["embedding"]

    @property
    def labels_b(self) -> torch.Tensor:
        """The mixing partners' labels (``labels`` when nothing was mixed)."""
        if self.mix is None:
            return self.labels
        return self.labels[self.mix.perm.to(self.labels.device)]


def as_output(result) -> Dict[str, torch.Tensor]:
    """A model's return value as a dict: a bare tensor is the embedding."""
    if isinstance(result, dict):
        if "embedding" not in result:
            raise ValueError("a model returning a dict must include the key 'embedding'")
        return result
    return {"embedding": result}


def forward(model, step: Step) -> Step:
    """Run ``model`` on the step's (possibly augmented) input and store its outputs."""
    step.out = as_output(model(step.wave, **step.model_kwargs))
    return step
