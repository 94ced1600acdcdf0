"""What every corpus module shares: a clip of a scanned corpus, the file to fetch, checks of
the official folders and files, and the Kaldi data dirs written from the clips."""
import logging
import os
import shutil
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import soundfile

from asd_lib.utils.fileio import write_kv

NO_ATTRIBUTE = "noAttribute"
"""The attribute string of a clip whose attributes the official names hide."""

logger = logging.getLogger(__name__)


class RemoteFile(NamedTuple):
    """One file to fetch: ``target`` is relative to the corpus dir (unzip into / copy to);
    ``size`` in bytes where known."""

    name: str
    url: str
    md5: Optional[str]
    target: str
    unzip: bool
    size: Optional[int] = None


class Clip(NamedTuple):
    """A clip of a scanned corpus; ``None`` where the official name does not tell (an
    evaluation test clip without its ground-truth list)."""

    utt: str
    path: Path
    machine: str
    section: str  # "id_00" (DCASE 2020), "section_00" (2021 onwards)
    domain: Optional[str]  # source / target
    attr: Optional[str]  # attribute string, NO_ATTRIBUTE where hidden; None: none in the layout
    label: Optional[str]  # normal / anomaly


def parse_machine_list(text: Optional[str], machine_types: Sequence[str],
                       corpus: str) -> Optional[Tuple[str, ...]]:
    """``"ToyCar,fan"`` -> ``("ToyCar", "fan")`` in official order; ``None``/"" -> ``None``."""
    if not text:
        return None
    names = [n for n in (p.strip() for p in text.split(",")) if n]
    unknown = sorted(set(names) - set(machine_types))
    if unknown:
        raise ValueError(f"unknown {corpus} machine type(s) {unknown}; choose from "
                         f"{', '.join(machine_types)}")
    return tuple(m for m in machine_types if m in names)


def visible_entries(directory: Path) -> List[Path]:
    """Entries of a directory without hidden files (.DS_Store, AppleDouble ``._x.wav``) and
    the ``__MACOSX`` folder that some zip tools add."""
    return sorted(
        p for p in directory.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"
    )


RAW_DIR = "raw"
"""The folder under ``dev_data/`` and ``eval_data/`` into which the official baseline's
download scripts unpack the archives (``nttcslab/dcase2023_task2_baseline_ae``,
``data_download_2024dev.sh``: ``dev_data/raw/<M>``; ``data_download_2024eval.sh``:
``eval_data/raw/<M>``); its ``processed/`` sibling holds the baseline's own features."""


def machine_type_root(split_dir: Path, machine_types: Sequence[str]) -> Path:
    """The folder of ``split_dir`` (``dev_data/`` or ``eval_data/``) that holds the
    machine-type folders: ``split_dir`` itself, as the Zenodo archives unpack
    (``dev_data/<M>``), or ``split_dir/raw``, as the official baseline's download scripts
    unpack them (:data:`RAW_DIR`). The layout found is logged; machine-type folders in
    both places (of ``machine_types``, the corpus's) are an error naming them."""
    raw = split_dir / RAW_DIR
    if not raw.is_dir():
        logger.info("%s: machine-type folders directly inside (the layout of the archives)",
                    split_dir)
        return split_dir
    direct = [p.name for p in visible_entries(split_dir) if p.is_dir() and p.name in machine_types]
    if direct:
        raise ValueError(f"{split_dir}: machine-type folders both directly inside "
                         f"({', '.join(direct)}) and in {RAW_DIR}/; keep one layout: move "
                         f"them all into {raw} or all out of it")
    logger.info("%s: machine-type folders in %s/ (the layout of the official baseline's "
                "download scripts)", split_dir, RAW_DIR)
    return raw


def log_missing_eval_test(folders: Sequence[Path], num_types: int) -> None:
    """Report the eval test folders (``eval_data/<M>/test``) that are missing, once: with
    some types' folders present eval_test covers those types only (a warning naming the
    missing folders); with none present there is no eval_test set (logged)."""
    if not folders:
        return
    if len(folders) < num_types:
        logger.warning("no eval test folder %s; eval_test covers the other machine types only",
                       " ".join(map(str, folders)))
    else:
        logger.info("no eval test folders (e.g. %s): eval_test is not made", folders[0])


def check_wav(path: Path) -> None:
    """Reject a 0-byte, unreadable or 0-sample wav (header read with soundfile.info)."""
    fix = "re-extract the archive (or re-run stage 0) or delete the file"
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes); {fix}")
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as err:
        raise ValueError(f"{path}: unreadable wav ({err}); {fix}") from err
    if info.frames == 0:
        raise ValueError(f"{path}: wav has 0 samples; {fix}")


def need_dir(directory: Path, hint: str) -> Path:
    if not directory.is_dir():
        raise ValueError(f"{directory}: folder missing; {hint}")
    return directory


def check_unique(set_name: str, clips: List[Clip]) -> None:
    first: Dict[str, Path] = {}
    for clip in clips:
        if clip.utt in first:
            raise ValueError(
                f"duplicate utterance id {clip.utt!r} in set {set_name}: {first[clip.utt]} and "
                f"{clip.path}; remove one of the two files"
            )
        first[clip.utt] = clip.path


def write_data_dir(data_dir, clips: List[Clip]) -> None:
    """Write one Kaldi-style data dir, replacing any previous one only once complete.

    Files: wav.scp, utt2machine, utt2section, and utt2domain, utt2attr, utt2label when every
    clip has them.
    """
    data_dir = Path(data_dir)
    tmp = data_dir.parent / f".{data_dir.name}.tmp"
    old = data_dir.parent / f".{data_dir.name}.old"
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    write_kv(tmp / "wav.scp", ((c.utt, str(c.path)) for c in clips))
    write_kv(tmp / "utt2machine", ((c.utt, c.machine) for c in clips))
    write_kv(tmp / "utt2section", ((c.utt, c.section) for c in clips))
    for name, field in (("utt2domain", "domain"), ("utt2attr", "attr"), ("utt2label", "label")):
        values = [(c.utt, getattr(c, field)) for c in clips]
        if all(v is not None for _, v in values):
            write_kv(tmp / name, values)
    if data_dir.exists():
        os.replace(data_dir, old)
    os.replace(tmp, data_dir)
    if old.exists():
        shutil.rmtree(old)


def write_sets(data_dir, sets: Dict[str, List[Clip]], set_names: Sequence[str]) -> Dict[str, int]:
    """Write every set's data dir under ``data_dir``; a set of ``set_names`` that this run
    does not make is removed, so it cannot be used stale. Returns the clips per set."""
    for name, clips in sets.items():
        write_data_dir(Path(data_dir) / name, clips)
        logger.info("wrote %s: %d clips", Path(data_dir) / name, len(clips))
    for name in set_names:
        stale = Path(data_dir) / name
        if name not in sets and stale.is_dir():
            shutil.rmtree(stale)
            logger.info("removed %s (not made by this run)", stale)
    return {name: len(clips) for name, clips in sets.items()}
