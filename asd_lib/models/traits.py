"""What a model declares to the trainer and to inference, besides ``forward``.

Every model maps a batch of waveforms to ``{"embedding": ...}`` (a bare tensor is the
embedding; a dict may add ``"score"``, a per-clip anomaly score of the model's own, e.g. an
autoencoder's reconstruction error) and has an ``embedding_dim``. Two class attributes
tell the code around it how to call it and read it; a model that sets neither gets the
defaults:

- ``patch_embeddings`` (default ``False``): the embedding is ``[B, P, E]``, one per patch
  of the clip (Giri et al., DCASE 2020); clip-level scores average over the P patches and
  the clip's embedding is their mean;
- ``conditioning`` (default ``None``): ``"attribute_text"`` when ``forward`` takes
  ``attributes=[text per clip]``, the clip's attributes as descriptive text (System-3 of
  Tian et al., DCASE 2024). Training passes each clip's own text; at test time, where the
  attributes are unknown, inference scores the clip with every text of its section's
  training clips and keeps the best match.
"""
from dataclasses import dataclass
from typing import Optional

from torch import nn

CONDITIONINGS = (None, "attribute_text")


@dataclass(frozen=True)
class ModelTraits:
    patch_embeddings: bool = False
    conditioning: Optional[str] = None


def traits(model: nn.Module) -> ModelTraits:
    """The declarations of ``model`` (module docstring), checked."""
    found = ModelTraits(bool(getattr(model, "patch_embeddings", False)),
                        getattr(model, "conditioning", None))
    if found.conditioning not in CONDITIONINGS:
        raise ValueError(f"{type(model).__name__}.conditioning must be one of {CONDITIONINGS}, "
                         f"got {found.conditioning!r}")
    return found
