"""Datasets over dumped waveforms (``dump/<set>/feats.scp``, int16 arrays from stage 2).

Items stay int16 until they reach the training device, where the front-end converts them
(``asd_lib.frontends.mel.to_float_waveform``): half the bytes through the loader.

Reading is built for a loader that must keep a GPU busy (README, "Performance"): an
:class:`ArkReader` keeps one open descriptor per archive and reads each clip with
``pread`` straight into its place in the batch (:func:`asd_lib.data.audio.read_npy_data`),
which releases the GIL, so a few threads read in parallel. Nothing is memory-mapped, so
the page cache holding the archives never counts in a process's resident memory, and
the per-clip index is two small NumPy arrays (12 bytes a clip) rather than a Python
string per clip.
"""
import os
import threading
from typing import Dict, List, Optional, Sequence, Tuple

import kaldiio
import numpy as np
import torch
from torch.utils.data import Dataset

from asd_lib.data.audio import (NotNpyEntryError, NpyEntry, locate_npy_entry, read_npy_data,
                                read_npy_entry)
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


def split_location(location: str) -> Optional[Tuple[str, int]]:
    """``"path.ark:123"`` -> ``("path.ark", 123)``; ``None`` for the other kaldiio forms
    (``cmd |`` pipes, ``[rows]`` slices, a path without an offset)."""
    text = location.strip()
    if text.startswith("|") or text.endswith("|") or ("[" in text and "]" in text):
        return None
    path, sep, offset = text.rpartition(":")
    if not sep or not offset.isdigit():
        return None
    return path, int(offset)


class ArkReader:
    """Random access to the arrays at Kaldi ark locations, one ``pread`` pair per array.

    ``locations`` are scp values. ``path:offset`` entries holding NumPy objects (what
    stage 2 writes) are read by :func:`~asd_lib.data.audio.read_npy_entry` through a
    descriptor per archive, opened on first use and kept until :meth:`close`; every
    other entry (Kaldi binary matrices, pipes, slices) goes through ``kaldiio.load_mat``.
    Descriptors are not pickled: a worker started with ``spawn`` opens its own.
    """

    def __init__(self, locations: Sequence[str]):
        paths: Dict[str, int] = {}
        self._ark_ids = np.empty(len(locations), dtype=np.int32)
        self._offsets = np.empty(len(locations), dtype=np.int64)
        self._other: Dict[int, str] = {}
        for i, location in enumerate(locations):
            parsed = split_location(location)
            if parsed is None:
                self._ark_ids[i], self._offsets[i] = -1, -1
                self._other[i] = location
                continue
            self._ark_ids[i] = paths.setdefault(parsed[0], len(paths))
            self._offsets[i] = parsed[1]
        self.paths: List[str] = list(paths)
        self._fds: List[Optional[int]] = [None] * len(self.paths)
        self._open_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ark_ids)

    def location(self, index: int) -> str:
        """The scp value of item ``index``."""
        ark_id = int(self._ark_ids[index])
        if ark_id < 0:
            return self._other[index]
        return f"{self.paths[ark_id]}:{int(self._offsets[index])}"

    def entry(self, index: int) -> Optional[NpyEntry]:
        """Where item ``index``'s array lies, or ``None`` for an entry kaldiio must read."""
        ark_id = int(self._ark_ids[index])
        if ark_id < 0:
            return None
        try:
            return locate_npy_entry(self._fd(ark_id), int(self._offsets[index]),
                                    self.paths[ark_id])
        except NotNpyEntryError:
            return None

    def read_into(self, index: int, entry: NpyEntry, out: np.ndarray) -> None:
        """Copy item ``index``'s data (located by :meth:`entry`) into the buffer ``out``."""
        ark_id = int(self._ark_ids[index])
        read_npy_data(self._fd(ark_id), entry, out, self.paths[ark_id])

    def read(self, index: int) -> np.ndarray:
        """The array of item ``index`` (a fresh, writable array)."""
        ark_id = int(self._ark_ids[index])
        if ark_id >= 0:
            try:
                return read_npy_entry(self._fd(ark_id), int(self._offsets[index]),
                                      self.paths[ark_id])
            except NotNpyEntryError:
                pass
        return np.array(kaldiio.load_mat(self.location(index)))

    def _fd(self, ark_id: int) -> int:
        fd = self._fds[ark_id]
        if fd is not None:
            return fd
        with self._open_lock:  # reader threads share the descriptors
            if self._fds[ark_id] is None:
                path = self.paths[ark_id]
                try:
                    self._fds[ark_id] = os.open(path, os.O_RDONLY)
                except OSError as err:
                    raise ValueError(f"{path}: cannot open ({err.strerror}); re-run stage 2 "
                                     "(dump) or fix the path in the scp") from err
            return self._fds[ark_id]

    def close(self) -> None:
        """Close the archive descriptors (reading again reopens them)."""
        with self._open_lock:
            for ark_id, fd in enumerate(self._fds):
                if fd is not None:
                    os.close(fd)
                    self._fds[ark_id] = None

    def __enter__(self) -> "ArkReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_fds", None):
            self.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fds"] = [None] * len(self.paths)
        del state["_open_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._open_lock = threading.Lock()


class WaveformDataset(Dataset):
    """(int16 waveform, class index, item index) triples read from ark files.

    ``labels`` (class indices) default to -1 for every item. :meth:`read_batch` reads a
    whole batch straight into one (optionally page-locked) tensor; it is what
    :func:`asd_lib.data.loader.make_loader` calls, from several threads at once.
    """

    def __init__(self, locations: Sequence[str], labels: Optional[Sequence[int]] = None):
        self.reader = ArkReader(locations)
        self.labels = None if labels is None else torch.as_tensor(list(labels), dtype=torch.long)
        if self.labels is not None and len(self.labels) != len(self.reader):
            raise ValueError(f"WaveformDataset: {len(self.reader)} locations but "
                             f"{len(self.labels)} labels; give one label per clip")

    @property
    def locations(self) -> List[str]:
        """The scp values, in item order."""
        return [self.reader.location(i) for i in range(len(self.reader))]

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int):
        wave = self.reader.read(index)
        label = -1 if self.labels is None else int(self.labels[index])
        return torch.from_numpy(wave), label, index

    def read_batch(self, indices: Sequence[int], pin_memory: bool = False):
        """Items ``indices`` collated: (waves [B, ...], labels [B], indices [B]) tensors, as
        ``default_collate`` would give. When the arrays share one shape and dtype (a dump
        always does) each is read straight into its row of the batch tensor, page-locked
        when ``pin_memory``, so a clip is copied once between the page cache and the GPU.
        """
        indices = [int(i) for i in indices]
        index_tensor = torch.as_tensor(indices, dtype=torch.long)
        labels = (torch.full((len(indices),), -1, dtype=torch.long) if self.labels is None
                  else self.labels[index_tensor])
        waves = self._read_waves(indices, pin_memory)
        if waves is None:
            waves = torch.stack([self[i][0] for i in indices])
            waves = waves.pin_memory() if pin_memory else waves
        if pin_memory:
            labels, index_tensor = labels.pin_memory(), index_tensor.pin_memory()
        return waves, labels, index_tensor

    def _read_waves(self, indices: List[int], pin_memory: bool) -> Optional[torch.Tensor]:
        """The batch tensor read in place, or ``None`` when the items cannot share one."""
        entries = [self.reader.entry(i) for i in indices]
        kinds = {(e.shape, e.dtype, e.fortran) for e in entries if e is not None}
        if not entries or None in entries or len(kinds) != 1:
            return None
        shape, dtype, fortran = kinds.pop()
        if fortran or not dtype.isnative:
            return None
        waves = torch.empty((len(indices),) + tuple(shape), pin_memory=pin_memory,
                            dtype=torch.from_numpy(np.empty(0, dtype)).dtype)
        rows = waves.numpy().reshape(len(indices), -1)
        for row, index, entry in zip(rows, indices, entries):
            self.reader.read_into(index, entry, row)
        return waves

    def close(self) -> None:
        """Close the archives (a later item reopens them)."""
        self.reader.close()
