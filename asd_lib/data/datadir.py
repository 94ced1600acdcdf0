"""Kaldi-style data directories (``data/<set>/``): validation and loading.

A data dir holds one text file per attribute, one ``<utt-id> <value>`` line per clip,
keys unique and sorted in C-locale byte order (``LC_ALL=C sort -k1,1``), the convention of
Kaldi's ``utils/validate_data_dir.sh`` (https://kaldi-asr.org/doc/data_prep.html). The
files and their values are listed in ``docs/architecture.md`` ("Data directories"):
``wav.scp`` (or ``feats.scp``) indexes the clips and every other present file covers
exactly the same keys.
"""
import logging
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from asd_lib.utils.fileio import read_kv

DATA_FILES = (
    "wav.scp",
    "feats.scp",
    "utt2machine",
    "utt2section",
    "utt2domain",
    "utt2attr",
    "utt2label",
    "utt2class",
)
INDEX_FILES = ("wav.scp", "feats.scp")
AUDIO_SUFFIXES = (".wav", ".flac")
ALLOWED_VALUES = {
    "utt2label": ("normal", "anomaly"),
    "utt2domain": ("source", "target"),
}


class DataDirError(ValueError):
    """A data directory breaks the format; the message names the file and the fix."""


def _read_table(path: Path, require_sorted: bool = True) -> List[Tuple[int, str, str]]:
    """Read ``path`` strictly as ``(line number, key, value)`` rows.

    Checks, in order: readable, not empty, no CR characters, UTF-8, every line ``key value``
    (the value is the rest of the line, spaces included), unique keys, and with
    ``require_sorted`` keys sorted in C-locale byte order.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataDirError(
            f"{path}: cannot read ({e.strerror}); check the path and permissions"
        ) from None
    if not raw.strip():
        raise DataDirError(
            f"{path}: file is empty; remove it or re-run data preparation for this set"
        )
    if b"\r" in raw:
        lineno = raw[:raw.index(b"\r")].count(b"\n") + 1
        raise DataDirError(
            f"{path}: Windows line endings (CR characters, the first on line {lineno}): "
            f"run dos2unix {path}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataDirError(
            f"{path}: not valid UTF-8 at byte {e.start}; re-write it as UTF-8 text"
        ) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()

    rows: List[Tuple[int, str, str]] = []
    seen: Dict[str, int] = {}
    prev_key: Optional[bytes] = None
    for lineno, line in enumerate(lines, 1):
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            raise DataDirError(
                f"{path}:{lineno}: expected '<utt-id> <value>', got {line!r}; "
                "fix or remove this line"
            )
        key, value = parts
        if key in seen:
            raise DataDirError(
                f"{path}:{lineno}: duplicate key {key!r} (also on line {seen[key]}); keys "
                "must be unique (remove one of the two lines or re-run data preparation)"
            )
        key_bytes = key.encode("utf-8")
        if require_sorted and prev_key is not None and key_bytes < prev_key:
            raise DataDirError(
                f"{path}:{lineno}: not sorted ({key!r} after {prev_key.decode('utf-8')!r}): "
                f"run `LC_ALL=C sort -k1,1 -o {path} {path}`"
            )
        seen[key] = lineno
        prev_key = key_bytes
        rows.append((lineno, key, value.rstrip()))
    return rows


def _stage1_source(path: Path) -> Optional[Path]:
    """The ``data/<set>/<name>`` file that stage 2 copied to ``path``
    (``dump/<set>/<name>`` of a dumped set, beside its ``feats.scp``; docs/architecture.md),
    when it still holds the same bytes; ``None`` for any other file."""
    set_dir = path.parent
    source = set_dir.parent.parent / "data" / set_dir.name / path.name
    if path.name == "feats.scp" or not (set_dir / "feats.scp").is_file():
        return None
    try:
        if source.resolve() == path.resolve() or source.read_bytes() != path.read_bytes():
            return None
    except OSError:
        return None
    return source


def _read_copy(path: Path) -> List[Tuple[int, str, str]]:
    """:func:`_read_table`; where ``path`` is stage 2's copy of a ``data/`` file
    (:func:`_stage1_source`), the error names that file, the one to fix."""
    try:
        return _read_table(path)
    except DataDirError:
        source = _stage1_source(path)
        if source is None:
            raise
        try:
            _read_table(source)
        except DataDirError as err:
            raise DataDirError(f"{err}; then re-run stage 2, which copies it to {path}") from None
        raise


def _check_same_keys(path: Path, keys: List[str], index_path: Path, index_keys: List[str]):
    """Both key lists are sorted; name the first key missing from or extra in ``path``."""
    if keys == index_keys:
        return
    key_set, index_set = set(keys), set(index_keys)
    missing = [k for k in index_keys if k not in key_set]
    if missing:
        raise DataDirError(
            f"{path}: key {missing[0]!r} of {index_path.name} is missing "
            f"({len(missing)} missing in all); every file must cover the same utterances "
            "(re-run data preparation)"
        )
    extra = [k for k in keys if k not in index_set]
    raise DataDirError(
        f"{path}: key {extra[0]!r} is not in {index_path.name} ({len(extra)} extra in all); "
        "every file must cover the same utterances (re-run data preparation)"
    )


def is_pipe(value: str) -> bool:
    """Whether a ``wav.scp`` value is a Kaldi command entry (``cmd |``: run it, read its
    stdout) rather than a path."""
    return value.rstrip().endswith("|")


def pipe_refused(path, lineno: int, key: str) -> "DataDirError":
    """The error for a ``cmd |`` entry of a ``wav.scp`` read without ``--allow_pipes``."""
    return DataDirError(
        f"{path}:{lineno}: the entry of {key!r} ends in '|', a command to run; commands in a "
        "wav.scp run only with --allow_pipes true: write the audio file's path instead, or "
        f"pass --allow_pipes true if you trust every command in {Path(path).name}"
    )


def _check_audio(path: Path, rows: Iterable[Tuple[int, str, str]]) -> None:
    """Each plain ``wav.scp`` entry (not a ``cmd |`` pipe) names an existing non-empty file."""
    for lineno, key, value in rows:
        if is_pipe(value):
            continue
        if not os.path.isfile(value):
            raise DataDirError(
                f"{path}:{lineno}: audio file {value} of {key!r} does not exist; fix this "
                "line (or the corpus path in db.sh and re-run data preparation)"
            )
        if os.path.getsize(value) == 0:
            raise DataDirError(
                f"{path}:{lineno}: audio file {value} of {key!r} is empty (0 bytes); "
                f"re-extract or re-download it, or remove line {lineno} from {path.name}"
            )


def check_wav_scp(path, allow_pipes: bool = False) -> int:
    """Check one ``wav.scp`` on its own, as stage 2 reads it (a split part may be given),
    and return its number of lines.

    The rules of :func:`validate_data_dir` for one file, without the sort order, plus
    what ``check_audio`` checks: every plain path names an existing non-empty file. A
    ``cmd |`` entry is accepted only with ``allow_pipes`` (``--allow_pipes true``), since
    reading it runs the command in a shell. Raises :class:`DataDirError` naming the file,
    the line and the fix.
    """
    path = Path(path)
    rows = _read_table(path, require_sorted=False)
    if not allow_pipes:
        for lineno, key, value in rows:
            if is_pipe(value):
                raise pipe_refused(path, lineno, key)
    _check_audio(path, rows)
    return len(rows)


def validate_data_dir(
    path,
    require: Iterable[str] = ("utt2machine", "utt2section"),
    check_audio: bool = False,
    only: Optional[Iterable[str]] = None,
) -> int:
    """Check the data dir ``path`` and return its number of utterances.

    ``require`` names files that must exist besides ``wav.scp`` or ``feats.scp``. With
    ``check_audio`` every file path in ``wav.scp`` must exist and be non-empty (relative
    paths are taken from the current directory, as in Kaldi recipes). ``only`` limits the
    check to those files (and the index): the others are not even opened.
    Raises :class:`DataDirError` naming the file and the fix; for a file of a dumped set
    that stage 2 copied from ``data/<set>/`` unchanged, the ``data/`` file to fix.
    """
    path = Path(path)
    require = tuple(require)
    unknown = [name for name in require if name not in DATA_FILES]
    if unknown:
        raise ValueError(f"unknown data file(s) {unknown}; choose from {DATA_FILES}")
    if not path.is_dir():
        raise DataDirError(f"{path}: not a directory; run data preparation (stage 1) first")

    present = [name for name in DATA_FILES if (path / name).is_file()
               and (only is None or name in INDEX_FILES or name in only)]
    index_names = [name for name in INDEX_FILES if name in present]
    if not index_names:
        raise DataDirError(
            f"{path}: neither wav.scp nor feats.scp exists; run data preparation (stage 1)"
        )
    for name in require:
        if name not in present:
            raise DataDirError(
                f"{path}: required file {name} is missing; re-run data preparation for this set"
            )

    index_path = path / index_names[0]
    index_rows = _read_copy(index_path)
    index_keys = [key for _, key, _ in index_rows]
    for name in present:
        file_path = path / name
        rows = index_rows if file_path == index_path else _read_copy(file_path)
        _check_same_keys(file_path, [key for _, key, _ in rows], index_path, index_keys)
        allowed = ALLOWED_VALUES.get(name)
        if allowed:
            for lineno, key, value in rows:
                if value not in allowed:
                    raise DataDirError(
                        f"{file_path}:{lineno}: value {value!r} of {key!r} must be one of "
                        f"{', '.join(allowed)}; fix the data preparation script"
                    )
        if check_audio and name == "wav.scp":
            _check_audio(file_path, rows)
        logging.debug("%s: %d lines ok", file_path, len(rows))
    return len(index_keys)


def load_data_dir(
    path, require: Iterable[str] = ("utt2machine", "utt2section"),
    only: Optional[Iterable[str]] = None,
) -> Dict[str, Dict[str, str]]:
    """Validate ``path``, then map each present data file name to its ``{utt: value}`` table
    (with ``only``, just those files and the index; the others are not opened)."""
    only = None if only is None else tuple(only)
    validate_data_dir(path, require=require, only=only)
    path = Path(path)
    return {name: read_kv(path / name) for name in DATA_FILES if (path / name).is_file()
            and (only is None or name in INDEX_FILES or name in only)}


def utt_ids(path) -> List[str]:
    """Utterance IDs of the data dir ``path`` (keys of wav.scp, else feats.scp), C-sorted."""
    path = Path(path)
    for name in INDEX_FILES:
        if (path / name).is_file():
            return sorted(read_kv(path / name), key=lambda key: key.encode("utf-8"))
    raise DataDirError(
        f"{path}: neither wav.scp nor feats.scp exists; run data preparation (stage 1)"
    )


def clip_file_name(wav_entry: str) -> str:
    """File name of a clip from its ``wav.scp`` value: the base name of the path.

    For a command entry (ending in ``|``), the base name of its single audio-file token.
    """
    entry = wav_entry.strip()
    if not is_pipe(entry):
        return os.path.basename(entry)
    audio_tokens = [t for t in entry[:-1].split() if t.lower().endswith(AUDIO_SUFFIXES)]
    if len(audio_tokens) != 1:
        raise ValueError(
            f"cannot tell the clip file name of the wav.scp command {entry!r}: it needs "
            f"exactly one token ending in {' or '.join(AUDIO_SUFFIXES)}"
        )
    return os.path.basename(audio_tokens[0])
