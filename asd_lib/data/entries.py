"""Where a clip's samples lie in a file, for reading them with ``pread`` and no decoding.

Stage 2 writes two kinds of ``feats.scp`` locations, both valid Kaldi rxspecifiers that
``kaldiio.load_mat`` also reads:

- ``dump/.../feats.N.ark:<offset>``: a clip the dump converted and copied, stored as a
  NumPy object (kaldiio ``write_function="numpy"``: ``b"NPY"``, one byte ``n``, the
  ``.npy`` length in ``n`` little-endian bytes, then the ``.npy`` file);
- ``<corpus>/x.wav:0``, or ``<corpus>/x.wav:0[0:159999]`` when cropped: a clip that
  needed no conversion, referenced in place. kaldiio reads a RIFF entry at an offset as
  ``(rate, samples)``; ``[first:last]`` is Kaldi's inclusive row range.

:func:`locate_entry` turns either into an :class:`Entry` (data offset, shape, dtype) with
one ``pread`` of the entry's first bytes; :func:`read_entry_data` then copies the samples
with one ``preadv`` into a caller's buffer (a row of a batch tensor). Any other entry
(Kaldi binary matrices, compressed or multi-channel wavs) raises
:class:`UnsupportedEntryError`, and the caller falls back to kaldiio.

The RIFF layout walked here is Microsoft's WAVE format: ``"RIFF" size "WAVE"``, then
``id size payload`` chunks padded to even size; ``fmt`` holds format tag, channels,
rate, byte rate, block align and bits per sample.
"""
import functools
import io
import os
import struct
from dataclasses import dataclass, replace
from typing import Optional, Tuple

import numpy as np

NPY_ENTRY_TAG = b"NPY"
_NPY_MAGIC = b"\x93NUMPY"
# One read covers the tag, the .npy header (3 + 1 + 3 + 128 bytes for a 1-D int16 clip)
# or a usual wav header (44 bytes, more with LIST chunks); longer ones are read again.
_PREFIX_BYTES = 512
WAVE_FORMAT_PCM = 1
RIFF_UNKNOWN_SIZE = 0xFFFFFFFF
PCM16 = np.dtype("<i2")


class UnsupportedEntryError(ValueError):
    """An entry this module does not read directly (kaldiio still may)."""


@dataclass(frozen=True)
class Entry:
    """Where and what the array of one entry is."""

    data_offset: int  # file offset of the raw data
    shape: Tuple[int, ...]
    dtype: np.dtype
    fortran: bool = False

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def rows(self, first: int, last: int, name: str = "ark") -> "Entry":
        """Rows ``first`` to ``last`` inclusive (Kaldi's ``[first:last]`` range)."""
        if self.fortran or not self.shape or not 0 <= first <= last < self.shape[0]:
            raise ValueError(f"{name}: the range [{first}:{last}] does not fit an array of "
                             f"shape {self.shape}; fix the scp or re-run stage 2 (dump)")
        row_bytes = self.nbytes // self.shape[0]
        return replace(self, data_offset=self.data_offset + first * row_bytes,
                       shape=(last - first + 1,) + self.shape[1:])


@dataclass(frozen=True)
class WaveLayout:
    """A RIFF/WAVE file's format and where its ``data`` chunk lies."""

    format_tag: int
    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    declared_bytes: int  # the data chunk's size field
    present_bytes: int  # bytes of the file after the data chunk header

    @property
    def is_pcm16_mono(self) -> bool:
        return (self.format_tag, self.channels, self.bits) == (WAVE_FORMAT_PCM, 1, 16)

    @property
    def complete(self) -> bool:
        return (self.declared_bytes != RIFF_UNKNOWN_SIZE
                and self.declared_bytes <= self.present_bytes)

    @property
    def num_samples(self) -> int:
        """Samples per channel in the declared data chunk."""
        frame = max(1, self.channels * self.bits // 8)
        return self.declared_bytes // frame


def wave_layout(fd: int, offset: int = 0, prefix: Optional[bytes] = None) -> Optional[WaveLayout]:
    """The layout of the RIFF/WAVE file starting at ``offset`` of ``fd``; ``None`` when it
    is not one or has no ``fmt`` before its ``data`` chunk. ``prefix``: the first bytes,
    if already read. Chunk headers within the prefix cost no further read."""
    if prefix is None:
        prefix = os.pread(fd, _PREFIX_BYTES, offset)
    if prefix[:4] != b"RIFF" or prefix[8:12] != b"WAVE":
        return None
    total = os.fstat(fd).st_size - offset
    fmt, position = None, 12
    while position + 8 <= total:
        header = _bytes_at(fd, offset, prefix, position, 8)
        chunk_id, size = struct.unpack("<4sI", header)
        if chunk_id == b"fmt " and size >= 16:
            if position + 24 > total:
                return None  # cut inside the format: libsndfile reports it
            tag, channels, rate, _, _, bits = struct.unpack(
                "<HHIIHH", _bytes_at(fd, offset, prefix, position + 8, 16))
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                return None
            return WaveLayout(*fmt, data_offset=offset + position + 8, declared_bytes=size,
                              present_bytes=total - position - 8)
        position += 8 + size + (size & 1)
    return None


def _bytes_at(fd: int, offset: int, prefix: bytes, position: int, count: int) -> bytes:
    if position + count <= len(prefix):
        return prefix[position:position + count]
    return os.pread(fd, count, offset + position)


def locate_entry(fd: int, offset: int, name: str = "ark") -> Entry:
    """Parse the entry at ``offset`` of an open archive or wav (see the module docstring).

    One ``pread`` of the first bytes; a wav that is not complete 16-bit mono PCM and any
    entry that is neither kind raise :class:`UnsupportedEntryError`. ``name`` only
    labels error messages.
    """
    prefix = os.pread(fd, _PREFIX_BYTES, offset)
    if prefix[:4] == b"RIFF":
        return _locate_wave(fd, offset, prefix, name)
    return _locate_npy(fd, offset, prefix, name)


# The canonical 44-byte header: RIFF, WAVE, a 16-byte fmt chunk, then the data chunk.
_CANONICAL = struct.Struct("<4sI4s4sIHHIIHH4sI")


def _locate_wave(fd: int, offset: int, prefix: bytes, name: str) -> Entry:
    """The samples of a referenced 16-bit mono PCM wav; a canonical header is parsed from
    the prefix alone (a file cut short is caught by the read, which gets fewer bytes)."""
    fields = _CANONICAL.unpack_from(prefix) if len(prefix) >= _CANONICAL.size else None
    if (fields is not None and fields[2:4] == (b"WAVE", b"fmt ") and fields[4] == 16
            and fields[11] == b"data" and fields[12] != RIFF_UNKNOWN_SIZE):
        if (fields[5], fields[6], fields[10]) != (WAVE_FORMAT_PCM, 1, 16):
            raise UnsupportedEntryError(f"{name}:{offset}: not a 16-bit mono PCM wav")
        return Entry(offset + _CANONICAL.size, (fields[12] // 2,), PCM16)
    layout = wave_layout(fd, offset, prefix)
    if layout is None or not layout.is_pcm16_mono or layout.declared_bytes == RIFF_UNKNOWN_SIZE:
        raise UnsupportedEntryError(f"{name}:{offset}: not a 16-bit mono PCM wav")
    return Entry(layout.data_offset, (layout.num_samples,), PCM16)


def _locate_npy(fd: int, offset: int, prefix: bytes, name: str) -> Entry:
    npy_start, data_start = _npy_entry_bounds(prefix, offset, name)
    if data_start > len(prefix):
        prefix = os.pread(fd, data_start, offset)
        if len(prefix) < data_start:
            raise _truncated(name, offset)
    try:
        shape, fortran, dtype = _parse_npy_header(prefix[npy_start:data_start])
    except ValueError as err:
        raise ValueError(f"{name}:{offset}: {err}; re-run stage 2 (dump)") from err
    entry = Entry(offset + data_start, shape, dtype, fortran)
    npy_length = int.from_bytes(prefix[4:npy_start], "little")
    if data_start - npy_start + entry.nbytes != npy_length:
        raise ValueError(
            f"{name}:{offset}: the .npy header ({dtype}, shape {shape}) does not match the "
            f"entry length {npy_length}; the archive is corrupt: re-run stage 2 (dump)"
        )
    return entry


def read_entry_data(fd: int, entry: Entry, out: np.ndarray, name: str = "ark") -> None:
    """Copy the entry's raw data into ``out`` (C-contiguous, ``entry.nbytes`` bytes), straight
    from the page cache with one ``os.preadv``, which releases the GIL. ``pread`` never
    moves a file position, so threads and forked processes may share ``fd``."""
    if out.nbytes != entry.nbytes or not out.flags.c_contiguous:
        raise ValueError(f"{name}: a buffer of {out.nbytes} contiguous bytes cannot take an "
                         f"entry of {entry.nbytes}")
    if not entry.nbytes:
        return
    if os.preadv(fd, [memoryview(out).cast("B")], entry.data_offset) != out.nbytes:
        raise ValueError(f"{name}: truncated: the file ends inside the clip at byte "
                         f"{entry.data_offset}; re-run stage 2 (dump), or re-extract the "
                         "corpus file if it changed since")


def read_entry(fd: int, entry: Entry, name: str = "ark") -> np.ndarray:
    """The entry's array (a fresh, writable array)."""
    flat = np.empty(int(np.prod(entry.shape, dtype=np.int64)), dtype=entry.dtype)
    read_entry_data(fd, entry, flat, name)
    return flat.reshape(entry.shape, order="F" if entry.fortran else "C")


def _npy_entry_bounds(prefix: bytes, offset: int, name: str) -> Tuple[int, int]:
    """Byte positions (from the entry start) of the ``.npy`` file and of its data."""
    if len(prefix) < 4:
        raise _truncated(name, offset)
    if prefix[:3] != NPY_ENTRY_TAG:
        raise UnsupportedEntryError(
            f"{name}:{offset}: not a NumPy ark entry (starts {prefix[:8]!r})")
    npy_start = 4 + prefix[3]
    if len(prefix) < npy_start + 12:
        raise _truncated(name, offset)
    if prefix[npy_start:npy_start + 6] != _NPY_MAGIC:
        raise ValueError(f"{name}:{offset}: the entry holds no .npy file; the archive is "
                         "corrupt or the scp offset is wrong: re-run stage 2 (dump)")
    major = prefix[npy_start + 6]
    if major == 1:
        header_length = struct.unpack_from("<H", prefix, npy_start + 8)[0]
        return npy_start, npy_start + 10 + header_length
    if major == 2:
        header_length = struct.unpack_from("<I", prefix, npy_start + 8)[0]
        return npy_start, npy_start + 12 + header_length
    raise ValueError(f"{name}:{offset}: .npy format version {major} is not supported (1 or "
                     "2 expected); re-run stage 2 (dump) with this version of asd_lib")


@functools.lru_cache(maxsize=64)
def _parse_npy_header(header: bytes) -> Tuple[Tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) of a ``.npy`` header; every clip of one dump shares
    the same header bytes, so the cache turns the per-item parse into a dict look-up."""
    stream = io.BytesIO(header)
    major, _ = np.lib.format.read_magic(stream)
    read_header = (np.lib.format.read_array_header_1_0 if major == 1
                   else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read_header(stream)
    if dtype.hasobject:
        raise ValueError(f"the .npy entry holds Python objects ({dtype}), not a plain array")
    return shape, fortran, dtype


def _truncated(name: str, offset: int) -> ValueError:
    return ValueError(f"{name}:{offset}: the archive ends inside this entry (truncated); "
                      "re-run stage 2 (dump)")
