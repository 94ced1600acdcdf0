"""DCASE 2020 Challenge Task 2 (MIMII + ToyADMOS): constants, official layout, data prep.

Sources of the facts below:

* machine types, machine IDs, file-name patterns and folder layout: the task description
  (Koizumi et al., "Description and discussion on DCASE2020 Challenge Task2", arXiv
  2006.05822) and the official baseline ``y-kawagu/dcase2020_task2_baseline``, which reads
  ``dev_data/<M>/{train,test}`` and ``eval_data/<M>/{train,test}``;
* archive URLs (Zenodo records 3678171, 3727685, 3841772) and their MD5 sums: the
  ``soundata`` loader ``soundata/datasets/dcase2020task2.py`` (``REMOTES``);
* the evaluation ground truth ``eval_data_list.csv``: Zenodo record 3951620, the file the
  official evaluator ``y-kawagu/dcase2020_task2_evaluator`` scores with (its README:
  ``EVAL_DATA_LIST_PATH``; the repository holds no ground truth of its own), so labels
  come from the evaluator's ground truth as for 2021-2024
  (:mod:`asd_lib.corpus.ground_truth`). No MD5 sum of it is published, so a download only
  checks that it parses (:func:`read_eval_list`).

Data preparation turns the official tree into Kaldi-style data dirs :
``train`` (dev train, plus the additional training set), ``dev_test`` and ``eval_test``.
"""
import logging
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from asd_lib.corpus.common import (
    Clip,
    RemoteFile,
    check_unique,
    check_wav,
    log_missing_eval_test,
    machine_type_root,
    need_dir,
    parse_machine_list,
    visible_entries,
    write_sets,
)
from asd_lib.corpus.eval_list import read_grouped, write_grouped

MACHINE_TYPES: Tuple[str, ...] = ("ToyCar", "ToyConveyor", "fan", "pump", "slider", "valve")

DEV_IDS: Dict[str, Tuple[str, ...]] = {
    "ToyCar": ("01", "02", "03", "04"),
    "ToyConveyor": ("01", "02", "03"),
    "fan": ("00", "02", "04", "06"),
    "pump": ("00", "02", "04", "06"),
    "slider": ("00", "02", "04", "06"),
    "valve": ("00", "02", "04", "06"),
}
"""Machine IDs of the development set (train and test)."""

EVAL_IDS: Dict[str, Tuple[str, ...]] = {
    "ToyCar": ("05", "06", "07"),
    "ToyConveyor": ("04", "05", "06"),
    "fan": ("01", "03", "05"),
    "pump": ("01", "03", "05"),
    "slider": ("01", "03", "05"),
    "valve": ("01", "03", "05"),
}
"""Machine IDs of the additional training set and the evaluation test set."""

SAMPLE_RATE = 16000
TOYADMOS_TYPES = ("ToyCar", "ToyConveyor")
"""ToyADMOS clips run up to 11 s, MIMII clips (the other types) are 10 s."""

ZENODO = "https://zenodo.org"
DEV_RECORD = "3678171"
ADDITIONAL_TRAIN_RECORD = "3727685"
EVAL_TEST_RECORD = "3841772"
EVAL_LIST_RECORD = "3951620"
EVAL_LIST_NAME = "eval_data_list.csv"
EVAL_LIST_MD5: Optional[str] = None
"""Not published anywhere we could find (Zenodo 3951620 lists none in the loaders)."""

ARCHIVE_MD5: Dict[str, str] = {
    "dev_data_ToyCar.zip": "4dec75ca8d9f666aa9e4c1894a740501",
    "dev_data_ToyConveyor.zip": "03b6aa1bfd09a39d53af0ba39f71fa91",
    "dev_data_fan.zip": "649bdfc06263ae7a838963f43b6641e6",
    "dev_data_pump.zip": "90e7091ef722b7238a7f1009365779cd",
    "dev_data_slider.zip": "da24a757719f0d94d5aa2d646bbfdc86",
    "dev_data_valve.zip": "34d2672f55bb041589ef79c10dc89934",
    "eval_data_train_ToyCar.zip": "a5d4ccd498af70b04dd74b644b820006",
    "eval_data_train_ToyConveyor.zip": "0e808ac0b761e9fb13d5e0c65caff00d",
    "eval_data_train_fan.zip": "567798854130c8019df8b664c095ed1e",
    "eval_data_train_pump.zip": "4e33ae9c0db5cc88437675f5e317caee",
    "eval_data_train_slider.zip": "f84f186f4295fc23754abcdd1b0580a7",
    "eval_data_train_valve.zip": "057cdd560caffb8305449541afd28c6d",
    "eval_data_test_ToyCar.zip": "bea2bdd612f616be8f2b8eb087b32c7c",
    "eval_data_test_ToyConveyor.zip": "ccfcc9847c7d3404d7ee9d6d9e0b2ba2",
    "eval_data_test_fan.zip": "1eb9356a768cadfd0f2e59a5c57e578b",
    "eval_data_test_pump.zip": "23a8f8f924be218c69df67fe07360348",
    "eval_data_test_slider.zip": "0193c769073840332ce3aad84b1ccaa2",
    "eval_data_test_valve.zip": "f69c551d2088691050d20cccca9d631c",
}
"""MD5 of the 18 official archives, as published in soundata's dcase2020task2 loader."""

TRAIN_NAME = re.compile(r"normal_id_(?P<id>\d{2})_(?P<index>\d{8})\.wav")
DEV_TEST_NAME = re.compile(r"(?P<label>normal|anomaly)_id_(?P<id>\d{2})_(?P<index>\d{8})\.wav")
EVAL_TEST_NAME = re.compile(r"id_(?P<id>\d{2})_(?P<index>\d{8})\.wav")
"""Official names: train (normal only), dev test (label in the name), eval test (no label)."""

DEV_DIR = "dev_data"
EVAL_DIR = "eval_data"
SET_NAMES = ("train", "dev_test", "eval_test")
CORPUS_HINT = "set the corpus path in db.sh or run stage 0 to download or synthesize it"

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- archives
def parse_machines(text: Optional[str]) -> Optional[Tuple[str, ...]]:
    """``"ToyCar,fan"`` -> ``("ToyCar", "fan")`` in official order; ``None``/"" -> ``None``."""
    return parse_machine_list(text, MACHINE_TYPES, "DCASE 2020")


def remote_files(
    machines: Optional[Sequence[str]] = None, mirror: Optional[str] = None
) -> List[RemoteFile]:
    """The 18 official archives (3 per machine type) and the ground-truth list.

    ``mirror`` replaces ``https://zenodo.org`` and keeps the path
    (``<mirror>/record/<id>/files/<name>``), so a local copy of Zenodo can stand in.
    """
    base = (mirror or ZENODO).rstrip("/")
    files = []
    for machine in machines or MACHINE_TYPES:
        for record, stem, target in (
            (DEV_RECORD, "dev_data", DEV_DIR),
            (ADDITIONAL_TRAIN_RECORD, "eval_data_train", EVAL_DIR),
            (EVAL_TEST_RECORD, "eval_data_test", EVAL_DIR),
        ):
            name = f"{stem}_{machine}.zip"
            url = f"{base}/record/{record}/files/{name}"
            files.append(RemoteFile(name, url, ARCHIVE_MD5[name], target, True))
    url = f"{base}/record/{EVAL_LIST_RECORD}/files/{EVAL_LIST_NAME}"
    files.append(RemoteFile(EVAL_LIST_NAME, url, EVAL_LIST_MD5, EVAL_LIST_NAME, False))
    return files


def validators() -> Dict[str, Callable[[Path], object]]:
    """Format checks run on downloaded files that have no published MD5 sum."""
    return {EVAL_LIST_NAME: read_eval_list}


def clip_seconds(machine: str, duration: float) -> float:
    """Clip length of a type: ToyADMOS clips are 10% longer (11 s vs 10 s in the corpus)."""
    return duration * 1.1 if machine in TOYADMOS_TYPES else duration


# --------------------------------------------------------------------------- eval list
class EvalListRow(NamedTuple):
    machine: str
    eval_name: str  # id_XX_NNNNNNNN.wav
    original_name: str  # {normal,anomaly}_id_XX_NNNNNNNN.wav
    label: int  # 1 = anomaly
    lineno: int


def read_eval_list(path) -> List[EvalListRow]:
    """Parse ``eval_data_list.csv``: single-field rows name a machine type, the rows after
    it are ``eval_name,original_name,label`` (label 0 normal, 1 anomaly).

    Every row is checked against the official name patterns, the label against the
    original name, and the machine ID of both names against each other.
    """
    rows: List[EvalListRow] = []
    seen = set()
    for listed in read_grouped(path, MACHINE_TYPES, "DCASE 2020 machine type", 3,
                               "id_XX_NNNNNNNN.wav,<original name>,<0|1>", EVAL_LIST_NAME):
        machine, where = listed.machine, listed.where
        eval_name, original, label = listed.fields
        m_eval = EVAL_TEST_NAME.fullmatch(eval_name)
        m_orig = DEV_TEST_NAME.fullmatch(original)
        row = ",".join(listed.fields)
        if not m_eval or not m_orig or label not in ("0", "1"):
            raise ValueError(f"{where}: malformed row {row!r}")
        if m_eval["id"] != m_orig["id"] or (m_orig["label"] == "anomaly") != (label == "1"):
            raise ValueError(
                f"{where}: row {row!r} is inconsistent (machine ID or label "
                "disagrees with the original name)"
            )
        if (machine, eval_name) in seen:
            raise ValueError(f"{where}: {machine}/{eval_name} is listed twice")
        seen.add((machine, eval_name))
        rows.append(EvalListRow(machine, eval_name, original, int(label), listed.lineno))
    return rows


def write_eval_list(path, rows: Iterable[Tuple[str, str, str, int]]) -> None:
    """Write ``(machine, eval_name, original_name, label)`` rows in the official format,
    grouped under one header row per machine type (official type order)."""
    write_grouped(path, rows, MACHINE_TYPES)


# --------------------------------------------------------------------------- layout scan
def _scan_dir(directory: Path, machine: str, pattern: re.Pattern, ids: Sequence[str]) -> List[Clip]:
    """List the wavs of one official folder, checking names, machine IDs and headers."""
    clips = []
    for path in visible_entries(directory):
        if not path.name.lower().endswith(".wav"):
            logger.debug("ignoring non-wav file %s", path)
            continue
        match = pattern.fullmatch(path.name)
        if not path.is_file() or not match:
            raise ValueError(
                f"{path}: name does not follow the official DCASE 2020 layout (expected "
                f"{pattern.pattern!r}, lower-case .wav); rename or remove it"
            )
        section = match["id"]
        if section not in ids:
            raise ValueError(
                f"{path}: machine ID {section} is not an ID of {directory} (expected one of "
                f"{', '.join(ids)}); was the file copied into the wrong folder?"
            )
        check_wav(path)
        label = "normal" if pattern is TRAIN_NAME else match.groupdict().get("label")
        utt = f"{machine}-{path.name[:-len('.wav')]}"
        clips.append(Clip(utt, path.resolve(), machine, f"id_{section}", "source", None, label))
    if not clips:
        raise ValueError(f"{directory}: no wav files; the set is empty ({CORPUS_HINT})")
    return clips


def _machine_dirs(parent: Path) -> List[str]:
    """Machine-type folders under dev_data/ or eval_data/; unknown folders are an error."""
    names = [p.name for p in visible_entries(parent) if p.is_dir()]
    extra = sorted(set(names) - set(MACHINE_TYPES))
    if extra:
        raise ValueError(
            f"{parent}: unknown machine type folder(s) {extra}; the official types are "
            f"{', '.join(MACHINE_TYPES)}: remove or move the extra folders"
        )
    return [m for m in MACHINE_TYPES if m in names]


def _labels_from_eval_list(
    eval_list: Path, clips: List[Clip], machines: Sequence[str]
) -> List[Clip]:
    """Attach normal/anomaly labels to eval-test clips from the ground-truth list."""
    rows = [r for r in read_eval_list(eval_list) if r.machine in machines]
    by_key = {(c.machine, c.path.name): c for c in clips}
    labelled = {}
    for row in rows:
        clip = by_key.get((row.machine, row.eval_name))
        if clip is None:
            raise ValueError(
                f"{eval_list}:{row.lineno}: {row.machine}/{row.eval_name} has no file in "
                f"{EVAL_DIR}/{row.machine}/test; the list and the eval test set do not match "
                "(re-extract the eval test archive or re-download the list)"
            )
        labelled[clip.utt] = clip._replace(label="anomaly" if row.label else "normal")
    missing = [c.path for c in clips if c.utt not in labelled]
    if missing:
        raise ValueError(
            f"{eval_list}: {len(missing)} eval test file(s) are not listed, e.g. {missing[0]}; "
            "re-download the list or remove the extra files"
        )
    return [labelled[c.utt] for c in clips]


def collect_sets(
    corpus_dir, use_additional: bool = True, machines: Optional[Sequence[str]] = None
) -> Dict[str, List[Clip]]:
    """Scan the official tree and return ``{"train", "dev_test"[, "eval_test"]: clips}``.
    A type without an eval test folder is left out of eval_test (one warning), and the
    ground-truth list labels the types that have one.
    The machine-type folders may also be in ``dev_data/raw/`` and ``eval_data/raw/``
    (:func:`~asd_lib.corpus.common.machine_type_root`)."""
    corpus = Path(corpus_dir)
    if not (corpus / DEV_DIR).is_dir():
        raise ValueError(f"corpus directory {corpus / DEV_DIR} does not exist: {CORPUS_HINT}")
    dev_root = machine_type_root(corpus / DEV_DIR, MACHINE_TYPES)
    eval_root = corpus / EVAL_DIR
    present = _machine_dirs(dev_root)
    if eval_root.is_dir():
        eval_root = machine_type_root(eval_root, MACHINE_TYPES)
        _machine_dirs(eval_root)
    if machines is None:
        machines = present
        if not machines:
            raise ValueError(f"{dev_root}: no machine type folders ({CORPUS_HINT})")
        if len(machines) < len(MACHINE_TYPES):
            logger.warning("only %d of %d machine types found: %s", len(machines),
                           len(MACHINE_TYPES), " ".join(machines))
    missing = [m for m in machines if m not in present]
    if missing:
        raise ValueError(f"{dev_root}: no folder for machine type(s) {missing} "
                         f"({CORPUS_HINT})")

    sets: Dict[str, List[Clip]] = {"train": [], "dev_test": [], "eval_test": []}
    without_eval_test = []
    for m in machines:
        dev, ev = dev_root / m, eval_root / m
        sets["train"] += _scan_dir(need_dir(dev / "train", CORPUS_HINT), m, TRAIN_NAME, DEV_IDS[m])
        sets["dev_test"] += _scan_dir(need_dir(dev / "test", CORPUS_HINT), m, DEV_TEST_NAME,
                                      DEV_IDS[m])
        if use_additional:
            hint = "download the additional training set or pass --use_additional false"
            sets["train"] += _scan_dir(need_dir(ev / "train", hint), m, TRAIN_NAME, EVAL_IDS[m])
        if (ev / "test").is_dir():
            sets["eval_test"] += _scan_dir(ev / "test", m, EVAL_TEST_NAME, EVAL_IDS[m])
        else:
            without_eval_test.append(ev / "test")
    log_missing_eval_test(without_eval_test, len(machines))
    if not sets["eval_test"]:
        del sets["eval_test"]
    else:
        eval_list = corpus / EVAL_LIST_NAME
        if eval_list.is_file():
            with_eval_test = sorted({c.machine for c in sets["eval_test"]})
            sets["eval_test"] = _labels_from_eval_list(eval_list, sets["eval_test"],
                                                       with_eval_test)
        else:
            logger.info("%s not found: eval_test gets no utt2label", eval_list)
    for name, clips in sets.items():
        check_unique(name, clips)
    return sets


# --------------------------------------------------------------------------- data dirs
def prepare_data(
    corpus_dir, data_dir, use_additional: bool = True, machines: Optional[Sequence[str]] = None
) -> Dict[str, int]:
    """Official DCASE 2020 tree -> ``data_dir/{train,dev_test[,eval_test]}``.

    Returns the number of clips per set. Nothing is written unless the whole corpus
    passes the checks.
    """
    sets = collect_sets(corpus_dir, use_additional=use_additional, machines=machines)
    return write_sets(data_dir, sets, SET_NAMES)
