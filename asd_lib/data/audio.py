"""Waveform I/O for stage 2: read a ``wav.scp`` entry, fix its length, dump int16 to ark/scp.

Every clip becomes a 1-D ``int16`` array at one sample rate and one length, so the
training and inference readers never see a corpus quirk. Bad input is an error naming
the file and the fix: an unreadable, empty, truncated or non-finite wav raises
:class:`AudioError`; several channels keep the first (the DCASE 2020 corpus holds the
first microphone of MIMII) and another sample rate is resampled, each logged at INFO.

Samples are scaled as in libsndfile's float view of PCM: an integer sample ``v`` of
``b`` bits is ``v / 2**(b-1)``; the int16 output is ``round(32768 * x)`` clipped to
``[-32768, 32767]``, so 8-, 16- and 24-bit PCM map exactly where int16 can hold the
value and 16-bit files (read as int16 directly) round-trip bit for bit.

Float samples beyond full scale (``|x| > 1``, e.g. a float wav summed without
normalising) are clipped. Each file with such samples is logged with their share; above
``max_clipped`` (:data:`MAX_CLIPPED`, 1 % of the samples, by default) the file is refused
(:class:`AudioError`), since its peaks are lost and the flattened waveform is not the
machine's sound; ``max_clipped=1.0`` allows every file.

A clip that needs no conversion (a complete 16-bit mono PCM wav at the dump rate, at
least a segment long) is referenced in place by default (``copy="auto"``): its scp
location points at the wav itself (``x.wav:0``, or ``x.wav:0[0:N-1]`` to crop it to N
samples), so stage 2 reads a header per clip instead of copying the corpus, and the
readers ``pread`` the samples straight from the wav's data chunk
(:mod:`asd_lib.data.entries`). Every other clip is converted and copied into
``<out_prefix>.ark`` as a NumPy ``.npy`` object (kaldiio ``write_function="numpy"``), which
keeps the int16 dtype (Kaldi's own binary matrices are float-only). ``copy="always"``
copies every clip, for a dump that must not depend on the corpus staying in place.
``kaldiio.load_mat`` reads both kinds of location (a referenced wav as ``(rate, samples)``).

A ``wav.scp`` value ending in ``|`` is a Kaldi command entry (``sox x.flac -t wav - |``,
https://kaldi-asr.org/doc/io.html "Extended filenames"): its stdout is the wav. Since it
runs in a shell, such an entry is read only with ``allow_pipes`` (``--allow_pipes true``
of stage 2 and ``detect --scp``); otherwise it is an error naming the file and the line.
Paths given directly (:class:`WavSource` with ``pipe=False``, e.g. the wav files of
``detect``) are always read as paths, whatever their name.
"""
import contextlib
import io
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, NamedTuple, Optional, Tuple

import kaldiio
import numpy as np
import soundfile as sf
from tqdm import tqdm

from asd_lib.data.datadir import is_pipe, pipe_refused
from asd_lib.data.entries import RIFF_UNKNOWN_SIZE, wave_layout
from asd_lib.utils.fileio import atomic_write, read_kv
from asd_lib.utils.log import progress_enabled

INT16_SCALE = 32768.0
# Sample formats that convert to int16 without rounding (8-bit codes scale exactly).
EXACT_SUBTYPES = ("PCM_16", "PCM_U8", "PCM_S8")
SHORT_CLIP_MODES = ("tile", "pad")
COPY_MODES = ("auto", "always")
MAX_CLIPPED = 0.01
"""Share of a file's samples that may lie beyond full scale (and be clipped) by default."""
SEGMENT_SEC_RANGE = (1.0, 60.0)
"""Clip lengths (s) that the recipe dumps (asd.sh ``--segment_sec``). Our bounds, not the
organisers': the official clips are about 10 s (DCASE 2020-2025 task descriptions); a 1 s
clip still gives the front-ends 32 frames (n_fft 1024, hop 512 at 16 kHz), while a clip of a
few samples stops stage 3 with a padding error; 60 s (1.9 MB of int16 at 16 kHz) is six
times the official length, and a typo (``1e9``, ``inf``) cannot exhaust the memory.
``bin/dump.py`` alone takes any length up to the upper bound that gives one sample."""
SAMPLE_RATE_RANGE = (8000, 192000)
"""Dump sample rates (Hz, ``--sample_rate``): our bounds, from telephone rate to the highest
common studio rate (the official corpora are 16 kHz)."""


class AudioError(ValueError):
    """A wav that cannot be used; the message names the file and the fix."""


class WavSource(NamedTuple):
    """Where a clip's audio comes from: a file path, or with ``pipe`` a ``cmd |`` entry of
    a ``wav.scp`` whose command writes the wav to its stdout."""

    value: str
    pipe: bool = False


def wav_scp_sources(wav_scp, allow_pipes: bool = False) -> Dict[str, WavSource]:
    """The clips of a ``wav.scp`` in file order. A value ending in ``|`` is a command,
    accepted only with ``allow_pipes``: otherwise it is an error naming the file, the line
    and ``--allow_pipes``."""
    table = read_kv(wav_scp)
    sources = {utt: WavSource(value, is_pipe(value)) for utt, value in table.items()}
    refused = next((utt for utt, source in sources.items() if source.pipe), None)
    if refused is not None and not allow_pipes:
        with open(wav_scp, encoding="utf-8") as f:
            lineno = next(n for n, line in enumerate(f, 1) if line.split()[:1] == [refused])
        raise pipe_refused(wav_scp, lineno, refused)
    return sources


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
    num_referenced: int  # clips referenced in place, not copied
    num_length_fixed: int
    num_resampled: int


def read_wav(path, target_sr: int = 16000, max_clipped: float = MAX_CLIPPED,
             pipe: bool = False) -> np.ndarray:
    """Read one clip as 1-D int16: the file at ``path``, or with ``pipe`` the stdout of the
    ``wav.scp`` command entry ``path`` (``cmd |``); more than ``max_clipped`` of its
    samples beyond full scale is an :class:`AudioError`."""
    return read_wav_with_info(path, target_sr, max_clipped, pipe)[0]


def read_wav_with_info(path, target_sr: int = 16000, max_clipped: float = MAX_CLIPPED,
                       pipe: bool = False) -> Tuple[np.ndarray, WavInfo]:
    """Like :func:`read_wav`, also returning the file's own rate, channels and subtype."""
    name = str(path)
    with _open_source(name, pipe) as source:
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
    clipped = _beyond_full_scale(samples)
    if clipped:
        share = clipped / samples.size
        if share > max_clipped:
            raise AudioError(
                f"{name}: {clipped} of {samples.size} samples ({share:.2%}) are beyond full "
                f"scale and would be clipped, more than --max_clipped {max_clipped:g} allows; "
                "normalise the file, or re-run with a higher --max_clipped (1.0 allows any)"
            )
        logging.warning("%s: %d of %d samples (%.2f%%) beyond full scale, clipped", name,
                        clipped, samples.size, 100 * share)
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
    copy: str = "auto",
    max_clipped: float = MAX_CLIPPED,
    allow_pipes: bool = False,
) -> DumpStats:
    """Index every clip of ``wav_scp`` as fixed-length int16 in ``<out_prefix>.scp``; its
    ``cmd |`` entries are run only with ``allow_pipes`` (:func:`wav_scp_sources`)."""
    return dump_clips(wav_scp_sources(wav_scp, allow_pipes).items(), out_prefix, sample_rate,
                      segment_sec, short_clip, copy, max_clipped)


def dump_clips(
    clips: Iterable[Tuple[str, WavSource]],
    out_prefix,
    sample_rate: int = 16000,
    segment_sec: float = 10.0,
    short_clip: str = "tile",
    copy: str = "auto",
    max_clipped: float = MAX_CLIPPED,
) -> DumpStats:
    """Index every ``(utt, source)`` clip as fixed-length int16 in ``<out_prefix>.scp``.

    With ``copy="auto"`` a clip that needs no conversion is referenced in place (module
    docstring); the others, and every clip with ``copy="always"``, are converted and
    written to ``<out_prefix>.ark`` (no archive when nothing was copied).

    All or nothing: the archive is written under a temporary name beside the final one
    (:func:`~asd_lib.utils.fileio.atomic_write`; offsets do not depend on the name) and
    renamed only when every clip succeeded, so a failing clip (one with more than
    ``max_clipped`` of its samples beyond full scale among them) raises
    :class:`AudioError` and leaves any earlier complete output untouched. The scp holds
    ``utt <location>`` with the final archive path as given; an old scp is removed before
    the archive is replaced and the new one is written last, so a killed run never
    leaves an scp that points into the wrong archive.
    """
    if sample_rate <= 0 or segment_sec <= 0:
        raise ValueError(
            f"sample_rate={sample_rate} and segment_sec={segment_sec} must be positive"
        )
    if short_clip not in SHORT_CLIP_MODES:
        raise ValueError(f"short_clip={short_clip!r}; choose one of {SHORT_CLIP_MODES}")
    if copy not in COPY_MODES:
        raise ValueError(f"copy={copy!r}; choose one of {COPY_MODES}")
    if not 0 <= max_clipped <= 1:
        raise ValueError(f"max_clipped={max_clipped}; it is a share of samples, 0 to 1")
    clips = list(clips)
    num_samples = int(round(segment_sec * sample_rate))
    ark_path, scp_path = Path(f"{out_prefix}.ark"), Path(f"{out_prefix}.scp")
    scp_lines = []
    num_referenced = num_fixed = num_resampled = 0
    with contextlib.ExitStack() as outputs:
        ark = None
        entries = tqdm(
            clips, total=len(clips), desc=f"dump {scp_path.name}",
            unit="clip", disable=not progress_enabled(),
        )
        for utt, source in entries:
            reference = None
            if copy == "auto" and not source.pipe:
                reference = in_place_location(source.value, sample_rate, num_samples)
            if reference is not None:
                location, note = reference
                num_referenced += 1
            else:
                samples, info = read_wav_with_info(source.value, sample_rate, max_clipped,
                                                   source.pipe)
                num_resampled += info.sample_rate != sample_rate
                samples, note = fix_length(samples, num_samples, short_clip)
                if ark is None:
                    ark = outputs.enter_context(atomic_write(ark_path, "wb"))
                # A Kaldi archive entry is "<key> <object>"; the scp offset is the object's.
                location = f"{ark_path}:{ark.tell() + len(f'{utt} '.encode('utf-8'))}"
                kaldiio.save_ark(ark, {utt: samples}, write_function="numpy")
            if note is not None:
                num_fixed += 1
                logging.info("%s: %s", utt, note)
            scp_lines.append(f"{utt} {location}\n")
        # Every clip succeeded: drop the old scp before the new archive replaces the old.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scp_path)
        if ark is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(ark_path)
    with atomic_write(scp_path) as scp:
        scp.writelines(scp_lines)
    stats = DumpStats(len(scp_lines), num_referenced, num_fixed, num_resampled)
    logging.info(
        "dumped %d clips (%d referenced in place, %d copied), %d length-fixed, %d resampled "
        "to %s", stats.num_clips, stats.num_referenced, stats.num_clips - stats.num_referenced,
        stats.num_length_fixed, stats.num_resampled, scp_path,
    )
    return stats


def in_place_location(path: str, sample_rate: int,
                      num_samples: int) -> Optional[Tuple[str, Optional[str]]]:
    """The scp location of the wav at ``path`` read in place, with a note for the log when
    it is cropped; ``None`` when the clip needs converting (another format, rate or
    channel count, a short or incomplete file), cannot be opened (the conversion path
    then reports why), or has a name ending in ``|``, which readers of Kaldi locations
    would take for a command."""
    if is_pipe(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        layout = wave_layout(fd)
    finally:
        os.close(fd)
    if (layout is None or not layout.is_pcm16_mono or layout.sample_rate != sample_rate
            or not layout.complete or layout.num_samples < num_samples):
        return None
    if layout.num_samples == num_samples:
        return f"{path}:0", None
    return (f"{path}:0[0:{num_samples - 1}]",
            f"cropped {layout.num_samples} -> {num_samples} (in place)")


@contextlib.contextmanager
def _open_source(name: str, pipe: bool):
    """Yield what libsndfile reads: an open file descriptor for a path (read natively,
    without the Python callback per read that a file object costs: a quarter less CPU
    per 10 s clip), or with ``pipe`` a file object holding the stdout of the ``cmd |``
    entry ``name``, run in a shell as Kaldi runs it."""
    if pipe:
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
        _check_wave_data_complete(fd, name)
        yield fd
    finally:
        os.close(fd)


def _check_wave_data_complete(fd: int, name: str) -> None:
    """Fail when a RIFF/WAVE ``data`` chunk declares more bytes than the file holds:
    libsndfile reads such a file without error, silently returning the samples present.
    Other containers are left to libsndfile."""
    layout = wave_layout(fd)
    if layout is not None and not layout.complete and layout.declared_bytes != RIFF_UNKNOWN_SIZE:
        raise AudioError(
            f"{name}: truncated: the header declares {layout.declared_bytes} bytes of audio "
            f"but the file holds {layout.present_bytes}; re-extract or re-download it"
        )


def _as_float(samples: np.ndarray) -> np.ndarray:
    """int16 -> float64 in [-1, 1); float input is returned unchanged."""
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / INT16_SCALE
    return samples


def _beyond_full_scale(samples: np.ndarray) -> int:
    """How many float samples lie outside [-1, 1] (int16 input has none)."""
    if samples.dtype == np.int16:
        return 0
    return int(np.count_nonzero(np.abs(samples) > 1.0))


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
