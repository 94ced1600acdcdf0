"""What a model declares to the trainer and to inference, besides ``forward``.

Every model maps a batch of waveforms to ``{"embedding": ...}`` (a bare tensor is the
embedding; a dict may add ``"score"``, a per-clip anomaly score of the model's own, e.g. an
autoencoder's reconstruction error) and has an ``embedding_dim``. Three class attributes
tell the code around it how to call it and read it; a model that sets none gets the
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

CONDITIONINGS = (None, "attribute_text")


@dataclass(frozen=True)
class ModelTraits:
    patch_embeddings: bool = False
    conditioning: Optional[str] = None
    training_free: bool = False


def traits(model) -> ModelTraits:
    """The declarations of ``model``, an instance or a model class (module docstring),
    checked."""
    found = ModelTraits(bool(getattr(model, "patch_embeddings", False)),
                        getattr(model, "conditioning", None),
                        bool(getattr(model, "training_free", False)))
    if found.conditioning not in CONDITIONINGS:
        name = getattr(model, "__name__", type(model).__name__)
        raise ValueError(f"{name}.conditioning must be one of {CONDITIONINGS}, got "
                         f"{found.conditioning!r}")
    return found
