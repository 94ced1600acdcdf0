"""Waveform I/O for stage 2: read a ``wav.scp`` entry, fix its length, dump int16 to ark/scp.

Every clip becomes a 1-D ``int16`` array at one sample rate and one length, so the
training and inference readers never see a corpus quirk. Reading follows DESIGN.md,
"Bad input": an unreadable, empty, truncated or non-finite wav raises :class:`AudioError`
naming the file and the fix; several channels keep the first (DCASE 2020 uses the
first microphone of MIMII, DATASETS.md) and another sample rate is resampled, each
logged at INFO.

Samples are scaled as in libsndfile's float view of PCM: an integer sample ``v`` of
``b`` bits is ``v / 2**(b-1)``; the int16 output is ``round(32768 * x)`` clipped to
``[-32768, 32767]``, so 8-, 16- and 24-bit PCM map exactly where int16 can hold the
value and 16-bit files (read as int16 directly) round-trip bit for bit.

The archive holds each clip as a NumPy ``.npy`` object (kaldiio ``write_function="numpy"``),
which keeps the int16 dtype; Kaldi's own binary matrices are float-only.
``kaldiio.load_scp(scp)[utt]`` and ``kaldiio.load_mat("ark:offset")`` return the array;
:func:`read_npy_entry` reads the same array with two ``pread`` calls and no extra copy.
"""
import contextlib
import functools
import io
import logging
import os
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import kaldiio
import numpy as np
import soundfile as sf
from tqdm import tqdm

from asd_lib.utils.fileio import atomic_write, read_kv
from asd_lib.utils.log import progress_enabled

INT16_SCALE = 32768.0
# Sample formats that convert to int16 without rounding (8-bit codes scale exactly).
EXACT_SUBTYPES = ("PCM_16", "PCM_U8", "PCM_S8")
SHORT_CLIP_MODES = ("tile", "pad")
_RIFF_UNKNOWN_SIZE = 0xFFFFFFFF
NPY_ENTRY_TAG = b"NPY"
_NPY_MAGIC = b"\x93NUMPY"
# First read of an entry: tag, length field and .npy header fit in this (a 1-D int16
# clip needs 3 + 1 + 3 + 128 bytes); a longer header is read again at its full size.
_ENTRY_PREFIX_BYTES = 512


class AudioError(ValueError):
    """A wav that cannot be used; the message names the file and the fix."""


class NotNpyEntryError(ValueError):
    """An ark entry that is not a NumPy object (e.g. a Kaldi binary matrix)."""


@dataclass(frozen=True)
class WavInfo:
    """What the file held before conversion (rate, channels, libsndfile subtype)."""

    sample_rate: int
    num_channels: int
    subtype: str


@dataclass(frozen=True)
class DumpStats:
    """Counts reported by :func:`dump_wav_scp`."""

    num_clips: int
    num_length_fixed: int
    num_resampled: int


def read_wav(path, target_sr: int = 16000) -> np.ndarray:
    """Read one ``wav.scp`` value (a path, or a command ending in ``|``) as 1-D int16."""
    return read_wav_with_info(path, target_sr)[0]


def read_wav_with_info(path, target_sr: int = 16000) -> Tuple[np.ndarray, WavInfo]:
    """Like :func:`read_wav`, also returning the file's own rate, channels and subtype."""
    name = str(path)
    with _open_source(name) as source:
        try:
            with sf.SoundFile(source, closefd=False) as snd:
                info = WavInfo(snd.samplerate, snd.channels, snd.subtype)
                dtype = "int16" if snd.subtype == "PCM_16" else "float64"
                frames = snd.read(dtype=dtype, always_2d=True)
        except (sf.SoundFileError, RuntimeError) as err:
            reason = getattr(err, "error_string", str(err))
            raise AudioError(
                f"{name}: cannot read as audio ({reason}); the file is corrupt, truncated or "
                "not a wav: re-extract or re-download it, or remove it from wav.scp"
            ) from err
    if frames.shape[0] == 0:
        raise AudioError(
            f"{name}: the wav holds no samples; re-extract it or remove it from wav.scp"
        )
    if frames.dtype.kind == "f" and not np.isfinite(frames).all():
        raise AudioError(
            f"{name}: {int((~np.isfinite(frames)).sum())} NaN or Inf samples; regenerate "
            "the file (or remove it from wav.scp)"
        )
    if info.num_channels > 1:
        logging.info("%s: %d channels, kept the first", name, info.num_channels)
    if info.subtype not in EXACT_SUBTYPES:
        logging.info("%s: %s samples rounded to 16 bits", name, info.subtype)
    samples = np.ascontiguousarray(frames[:, 0])
    if info.sample_rate != target_sr:
        logging.info("%s: resampled %d -> %d Hz", name, info.sample_rate, target_sr)
        samples = _resample(_as_float(samples), info.sample_rate, target_sr)
    return _as_int16(samples), info


def fix_length(
    x: np.ndarray, num_samples: int, short: str = "tile"
) -> Tuple[np.ndarray, Optional[str]]:
    """Crop to the first ``num_samples``, or lengthen a short clip by tiling or zero-padding.

    Returns the clip and a note for the log (``"tiled 80000 -> 160000"``), or ``None``
    when the length was already right.
    """
    if short not in SHORT_CLIP_MODES:
        raise ValueError(f"short={short!r}; choose one of {SHORT_CLIP_MODES}")
    if num_samples <= 0:
        raise ValueError(f"num_samples={num_samples}; it must be positive")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty 1-D clip, got shape {x.shape}")
    length = x.shape[0]
    if length == num_samples:
        return x, None
    if length > num_samples:
        return x[:num_samples], f"cropped {length} -> {num_samples}"
    if short == "tile":
        repeats = -(-num_samples // length)
        return np.tile(x, repeats)[:num_samples], f"tiled {length} -> {num_samples}"
    padded = np.zeros(num_samples, dtype=x.dtype)
    padded[:length] = x
    return padded, f"padded {length} -> {num_samples}"


def dump_wav_scp(
    wav_scp,
    out_prefix,
    sample_rate: int = 16000,
    segment_sec: float = 10.0,
    short_clip: str = "tile",
) -> DumpStats:
    """Write every clip of ``wav_scp`` as fixed-length int16 to ``<out_prefix>.{ark,scp}``.

    All or nothing: the archive is written under a temporary name beside the final one
    (:func:`~asd_lib.utils.fileio.atomic_write`; offsets do not depend on the name) and
    renamed only when every clip succeeded, so a failing clip raises
    :class:`AudioError` and leaves any earlier complete output untouched. The scp holds
    ``utt <out_prefix>.ark:<offset>`` with the final archive path as given; an old scp
    is removed before the archive is replaced and the new one is written last, so a
    killed run never leaves an scp that points into the wrong archive.
    """
    if sample_rate <= 0 or segment_sec <= 0:
        raise ValueError(
            f"sample_rate={sample_rate} and segment_sec={segment_sec} must be positive"
        )
    if short_clip not in SHORT_CLIP_MODES:
        raise ValueError(f"short_clip={short_clip!r}; choose one of {SHORT_CLIP_MODES}")
    table = read_kv(wav_scp)
    num_samples = int(round(segment_sec * sample_rate))
    ark_path, scp_path = Path(f"{out_prefix}.ark"), Path(f"{out_prefix}.scp")
    scp_lines = []
    num_fixed = num_resampled = 0
    with atomic_write(ark_path, "wb") as ark:
        entries = tqdm(
            table.items(), total=len(table), desc=f"dump {ark_path.name}",
            unit="clip", disable=not progress_enabled(),
        )
        for utt, value in entries:
            samples, info = read_wav_with_info(value, sample_rate)
            num_resampled += info.sample_rate != sample_rate
            samples, note = fix_length(samples, num_samples, short_clip)
            if note is not None:
                num_fixed += 1
                logging.info("%s: %s", utt, note)
            # A Kaldi archive entry is "<key> <object>"; the scp offset is the object's.
            offset = ark.tell() + len(f"{utt} ".encode("utf-8"))
            kaldiio.save_ark(ark, {utt: samples}, write_function="numpy")
            scp_lines.append(f"{utt} {ark_path}:{offset}\n")
        # Every clip succeeded: drop the old scp before the new archive replaces the old.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scp_path)
    with atomic_write(scp_path) as scp:
        scp.writelines(scp_lines)
    stats = DumpStats(len(scp_lines), num_fixed, num_resampled)
    logging.info(
        "dumped %d clips, %d length-fixed, %d resampled to %s",
        stats.num_clips, stats.num_length_fixed, stats.num_resampled, scp_path,
    )
    return stats


@dataclass(frozen=True)
class NpyEntry:
    """Where and what the array of one NumPy ark entry is."""

    data_offset: int  # file offset of the raw data
    shape: Tuple[int, ...]
    dtype: np.dtype
    fortran: bool

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def locate_npy_entry(fd: int, offset: int, name: str = "ark") -> NpyEntry:
    """Parse the NumPy object that :func:`dump_wav_scp` wrote at ``offset`` of an archive.

    ``fd`` is an open file descriptor and ``offset`` the scp offset. kaldiio's entry is
    ``b"NPY"``, one byte ``n``, the ``.npy`` file's length as ``n`` little-endian bytes,
    then the ``.npy`` file (NumPy format 1.0 or 2.0: magic, version, header length,
    header dict, raw data). One ``pread`` of the first bytes; another kind of entry
    raises :class:`NotNpyEntryError`. ``name`` only labels error messages.
    """
    prefix = os.pread(fd, _ENTRY_PREFIX_BYTES, offset)
    npy_start, data_start = _npy_entry_bounds(prefix, offset, name)
    if data_start > len(prefix):
        prefix = os.pread(fd, data_start, offset)
        if len(prefix) < data_start:
            raise _truncated(name, offset)
    try:
        shape, fortran, dtype = _parse_npy_header(prefix[npy_start:data_start])
    except ValueError as err:
        raise ValueError(f"{name}:{offset}: {err}; re-run stage 2 (dump)") from err
    entry = NpyEntry(offset + data_start, shape, dtype, fortran)
    npy_length = int.from_bytes(prefix[4:npy_start], "little")
    if data_start - npy_start + entry.nbytes != npy_length:
        raise ValueError(
            f"{name}:{offset}: the .npy header ({dtype}, shape {shape}) does not match the "
            f"entry length {npy_length}; the archive is corrupt: re-run stage 2 (dump)"
        )
    return entry


def read_npy_data(fd: int, entry: NpyEntry, out: np.ndarray, name: str = "ark") -> None:
    """Copy the entry's raw data into ``out`` (C-contiguous, ``entry.nbytes`` bytes), straight
    from the page cache with one ``os.preadv``, which releases the GIL. ``pread`` never
    moves a file position, so threads and forked processes may share ``fd``."""
    if out.nbytes != entry.nbytes or not out.flags.c_contiguous:
        raise ValueError(f"{name}: a buffer of {out.nbytes} contiguous bytes cannot take an "
                         f"entry of {entry.nbytes}")
    if not entry.nbytes:
        return
    if os.preadv(fd, [memoryview(out).cast("B")], entry.data_offset) != out.nbytes:
        raise _truncated(name, entry.data_offset)


def read_npy_entry(fd: int, offset: int, name: str = "ark") -> np.ndarray:
    """The array of the NumPy ark entry at ``offset`` (a fresh array, read with two
    ``pread`` calls and no intermediate buffer); equals ``kaldiio.load_mat(f"{name}:{offset}")``."""
    entry = locate_npy_entry(fd, offset, name)
    flat = np.empty(int(np.prod(entry.shape, dtype=np.int64)), dtype=entry.dtype)
    read_npy_data(fd, entry, flat, name)
    return flat.reshape(entry.shape, order="F" if entry.fortran else "C")


def _npy_entry_bounds(prefix: bytes, offset: int, name: str) -> Tuple[int, int]:
    """Byte positions (from the entry start) of the ``.npy`` file and of its data."""
    if len(prefix) < 4:
        raise _truncated(name, offset)
    if prefix[:3] != NPY_ENTRY_TAG:
        raise NotNpyEntryError(f"{name}:{offset}: not a NumPy ark entry (starts {prefix[:8]!r})")
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


@contextlib.contextmanager
def _open_source(name: str):
    """Yield what libsndfile reads: an open file descriptor for a path (read natively,
    without the Python callback per read that a file object costs: a quarter less CPU
    per 10 s clip), or a file object holding the stdout of a ``cmd |`` entry."""
    if name.rstrip().endswith("|"):
        command = name.rstrip()[:-1].strip()
        proc = subprocess.run(command, shell=True, capture_output=True)
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()[-500:]
            raise AudioError(
                f"{name}: the command exited with status {proc.returncode} ({stderr}); "
                "fix the command in wav.scp"
            )
        if not proc.stdout:
            raise AudioError(f"{name}: the command wrote nothing; fix the command in wav.scp")
        yield io.BytesIO(proc.stdout)
        return
    try:
        fd = os.open(name, os.O_RDONLY)
    except OSError as err:
        raise AudioError(
            f"{name}: cannot open ({err.strerror}); fix the path in wav.scp "
            "or re-run data preparation"
        ) from err
    try:
        total = os.fstat(fd).st_size
        if total == 0:
            raise AudioError(
                f"{name}: the file is empty (0 bytes); re-extract or re-download it, "
                "or remove it from wav.scp"
            )
        _check_riff_data_complete(fd, total, name)
        yield fd
    finally:
        os.close(fd)


def _check_riff_data_complete(fd: int, total: int, name: str) -> None:
    """Fail when a RIFF/WAVE ``data`` chunk declares more bytes than the file holds.

    libsndfile reads such a file without error, silently returning the samples that
    are present. The layout walked here is the RIFF chunk list of the Microsoft WAVE
    format (``"RIFF" size "WAVE"``, then ``id size payload`` chunks padded to even size);
    other containers are left to libsndfile. ``pread`` leaves the file position at 0.
    """
    head = os.pread(fd, 12, 0)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    position = 12
    while position + 8 <= total:
        chunk_id, size = struct.unpack("<4sI", os.pread(fd, 8, position))
        if chunk_id == b"data":
            present = total - position - 8
            if size != _RIFF_UNKNOWN_SIZE and size > present:
                raise AudioError(
                    f"{name}: truncated: the header declares {size} bytes of audio but "
                    f"the file holds {present}; re-extract or re-download it"
                )
            break
        position += 8 + size + (size & 1)


def _as_float(samples: np.ndarray) -> np.ndarray:
    """int16 -> float64 in [-1, 1); float input is returned unchanged."""
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / INT16_SCALE
    return samples


def _as_int16(samples: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] -> int16 with rounding and clipping; int16 passes through."""
    if samples.dtype == np.int16:
        return samples
    scaled = np.rint(samples * INT16_SCALE)
    return np.clip(scaled, -INT16_SCALE, INT16_SCALE - 1).astype(np.int16)


def _resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited (windowed-sinc) resampling with torchaudio.functional.resample."""
    # Imported here: most dump jobs never resample and skip the torch import time.
    import torch
    import torchaudio.functional

    waveform = torch.from_numpy(np.ascontiguousarray(samples))
    return torchaudio.functional.resample(waveform, orig_sr, target_sr).numpy()
