"""Datasets over dumped waveforms (``dump/<set>/feats.scp``, int16 arrays from stage 2).

Items stay int16 until they reach the training device, where the front-end converts them
(``asd_lib.frontends.mel.to_float_waveform``): half the bytes through the loader.
"""
from typing import Dict, List, Optional, Sequence

import kaldiio
import numpy as np
import torch
from torch.utils.data import Dataset

from asd_lib.data.datadir import load_data_dir
from asd_lib.metrics.dcase2020 import clip_file_name


class DumpedSet:
    """A dumped data dir: utterance ids, their ark locations and the label tables."""

    def __init__(self, path):
        self.path = str(path)
        self.tables: Dict[str, Dict[str, str]] = load_data_dir(path)
        if "feats.scp" not in self.tables:
            raise ValueError(f"{path}/feats.scp: missing; run stage 2 (dump) first")
        self.utts: List[str] = list(self.tables["feats.scp"])
        self.locations: List[str] = list(self.tables["feats.scp"].values())  # ark:offset

    def column(self, name: str) -> List[str]:
        """Values of ``name`` (e.g. ``utt2class``) in utterance order."""
        if name not in self.tables:
            raise ValueError(f"{self.path}/{name}: missing; re-run stage 1 (data preparation)")
        table = self.tables[name]
        return [table[u] for u in self.utts]

    def file_names(self) -> List[str]:
        """Base names of the original wav files (the names the official CSVs use)."""
        wavs = self.tables.get("wav.scp")
        if wavs is None:
            raise ValueError(f"{self.path}/wav.scp: missing; stage 2 copies it from data/")
        return [clip_file_name(wavs[u]) for u in self.utts]


class WaveformDataset(Dataset):
    """(int16 waveform, class index, item index) triples read from ark files."""

    def __init__(self, locations: Sequence[str], labels: Optional[Sequence[int]] = None):
        self.locations = list(locations)
        self.labels = None if labels is None else torch.as_tensor(list(labels), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.locations)

    def __getitem__(self, index: int):
        wave = np.asarray(kaldiio.load_mat(self.locations[index]))
        label = -1 if self.labels is None else int(self.labels[index])
        return torch.from_numpy(wave), label, index
