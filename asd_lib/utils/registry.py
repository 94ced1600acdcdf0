"""Name -> class registries, so a YAML config can name a component and its arguments.

Example::

    MODELS = Registry("model")

    @MODELS.register("stgram_mfn")
    class STgramMFN(nn.Module): ...

    model = MODELS.build("stgram_mfn", num_classes=41)
"""
from typing import Callable, Dict


class Registry:
    """A named table of constructors with a helpful error for unknown names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._table: Dict[str, Callable] = {}

    def register(self, name: str) -> Callable:
        def decorator(obj: Callable) -> Callable:
            return self.add(name, obj)

        return decorator

    def add(self, name: str, obj):
        """Register ``obj`` under ``name`` and return it."""
        if name in self._table:
            raise KeyError(f"{self.kind} {name!r} is registered twice")
        self._table[name] = obj
        return obj

    def get(self, name: str) -> Callable:
        if name not in self._table:
            known = ", ".join(sorted(self._table))
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of: {known}")
        return self._table[name]

    def build(self, name: str, **kwargs):
        return self.get(name)(**kwargs)

    def names(self):
        return sorted(self._table)

    def __contains__(self, name: str) -> bool:
        return name in self._table
