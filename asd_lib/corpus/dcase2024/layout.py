"""DCASE 2024 Challenge Task 2 (first-shot ASD under domain shift): constants, layout, data prep.

Sources of the facts below:

* machine types, the one section per type, file names, hidden attributes and the
  ``attributes_00.csv`` layout: the task description (Nishida et al., "Description and
  discussion on DCASE 2024 Challenge Task 2", arXiv 2406.07250) and the official baseline
  ``nttcslab/dcase2023_task2_baseline_ae`` (``tools/data_download_2024.sh``);
* archive URLs: Zenodo records 10902294 (development, ``dev_<M>.zip``), 11259435 (additional
  training, ``eval_data_<M>_train[_r2].zip``) and 11363076 (evaluation test,
  ``eval_data_<M>_test.zip``), as fetched by that script. No MD5 sums of these archives are
  published in the baseline, the evaluator or a dataset loader (soundata stops at 2023), so a
  download is checked by size (non-empty) and by the CRC32 of every zip member instead
  (:func:`asd_lib.corpus.download.check_zip`);
* the evaluation ground truth ``eval_data_list_2024.csv``: it is not on Zenodo but in the
  baseline repository (``datasets/eval_data_list_2024.csv``, read by its
  ``tools/rename_eval_wav.py``); rows are ``section_00_NNNN.wav,<full name>`` under a
  machine-type header row, with CRLF line endings; the label and domain are read from the
  full name. No checksum is published, so a download is checked by parsing it
  (:func:`read_eval_list`). The per-clip label lists of the official evaluator
  (``nttcslab/dcase2024_task2_evaluator/ground_truth_data``) carry the same labels.

Official irregularities handled here: the first index of a numbering is 0000 or 0001
depending on the type (never assumed); attributes are usually ``key_value`` pairs but not
always (RoboticArm ``weight15_BckgF``, BrushlessMotor ``spd1000_BckgC``) and are hidden
(``noAttribute``) for some types; RoboticArm's full eval test names have no ``test`` token.

Data preparation writes ``train`` (dev train + additional train of the evaluation types),
``dev_test`` and ``eval_test``; with ``separate_eval_train`` the additional training clips go
to ``eval_train`` instead of ``train`` (for systems trained per split). Every file name is
checked; the attribute string of a clip is the part of its name after the index.
"""
import functools
import logging
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from asd_lib.corpus.common import (Clip, RemoteFile, check_unique, check_wav,
                                   log_missing_eval_test, machine_type_root, need_dir,
                                   parse_machine_list, visible_entries, write_sets)
from asd_lib.corpus.download import check_zip
from asd_lib.corpus.eval_list import read_grouped, write_grouped

DEV_TYPES: Tuple[str, ...] = ("bearing", "fan", "gearbox", "slider", "ToyCar", "ToyTrain", "valve")
EVAL_TYPES: Tuple[str, ...] = ("3DPrinter", "AirCompressor", "Scanner", "ToyCircuit",
                               "HoveringDrone", "HairDryer", "ToothBrush", "RoboticArm",
                               "BrushlessMotor")
MACHINE_TYPES: Tuple[str, ...] = DEV_TYPES + EVAL_TYPES
SECTIONS: Tuple[str, ...] = ("00",)
"""One section per machine type (2023 onwards)."""

HIDDEN_ATTRIBUTES: Dict[str, Tuple[str, ...]] = {
    "gearbox": ("train", "test"), "slider": ("train", "test"), "ToyTrain": ("train", "test"),
    "AirCompressor": ("train", "test"), "HoveringDrone": ("train", "test"),
    "ToothBrush": ("train", "test"), "BrushlessMotor": ("train",),
}
"""Machine type -> splits whose names end ``_NNNN_noAttribute.wav``."""
NO_TEST_TOKEN: Tuple[str, ...] = ("RoboticArm",)
"""Types whose full eval test names (in the eval list) omit the ``test`` token:
``section_00_source_normal_0035_weight15_BckgF.wav``."""

ZENODO = "https://zenodo.org"
GITHUB_RAW = "https://raw.githubusercontent.com"
DEV_RECORD = "record/10902294"
ADDITIONAL_TRAIN_RECORD = "records/11259435"
EVAL_TEST_RECORD = "records/11363076"
ADDITIONAL_TRAIN_ARCHIVE: Dict[str, str] = {
    m: f"eval_data_{m}_train{'_r2' if m in ('3DPrinter', 'RoboticArm') else ''}.zip"
    for m in EVAL_TYPES
}
"""3DPrinter and RoboticArm were re-released (``_r2``); the first releases are superseded."""
EVAL_LIST_NAME = "eval_data_list_2024.csv"
EVAL_LIST_PATH = f"nttcslab/dcase2023_task2_baseline_ae/main/datasets/{EVAL_LIST_NAME}"

CLIP_NAME = re.compile(
    r"section_(?P<section>\d{2})_(?P<domain>source|target)_(?:(?P<split>train|test)_)?"
    r"(?P<label>normal|anomaly)_(?P<index>\d{4})_(?P<attr>[A-Za-z0-9.+-]+(?:_[A-Za-z0-9.+-]+)*)\.wav"
)
"""Full names: ``section_00_source_train_normal_0000_m-n_X.wav``; the ``test`` token may be
missing in test names (RoboticArm's eval list)."""
EVAL_TEST_NAME = re.compile(r"section_(?P<section>\d{2})_(?P<index>\d{4})\.wav")
"""Eval test files on disk: ``section_00_0000.wav`` (no label, domain or attributes)."""

DEV_DIR = "dev_data"
EVAL_DIR = "eval_data"
SET_NAMES = ("train", "dev_test", "eval_train", "eval_test")
CORPUS_HINT = "set DCASE2024 in db.sh or run stage 0 to download or synthesize the corpus"

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- names
class ClipName(NamedTuple):
    section: str  # "00"
    domain: str  # source / target
    split: Optional[str]  # train / test / None (token missing)
    label: str  # normal / anomaly
    index: int
    attr: str  # attribute string, e.g. "m-n_X", "weight15_BckgF", "noAttribute"


def parse_clip_name(name: str) -> Optional[ClipName]:
    """Fields of a full DCASE 2024 file name, or ``None`` when it does not match."""
    match = CLIP_NAME.fullmatch(name)
    if not match:
        return None
    return ClipName(match["section"], match["domain"], match["split"], match["label"],
                    int(match["index"]), match["attr"])


def parse_machines(text: Optional[str]) -> Optional[Tuple[str, ...]]:
    """``"fan,RoboticArm"`` -> ``("fan", "RoboticArm")`` in official order; empty -> ``None``."""
    return parse_machine_list(text, MACHINE_TYPES, "DCASE 2024")


# --------------------------------------------------------------------------- archives
def remote_files(machines: Optional[Sequence[str]] = None,
                 mirror: Optional[str] = None) -> List[RemoteFile]:
    """Development, additional-training and evaluation-test archives of ``machines``, and
    the ground-truth list when an evaluation type is among them.

    ``mirror`` replaces the host (``https://zenodo.org`` and ``https://raw.githubusercontent.com``)
    and keeps the path, so one local server can stand in for both.
    """
    zenodo = (mirror or ZENODO).rstrip("/")
    github = (mirror or GITHUB_RAW).rstrip("/")
    machines = machines or MACHINE_TYPES
    files = []
    for machine in machines:
        for record, name in _archives(machine):
            target = DEV_DIR if machine in DEV_TYPES else EVAL_DIR
            files.append(RemoteFile(name, f"{zenodo}/{record}/files/{name}", None, target, True))
    if any(m in EVAL_TYPES for m in machines):
        files.append(RemoteFile(EVAL_LIST_NAME, f"{github}/{EVAL_LIST_PATH}", None, EVAL_LIST_NAME,
                                False))
    return files


def _archives(machine: str) -> List[Tuple[str, str]]:
    """``(Zenodo record, archive name)`` pairs of one machine type."""
    if machine in DEV_TYPES:
        return [(DEV_RECORD, f"dev_{machine}.zip")]
    return [(ADDITIONAL_TRAIN_RECORD, ADDITIONAL_TRAIN_ARCHIVE[machine]),
            (EVAL_TEST_RECORD, f"eval_data_{machine}_test.zip")]


def validators() -> Dict[str, Callable[[Path], object]]:
    """Checks run on downloaded files (no MD5 sums are published for 2024): every archive
    must be a complete zip whose CRC32s match and whose files lie under ``<M>/``; the list
    must parse."""
    checks: Dict[str, Callable[[Path], object]] = {EVAL_LIST_NAME: read_eval_list}
    for machine in MACHINE_TYPES:
        for _, name in _archives(machine):
            checks[name] = functools.partial(check_zip, top=machine)
    return checks


# --------------------------------------------------------------------------- eval list
class EvalListRow(NamedTuple):
    machine: str
    eval_name: str  # section_00_NNNN.wav
    full_name: str  # section_00_source_test_normal_0012_m-n_X.wav
    clip: ClipName  # fields of full_name
    lineno: int


def read_eval_list(path) -> List[EvalListRow]:
    """Parse ``eval_data_list_2024.csv``: a row with one field names a machine type, the rows
    under it are ``eval_name,full_name``. CRLF or LF line endings, optional UTF-8 BOM.

    Both names are checked against the official patterns and must name the same section;
    an eval name or a full name listed twice for a type is an error.
    """
    rows: List[EvalListRow] = []
    seen = set()
    for listed in read_grouped(path, EVAL_TYPES, "DCASE 2024 evaluation machine type", 2,
                               "section_00_NNNN.wav,<full name>", EVAL_LIST_NAME):
        machine, where = listed.machine, listed.where
        eval_name, full_name = listed.fields
        short, clip = EVAL_TEST_NAME.fullmatch(eval_name), parse_clip_name(full_name)
        row = ",".join(listed.fields)
        if not short or clip is None or clip.split == "train":
            raise ValueError(f"{where}: malformed row {row!r} (expected e.g. "
                             "section_00_0000.wav,section_00_source_test_normal_0012_m-n_X.wav)")
        if short["section"] != clip.section:
            raise ValueError(f"{where}: row {row!r} is inconsistent (the two names "
                             "give different sections)")
        for key in ((machine, "eval", eval_name), (machine, "full", full_name)):
            if key in seen:
                raise ValueError(f"{where}: {machine}/{key[2]} is listed twice")
            seen.add(key)
        rows.append(EvalListRow(machine, eval_name, full_name, clip, listed.lineno))
    return rows


def write_eval_list(path, rows: Iterable[Tuple[str, str, str]]) -> None:
    """Write ``(machine, eval_name, full_name)`` rows in the official format (CRLF line
    endings, one header row per machine type in official order, rows by eval name)."""
    write_grouped(path, rows, EVAL_TYPES, line_end="\r\n")


# --------------------------------------------------------------------------- layout scan
def _wavs(directory: Path) -> List[Path]:
    """The ``.wav`` entries of an official folder (hidden files and other files skipped)."""
    paths = []
    for path in visible_entries(directory):
        if path.name.lower().endswith(".wav"):
            paths.append(path)
        else:
            logger.debug("ignoring non-wav file %s", path)
    if not paths:
        raise ValueError(f"{directory}: no wav files; the set is empty ({CORPUS_HINT})")
    return paths


def _bad_name(path: Path, expected: str) -> ValueError:
    return ValueError(f"{path}: name does not follow the official DCASE 2024 layout (expected "
                      f"{expected}, lower-case .wav); rename or remove it")


def _scan_named(directory: Path, machine: str, split: str) -> List[Clip]:
    """Clips of a folder whose files carry full names (train folders, dev test folders)."""
    example = f"section_00_source_{split}_normal_0000_<attributes>.wav"
    allowed_split = (split, None) if split == "test" else (split,)
    clips = []
    for path in _wavs(directory):
        clip = parse_clip_name(path.name)
        if not path.is_file() or clip is None or clip.split not in allowed_split:
            raise _bad_name(path, example)
        if clip.section not in SECTIONS:
            raise ValueError(f"{path}: section {clip.section} is not a DCASE 2024 section "
                             "(expected "
                             f"{', '.join(SECTIONS)}); was the file copied from another year?")
        if split == "train" and clip.label != "normal":
            raise ValueError(f"{path}: an anomalous clip in a training folder; remove it")
        check_wav(path)
        clips.append(Clip(f"{machine}-{path.name[:-len('.wav')]}", path.resolve(), machine,
                          f"section_{clip.section}", clip.domain, clip.attr, clip.label))
    return clips


def _scan_eval_test(directory: Path, machine: str) -> List[Clip]:
    """Eval test clips (``section_00_NNNN.wav``), not yet labelled."""
    clips = []
    for path in _wavs(directory):
        match = EVAL_TEST_NAME.fullmatch(path.name)
        if not path.is_file() or not match:
            raise _bad_name(path, "section_00_NNNN.wav")
        if match["section"] not in SECTIONS:
            raise ValueError(f"{path}: section {match['section']} is not a DCASE 2024 section")
        check_wav(path)
        clips.append(Clip(f"{machine}-{path.name[:-len('.wav')]}", path.resolve(), machine,
                          f"section_{match['section']}", None, None, None))
    return clips


def _label_eval_test(eval_list: Path, clips: List[Clip]) -> List[Clip]:
    """Rename eval test clips through the ground-truth list: the utterance ID takes the full
    name (``<M>-section_00_source_test_normal_0012_m-n_X``), the path stays the real file, and
    the domain, attributes and label come from the full name. Rows of other types are skipped."""
    machines = {c.machine for c in clips}
    rows = [r for r in read_eval_list(eval_list) if r.machine in machines]
    by_key = {(c.machine, c.path.name): c for c in clips}
    labelled = {}
    for row in rows:
        clip = by_key.get((row.machine, row.eval_name))
        if clip is None:
            raise ValueError(f"{eval_list}:{row.lineno}: {row.machine}/{row.eval_name} has no file "
                             f"in {EVAL_DIR}/{row.machine}/test; the list and the eval test set do "
                             "not match (re-extract the eval test archive or re-download the list)")
        utt = f"{row.machine}-{row.full_name[:-len('.wav')]}"
        labelled[clip.utt] = clip._replace(utt=utt, domain=row.clip.domain, attr=row.clip.attr,
                                           label=row.clip.label)
    missing = [c.path for c in clips if c.utt not in labelled]
    if missing:
        raise ValueError(f"{eval_list}: {len(missing)} eval test file(s) are not listed, e.g. "
                         f"{missing[0]}; re-download the list or remove the extra files")
    return [labelled[c.utt] for c in clips]


def _machine_dirs(parent: Path, expected: Sequence[str]) -> List[str]:
    """Machine-type folders under dev_data/ or eval_data/ (or their raw/, as the official
    baseline unpacks them); unknown folders are an error."""
    names = [p.name for p in visible_entries(parent) if p.is_dir()]
    wrong = sorted(set(names) - set(expected))
    if wrong:
        other = sorted(set(wrong) & set(MACHINE_TYPES))
        home = EVAL_DIR if expected == DEV_TYPES else DEV_DIR
        hint = (f" ({', '.join(other)} belong(s) in {home}/)"
                if other else "")
        raise ValueError(f"{parent}: unexpected machine type folder(s) {wrong}{hint}; this folder "
                         f"holds {', '.join(expected)}: remove or move the extra folders")
    return [m for m in expected if m in names]


def collect_sets(corpus_dir, use_additional: bool = True, machines: Optional[Sequence[str]] = None,
                 separate_eval_train: bool = False) -> Dict[str, List[Clip]]:
    """Scan the official tree: ``{"train", "dev_test", "eval_train", "eval_test": clips}``
    (sets without clips left out). An evaluation type without an eval test folder is left
    out of eval_test (one warning). The machine-type folders may also be in
    ``dev_data/raw/`` and ``eval_data/raw/``, where the official baseline's download scripts
    put them (:func:`~asd_lib.corpus.common.machine_type_root`)."""
    corpus = Path(corpus_dir)
    dev, ev = corpus / DEV_DIR, corpus / EVAL_DIR
    if not dev.is_dir() and not ev.is_dir():
        raise ValueError(f"corpus directory {corpus} holds neither {DEV_DIR}/ nor {EVAL_DIR}/: "
                         f"{CORPUS_HINT}")
    dev, ev = (machine_type_root(d, MACHINE_TYPES) if d.is_dir() else d for d in (dev, ev))
    present = (_machine_dirs(dev, DEV_TYPES) if dev.is_dir() else []) + \
        (_machine_dirs(ev, EVAL_TYPES) if ev.is_dir() else [])
    if machines is None:
        machines = [m for m in MACHINE_TYPES if m in present]
        if not machines:
            raise ValueError(f"{corpus}: no machine type folders ({CORPUS_HINT})")
        if len(machines) < len(MACHINE_TYPES):
            logger.warning("only %d of %d machine types found: %s", len(machines),
                           len(MACHINE_TYPES), " ".join(machines))
    missing = [m for m in machines if m not in present]
    if missing:
        raise ValueError(f"{corpus}: no folder for machine type(s) {missing} ({CORPUS_HINT})")

    sets: Dict[str, List[Clip]] = {name: [] for name in SET_NAMES}
    without_eval_test = []
    for m in machines:
        if m in DEV_TYPES:
            sets["train"] += _scan_named(need_dir(dev / m / "train", CORPUS_HINT), m, "train")
            sets["dev_test"] += _scan_named(need_dir(dev / m / "test", CORPUS_HINT), m, "test")
            continue
        if use_additional:
            hint = "download the additional training set or pass --use_additional false"
            target = "eval_train" if separate_eval_train else "train"
            sets[target] += _scan_named(need_dir(ev / m / "train", hint), m, "train")
        if (ev / m / "test").is_dir():
            sets["eval_test"] += _scan_eval_test(ev / m / "test", m)
        else:
            without_eval_test.append(ev / m / "test")
    log_missing_eval_test(without_eval_test, len([m for m in machines if m in EVAL_TYPES]))
    if sets["eval_test"]:
        eval_list = corpus / EVAL_LIST_NAME
        if eval_list.is_file():
            sets["eval_test"] = _label_eval_test(eval_list, sets["eval_test"])
        else:
            logger.info("%s not found: eval_test gets no utt2domain, utt2attr, utt2label",
                        eval_list)
    sets = {name: clips for name, clips in sets.items() if clips}
    if not sets.get("train") and not sets.get("eval_train"):
        raise ValueError(f"{corpus}: no training clips for {', '.join(machines)}; the additional "
                         "training set is needed for evaluation types (--use_additional true)")
    for name, clips in sets.items():
        check_unique(name, clips)
    return sets


# --------------------------------------------------------------------------- data dirs
def prepare_data(corpus_dir, data_dir, use_additional: bool = True,
                 machines: Optional[Sequence[str]] = None,
                 separate_eval_train: bool = False) -> Dict[str, int]:
    """Official DCASE 2024 tree -> ``data_dir/{train,dev_test,eval_test[,eval_train]}``.

    Returns the number of clips per set. Nothing is written unless the whole corpus passes
    the checks; a set of an earlier run that this run does not make (e.g. ``eval_train``
    after ``separate_eval_train`` is switched off) is removed, so it cannot be used stale.
    """
    sets = collect_sets(corpus_dir, use_additional, machines, separate_eval_train)
    return write_sets(data_dir, sets, SET_NAMES)
