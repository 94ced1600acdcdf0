"""Exponential moving average of the weights (OS-SCL, Huang et al.; Polyak averaging).

After every optimiser step: ``shadow = decay * shadow + (1 - decay) * param`` for each
floating-point parameter and buffer; integer buffers (BatchNorm's step counter) are copied.
With ``decay`` 0.9999 the averaged weights are the ones validated, saved and used at
inference.
"""
import contextlib
from typing import Dict, Iterable

import torch
from torch import nn


class WeightEma:
    def __init__(self, modules: Iterable[nn.Module], decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must lie in (0, 1), got {decay}")
        self.modules = list(modules)
        self.decay = decay
        self.shadow = [self._copy(m) for m in self.modules]

    @staticmethod
    def _copy(module: nn.Module) -> Dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self) -> None:
        for module, shadow in zip(self.modules, self.shadow):
            for key, value in module.state_dict().items():
                if value.dtype.is_floating_point:
                    shadow[key].mul_(self.decay).add_(value.detach(), alpha=1.0 - self.decay)
                else:
                    shadow[key].copy_(value)

    def state_dicts(self):
        return [dict(s) for s in self.shadow]

    def load_state_dicts(self, states) -> None:
        for shadow, state in zip(self.shadow, states):
            for key in shadow:
                shadow[key].copy_(state[key])

    @contextlib.contextmanager
    def swapped_in(self):
        """Temporarily load the averaged weights into the modules (for validation)."""
        saved = [self._copy(m) for m in self.modules]
        for module, shadow in zip(self.modules, self.shadow):
            module.load_state_dict(shadow)
        try:
            yield
        finally:
            for module, state in zip(self.modules, saved):
                module.load_state_dict(state)
