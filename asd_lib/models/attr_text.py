"""Attribute strings as descriptive text, embedded by a hashed bag of words.

System-3 of Tian et al. (DCASE 2024 Task 2 technical report, Sec. 2.2) turns a clip's
labels into descriptive text and embeds it into the audio features as auxiliary
information. The report does not say how the text is written or encoded; our choice is a
small learned encoder without a vocabulary file, so the model needs nothing but its
config:

* :func:`describe`: ``("fan", "m-n_W")`` -> ``"fan with m-n W"``; hidden attributes
  (``noAttribute``) -> ``"fan with unknown operating conditions"``;
* :func:`tokens`: the lower-cased words plus adjacent word pairs (``"m-n w"``), so a
  key and its value are also seen together;
* every token is hashed (CRC-32, stable across runs and machines) into ``buckets``
  rows of an ``nn.EmbeddingBag`` whose mean over the clip's tokens is the text
  embedding ``[B, dim]``.

The trainer gives each training clip's text to the model as the keyword argument
``attributes`` (one string per clip, from :func:`describe`); inference, which does not
know a test clip's attributes, tries every text of the clip's section
(:mod:`asd_lib.inference.forward`).
"""
import zlib
from typing import List, Sequence

import torch
from torch import nn

NO_ATTRIBUTE = "noAttribute"


def describe(machine: str, attribute: str) -> str:
    """The descriptive text of a clip's machine type and attribute string."""
    if not attribute or attribute == NO_ATTRIBUTE:
        return f"{machine} with unknown operating conditions"
    return f"{machine} with " + " ".join(part for part in attribute.split("_") if part)


def tokens(text: str) -> List[str]:
    """Lower-cased words of ``text`` and its adjacent word pairs."""
    words = text.lower().split()
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def token_bucket(token: str, buckets: int) -> int:
    """Row of ``token`` in a table of ``buckets`` rows (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(token.encode("utf-8")) % buckets


class AttributeTextEmbedding(nn.Module):
    """Texts (one per clip) -> mean of their hashed token embeddings ``[B, dim]``."""

    def __init__(self, dim: int = 16, buckets: int = 1024):
        super().__init__()
        if dim < 1 or buckets < 1:
            raise ValueError(f"AttributeTextEmbedding: dim and buckets must be >= 1, got "
                             f"{dim} and {buckets}")
        self.dim = dim
        self.buckets = buckets
        self.bag = nn.EmbeddingBag(buckets, dim, mode="mean")

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        ids, offsets = [], []
        for text in texts:
            offsets.append(len(ids))
            ids.extend(token_bucket(t, self.buckets) for t in tokens(text))
        device = self.bag.weight.device
        return self.bag(torch.tensor(ids, dtype=torch.long, device=device),
                        torch.tensor(offsets, dtype=torch.long, device=device))
