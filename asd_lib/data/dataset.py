"""Datasets over dumped waveforms (``dump/<set>/feats.scp``, int16 arrays from stage 2).

Items stay int16 until they reach the training device, where the front-end converts them
(``asd_lib.frontends.mel.to_float_waveform``): half the bytes through the loader.

Reading is built for a loader that must keep a GPU busy (README, "Performance"): an
:class:`ArkReader` keeps one open descriptor per archive (a wav referenced in place is
opened per read: a corpus has more files than a process may hold open) and reads each
clip with ``pread`` straight into its place in the batch
(:func:`asd_lib.data.entries.read_entry_data`), which releases the GIL, so a few threads
read in parallel. Nothing is memory-mapped, so
the page cache holding the archives never counts in a process's resident memory, and
the per-clip index is two small NumPy arrays (12 bytes a clip) rather than a Python
string per clip.
"""
import contextlib
import os
import re
import threading
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import kaldiio
import numpy as np
import torch
from torch.utils.data import Dataset

from asd_lib.data.datadir import clip_file_name, load_data_dir
from asd_lib.data.entries import (
    Entry,
    UnsupportedEntryError,
    locate_entry,
    read_entry,
    read_entry_data,
)
from asd_lib.utils.fileio import read_kv

TEST_TIME_FILES = ("wav.scp", "utt2machine", "utt2section")
"""What a test clip reveals at test time: its file name, machine type and section (the
official evaluation names hide the domain, attributes and label)."""


class DumpedSet:
    """A dumped data dir: utterance ids, their ark locations and the label tables (with
    ``only``, just those tables: ``DumpedSet(path, only=TEST_TIME_FILES)`` is all that
    scoring a test set may read)."""

    def __init__(self, path, only: Optional[Sequence[str]] = None):
        self.path = str(path)
        self.tables: Dict[str, Dict[str, str]] = load_data_dir(path, only=only)
        if "feats.scp" not in self.tables:
            raise ValueError(f"{path}/feats.scp: missing; run stage 2 (dump) first")
        self.utts: List[str] = list(self.tables["feats.scp"])
        self.locations: List[str] = list(self.tables["feats.scp"].values())  # scp values

    def column(self, name: str) -> List[str]:
        """Values of ``name`` (e.g. ``utt2class``) in utterance order."""
        if name not in self.tables:
            raise ValueError(f"{self.path}/{name}: missing; re-run stage 1 (data preparation)")
        table = self.tables[name]
        return [table[u] for u in self.utts]

    @property
    def sample_rate(self) -> Optional[int]:
        """The rate stage 2 dumped the set at (its one-line ``sample_rate`` file), or None
        for a dump made without one."""
        path = os.path.join(self.path, "sample_rate")
        if not os.path.isfile(path):
            return None
        with open(path) as f:
            text = f.read().strip()
        if not text.isdigit():
            raise ValueError(f"{path}: {text!r} is not a sample rate in Hz; re-run stage 2")
        return int(text)

    def clip_length(self) -> int:
        """Samples per clip (a dump cuts every clip to one length): the first clip's."""
        with ArkReader(self.locations[:1]) as reader:
            return int(reader.read(0).shape[0])

    def check_dumped_as(self, sample_rate: int, num_samples: Optional[int], user: str) -> None:
        """ValueError unless the set was dumped at ``sample_rate`` (when recorded) into
        clips of ``num_samples`` (unless None), as ``user`` needs. A recipe's systems share
        ``dump/``, so one system's stage 2 with another ``--sample_rate`` or
        ``--segment_sec`` re-dumps the sets under the models of the others."""
        dumped = self.sample_rate
        length = None if num_samples is None else self.clip_length()
        if dumped in (None, sample_rate) and length == num_samples:
            return
        found = f"at {dumped} Hz" if dumped is not None else "at an unrecorded rate"
        wanted, fix = f"clips at {sample_rate} Hz", f"--sample_rate {sample_rate}"
        if num_samples is not None:
            found, wanted = f"as {length}-sample clips {found}", f"{num_samples}-sample {wanted}"
            fix += f" --segment_sec {num_samples / sample_rate:g}"
        raise ValueError(f"{self.path}: dumped {found}, but {user} needs {wanted}; re-run "
                         f"stage 2 with {fix}")

    def file_names(self) -> List[str]:
        """Base names of the original wav files (the names the official CSVs use)."""
        wavs = self.tables.get("wav.scp")
        if wavs is None:
            raise ValueError(f"{self.path}/wav.scp: missing; stage 2 copies it from data/")
        return [clip_file_name(wavs[u]) for u in self.utts]


class Location(NamedTuple):
    """A parsed ``path:offset[first:last]`` scp value (``rows`` is Kaldi's inclusive range)."""

    path: str
    offset: int
    rows: Optional[Tuple[int, int]] = None


_RANGE = re.compile(r"^(?P<head>.*)\[(?P<first>\d+):(?P<last>\d+)\]$")


def split_location(location: str) -> Optional[Location]:
    """``"path.ark:123"`` -> ``Location("path.ark", 123)``, ``"x.wav:0[0:99]"`` -> rows
    (0, 99); ``None`` for the other kaldiio forms (``cmd |`` pipes, column or
    multi-axis slices, a path without an offset)."""
    text = location.strip()
    if text.startswith("|") or text.endswith("|"):
        return None
    rows = None
    ranged = _RANGE.match(text)
    if ranged:
        text, rows = ranged["head"], (int(ranged["first"]), int(ranged["last"]))
    if "[" in text and text.endswith("]"):
        return None
    path, sep, offset = text.rpartition(":")
    if not sep or not offset.isdigit():
        return None
    return Location(path, int(offset), rows)


def load_scp_arrays(scp) -> Dict[str, np.ndarray]:
    """Every array of an scp (e.g. ``dump/<set>/feats.scp``) by utterance, read as the
    loaders read them; unlike ``kaldiio.load_scp`` a wav referenced in place gives its
    samples, not ``(rate, samples)``."""
    table = read_kv(scp)
    with ArkReader(list(table.values())) as reader:
        return {utt: reader.read(i) for i, utt in enumerate(table)}


class ArkReader:
    """Random access to the arrays at scp locations, one ``pread`` pair per array.

    ``locations`` are scp values. ``path:offset`` entries that stage 2 writes (NumPy ark
    objects and 16-bit wavs referenced in place, with an optional row range) are read by
    :mod:`asd_lib.data.entries`; a path shared by several entries keeps one descriptor,
    opened on first use and kept until :meth:`close`. Every other entry (Kaldi binary
    matrices, pipes, slices) goes through ``kaldiio.load_mat``. Descriptors are not
    pickled: a worker started with ``spawn`` opens its own.
    """

    def __init__(self, locations: Sequence[str]):
        paths: Dict[str, int] = {}
        count = len(locations)
        self._ark_ids = np.empty(count, dtype=np.int32)
        self._offsets = np.empty(count, dtype=np.int64)
        self._rows = np.full((count, 2), -1, dtype=np.int64)
        self._other: Dict[int, str] = {}
        for i, location in enumerate(locations):
            parsed = split_location(location)
            if parsed is None:
                self._ark_ids[i], self._offsets[i] = -1, -1
                self._other[i] = location
                continue
            self._ark_ids[i] = paths.setdefault(parsed.path, len(paths))
            self._offsets[i] = parsed.offset
            if parsed.rows is not None:
                self._rows[i] = parsed.rows
        self.paths: List[str] = list(paths)
        used = self._ark_ids[self._ark_ids >= 0]
        self._shared = np.bincount(used, minlength=len(self.paths)) > 1
        self._fds: List[Optional[int]] = [None] * len(self.paths)
        self._open_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ark_ids)

    def location(self, index: int) -> str:
        """The scp value of item ``index``."""
        ark_id = int(self._ark_ids[index])
        if ark_id < 0:
            return self._other[index]
        first, last = (int(v) for v in self._rows[index])
        rows = f"[{first}:{last}]" if first >= 0 else ""
        return f"{self.paths[ark_id]}:{int(self._offsets[index])}{rows}"

    @contextlib.contextmanager
    def located(self, index: int) -> Iterator[Optional[Tuple[int, Entry]]]:
        """``(descriptor, entry)`` of item ``index`` while the block runs, or ``None`` for
        an entry kaldiio must read (:meth:`read` does)."""
        ark_id = int(self._ark_ids[index])
        if ark_id < 0:
            yield None
            return
        shared, name = self._shared[ark_id], self.paths[ark_id]
        fd = self._cached_fd(ark_id) if shared else self._open(ark_id)
        try:
            try:
                entry = locate_entry(fd, int(self._offsets[index]), name)
            except UnsupportedEntryError:
                yield None
                return
            first, last = self._rows[index].tolist()
            yield fd, (entry if first < 0 else entry.rows(first, last, name))
        finally:
            if not shared:
                os.close(fd)

    def read_into(self, index: int, found: Tuple[int, Entry], out: np.ndarray) -> None:
        """Copy item ``index``'s data, ``found`` by :meth:`located`, into the buffer ``out``."""
        fd, entry = found
        read_entry_data(fd, entry, out, self.paths[int(self._ark_ids[index])])

    def read(self, index: int) -> np.ndarray:
        """The array of item ``index`` (a fresh, writable array)."""
        with self.located(index) as found:
            if found is not None:
                return read_entry(found[0], found[1], self.paths[int(self._ark_ids[index])])
        value = kaldiio.load_mat(self.location(index))
        return np.array(value[1] if isinstance(value, tuple) else value)  # wav: (rate, data)

    def _cached_fd(self, ark_id: int) -> int:
        fd = self._fds[ark_id]
        if fd is not None:
            return fd
        with self._open_lock:  # reader threads share the descriptors
            if self._fds[ark_id] is None:
                self._fds[ark_id] = self._open(ark_id)
            return self._fds[ark_id]

    def _open(self, ark_id: int) -> int:
        path = self.paths[ark_id]
        try:
            return os.open(path, os.O_RDONLY)
        except OSError as err:
            raise ValueError(f"{path}: cannot open ({err.strerror}); re-run stage 2 (dump) "
                             "or fix the path in the scp") from err

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
        waves = rows = kind = None
        for row, index in enumerate(indices):
            with self.reader.located(index) as found:
                if found is None:
                    return None
                entry = found[1]
                if waves is None:
                    if entry.fortran or not entry.dtype.isnative:
                        return None
                    kind = (entry.shape, entry.dtype)
                    waves = torch.empty((len(indices),) + tuple(entry.shape),
                                        pin_memory=pin_memory,
                                        dtype=torch.from_numpy(np.empty(0, entry.dtype)).dtype)
                    rows = waves.numpy().reshape(len(indices), -1)
                elif (entry.shape, entry.dtype) != kind or entry.fortran:
                    return None
                self.reader.read_into(index, found, rows[row])
        return waves

    def close(self) -> None:
        """Close the archives (a later item reopens them)."""
        self.reader.close()
