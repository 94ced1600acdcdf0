"""The official layout the DCASE Task 2 corpora of 2021-2025 share, described per year.

Every year has development types (``dev_data/<M>``) and evaluation types
(``eval_data/<M>``; the same types in 2021 and 2022, others from 2023 on), sections per
type (``section_00``..), a source and a target domain, training clips named
``section_XX_<domain>_train_normal_NNNN_<attributes>.wav``, labelled development test
clips, and evaluation test clips whose names hide what the ground truth holds; the
evaluation list of the organisers' baseline (``nttcslab/dcase2023_task2_baseline_ae``,
``datasets/eval_data_list_<year>.csv``, read by its ``tools/rename_eval_wav.py``) maps each
evaluation test file to its full name: a row with one field names a machine type, the
rows under it are ``eval_name,full_name``. The years differ in facts that
:class:`SectionLayout` holds: types, sections, test folders (2021: ``source_test/`` and
``target_test/``), whether test names carry attributes (not in 2021), whether the
evaluation names keep the domain (2021: ``section_03_source_test_0000.wav``; later
``section_00_0000.wav``, the names of the lists and of the evaluators' ground truth, where
the baselines' README trees write ``section_00_test_0000.wav``), the line endings of the
list, the Zenodo records and archive names, the types whose names hide their attributes
(what tells a development-only corpus of 2023, 2024 or 2025 from the others': their
development types are the same seven), and what only the synthetic corpora need (the
types whose listed names omit ``test``, attribute files, supplemental folders).

Attribute strings are read as the part of a name after the index: they are not always
``key_value`` pairs (``A1Spd28VMic1`` in 2021, ``weight15_BckgF`` in 2024), values contain
underscores (``mic_imp34dt05`` in 2025) and hidden ones read ``noAttribute``.
:mod:`asd_lib.corpus.section_prepare` scans such a tree into data dirs.
"""
import dataclasses
import functools
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from asd_lib.corpus.common import RemoteFile, parse_machine_list
from asd_lib.corpus.download import check_zip
from asd_lib.corpus.eval_list import read_grouped, write_grouped
from asd_lib.corpus.ground_truth import Evaluator

ZENODO = "https://zenodo.org"
GITHUB_RAW = "https://raw.githubusercontent.com"
EVAL_LIST_FOLDER = "nttcslab/dcase2023_task2_baseline_ae/main/datasets"
DEV_DIR = "dev_data"
EVAL_DIR = "eval_data"
SUPPLEMENTAL_DIR = "supplemental"

ATTRIBUTES = r"[A-Za-z0-9.+-]+(?:_[A-Za-z0-9.+-]+)*"
CLIP_NAME = re.compile(
    r"section_(?P<section>\d{2})_(?P<domain>source|target)_(?:(?P<split>train|test)_)?"
    rf"(?P<label>normal|anomaly)_(?P<index>\d{{4}})(?:_(?P<attr>{ATTRIBUTES}))?\.wav"
)
"""Full names, e.g. ``section_00_source_train_normal_0000_m-n_X.wav``,
``section_00_target_test_anomaly_0003.wav`` (2021 test names have no attributes)."""
SHORT_EVAL_NAME = re.compile(r"section_(?P<section>\d{2})_(?P<index>\d{4})\.wav")
DOMAIN_EVAL_NAME = re.compile(
    r"section_(?P<section>\d{2})_(?P<domain>source|target)_test_(?P<index>\d{4})\.wav")
"""Evaluation test files: ``section_00_0000.wav`` (2022 on), ``section_03_source_test_0000.wav``
(2021)."""


class ClipName(NamedTuple):
    section: str  # "00"
    domain: str  # source / target
    split: Optional[str]  # train / test / None (token missing)
    label: str  # normal / anomaly
    index: int
    attr: Optional[str]  # "m-n_X", "noAttribute"; None where the layout's test names have none


class EvalName(NamedTuple):
    section: str
    domain: Optional[str]  # in the name in 2021 only
    index: int


class EvalListRow(NamedTuple):
    machine: str
    eval_name: str  # section_00_0000.wav
    full_name: str  # section_00_source_test_normal_0012_m-n_X.wav
    clip: ClipName  # fields of full_name
    lineno: int


@dataclasses.dataclass(frozen=True)
class Archives:
    """The Zenodo records of a year (``record/<id>`` or ``records/<id>``, as the organisers'
    download scripts write them) and its archive names; ``renamed`` maps a default name to
    a re-released one, ``md5`` the names whose sums are published."""

    dev_record: str
    train_record: str
    test_record: str
    dev_name: str = "dev_{machine}.zip"
    train_name: str = "eval_data_{machine}_train.zip"
    test_name: str = "eval_data_{machine}_test.zip"
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)
    md5: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def of(self, machine: str, dev: bool, evaluation: bool) -> List[Tuple[str, str, str]]:
        """``(record, archive name, target folder)`` of a type's archives."""
        out = []
        if dev:
            out.append((self.dev_record, self.dev_name, DEV_DIR))
        if evaluation:
            out += [(self.train_record, self.train_name, EVAL_DIR),
                    (self.test_record, self.test_name, EVAL_DIR)]
        named = [(record, name.format(machine=machine), target) for record, name, target in out]
        return [(record, self.renamed.get(name, name), target) for record, name, target in named]


LAYOUTS: Dict[str, "SectionLayout"] = {}
"""Every year's layout by name (``dcase2024``), added as each year's module makes it."""


@dataclasses.dataclass(frozen=True)
class SectionLayout:
    """The facts of one year's layout (module docstring)."""

    name: str  # corpus name, e.g. "dcase2022"; db.sh variable DCASE2022
    title: str  # "DCASE 2022"
    dev_types: Tuple[str, ...]
    eval_types: Tuple[str, ...]
    dev_sections: Tuple[str, ...]
    eval_sections: Tuple[str, ...]
    archives: Archives
    eval_list_line_end: str  # "\r\n" or "\n", as the official list
    test_dirs: Tuple[str, ...] = ("test",)
    test_attributes: bool = True  # test names end with the attribute string
    eval_names_keep_domain: bool = False
    attribute_files: bool = True  # <M>/attributes_XX.csv beside train/ and test/
    supplemental: bool = False  # <M>/supplemental/ folders
    hidden_attributes: Mapping[str, Tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Machine type -> splits whose names end ``_NNNN_noAttribute.wav``."""
    no_test_token: Tuple[str, ...] = ()
    """Types whose full evaluation names (in the list) omit the ``test`` token."""
    listed_attributes_hidden: bool = True
    """Whether the evaluation list's full names read ``noAttribute`` for the types whose
    test files hide their attributes (2024), or show those attributes (2025)."""
    evaluator: Optional[Evaluator] = None
    """The official evaluator whose ground truth labels the evaluation test clips
    (:mod:`asd_lib.corpus.ground_truth`); ``None`` where it could not be read (2025)."""
    list_disagrees: Tuple[str, ...] = ()
    """Types whose evaluation list gives other labels and domains than the evaluator's
    ground truth (2022 ToyCar and ToyTrain); the synthetic corpus scrambles their list."""

    def __post_init__(self):
        LAYOUTS[self.name] = self

    @property
    def year(self) -> str:
        return self.name[-4:]

    @property
    def machine_types(self) -> Tuple[str, ...]:
        """Every type, development types first, each once."""
        return tuple(dict.fromkeys(self.dev_types + self.eval_types))

    @property
    def eval_list_name(self) -> str:
        return f"eval_data_list_{self.year}.csv"

    @property
    def corpus_hint(self) -> str:
        return (f"set {self.name.upper()} in db.sh or run stage 0 to download or synthesize "
                "the corpus")

    def hides_attributes(self, machine: str, split: str) -> bool:
        """Whether the official names of ``split`` clips of ``machine`` read ``noAttribute``."""
        return split in self.hidden_attributes.get(machine, ())

    def sections(self, folder: str) -> Tuple[str, ...]:
        """The sections of ``dev_data`` or ``eval_data``."""
        return self.dev_sections if folder == DEV_DIR else self.eval_sections

    def types(self, folder: str) -> Tuple[str, ...]:
        return self.dev_types if folder == DEV_DIR else self.eval_types

    # ----------------------------------------------------------------------- names
    def parse_clip_name(self, name: str) -> Optional[ClipName]:
        """Fields of a full name, or ``None`` when it does not follow this year's grammar
        (training names end with attributes; test names do too unless the year's don't)."""
        match = CLIP_NAME.fullmatch(name)
        if not match:
            return None
        with_attributes = match["split"] == "train" or self.test_attributes
        if (match["attr"] is not None) != with_attributes:
            return None
        return ClipName(match["section"], match["domain"], match["split"], match["label"],
                        int(match["index"]), match["attr"])

    def parse_eval_name(self, name: str) -> Optional[EvalName]:
        pattern = DOMAIN_EVAL_NAME if self.eval_names_keep_domain else SHORT_EVAL_NAME
        match = pattern.fullmatch(name)
        if not match:
            return None
        return EvalName(match["section"], match.groupdict().get("domain"), int(match["index"]))

    def eval_name_example(self, section: str = "") -> str:
        section = section or self.eval_sections[0]
        return (f"section_{section}_source_test_0000.wav" if self.eval_names_keep_domain
                else f"section_{section}_0000.wav")

    def full_name_example(self, split: str, section: str = "") -> str:
        section = section or self.dev_sections[0]
        attributes = "_<attributes>" if split == "train" or self.test_attributes else ""
        return f"section_{section}_source_{split}_normal_0000{attributes}.wav"

    def parse_machines(self, text: Optional[str]) -> Optional[Tuple[str, ...]]:
        """``"fan,valve"`` -> ``("fan", "valve")`` in official order; empty -> ``None``."""
        return parse_machine_list(text, self.machine_types, self.title)

    # ----------------------------------------------------------------------- archives
    def remote_files(self, machines: Optional[Sequence[str]] = None,
                     mirror: Optional[str] = None) -> List[RemoteFile]:
        """The archives of ``machines`` and, when an evaluation type is among them, the
        evaluation list and the evaluator's ground-truth files of those types. ``mirror``
        replaces the host (``https://zenodo.org`` and ``https://raw.githubusercontent.com``)
        and keeps the path, so one local server can stand in for both."""
        zenodo = (mirror or ZENODO).rstrip("/")
        github = (mirror or GITHUB_RAW).rstrip("/")
        machines = machines or self.machine_types
        files = []
        for machine in machines:
            for record, name, target in self._archives(machine):
                files.append(RemoteFile(name, f"{zenodo}/{record}/files/{name}",
                                        self.archives.md5.get(name), target, True))
        evaluation = [m for m in machines if m in self.eval_types]
        if evaluation:
            files.append(RemoteFile(self.eval_list_name,
                                    f"{github}/{EVAL_LIST_FOLDER}/{self.eval_list_name}", None,
                                    self.eval_list_name, False))
        if evaluation and self.evaluator is not None:
            files += self.evaluator.remote_files(evaluation, mirror)
        return files

    def _archives(self, machine: str) -> List[Tuple[str, str, str]]:
        return self.archives.of(machine, machine in self.dev_types, machine in self.eval_types)

    def validators(self) -> Dict[str, Callable[[Path], object]]:
        """Checks of downloaded files without a published MD5 sum: such an archive must be
        a complete zip whose CRC32s match and whose files lie under ``<M>/``; the list must
        parse."""
        checks: Dict[str, Callable[[Path], object]] = {self.eval_list_name: self.read_eval_list}
        for machine in self.machine_types:
            for _, name, _ in self._archives(machine):
                if name not in self.archives.md5:
                    checks[name] = functools.partial(check_zip, top=machine)
        return checks

    # ----------------------------------------------------------------------- eval list
    def read_eval_list(self, path) -> List[EvalListRow]:
        """Parse the evaluation list: a row with one field names a machine type, the rows
        under it are ``eval_name,full_name``. CRLF or LF line endings, optional UTF-8 BOM.

        Both names are checked against this year's grammar and must name the same section
        (and domain, where the evaluation name keeps it); a name listed twice for a type is
        an error."""
        rows: List[EvalListRow] = []
        seen = set()
        example = f"{self.eval_name_example()},<full name>"
        for listed in read_grouped(path, self.eval_types, f"{self.title} evaluation machine type",
                                   2, example, self.eval_list_name):
            machine, where = listed.machine, listed.where
            eval_name, full_name = listed.fields
            short, clip = self.parse_eval_name(eval_name), self.parse_clip_name(full_name)
            row = ",".join(listed.fields)
            if short is None or clip is None or clip.split == "train":
                raise ValueError(f"{where}: malformed row {row!r} (expected e.g. "
                                 f"{self.eval_name_example()},"
                                 f"{self.full_name_example('test', self.eval_sections[0])})")
            if short.section != clip.section or short.domain not in (None, clip.domain):
                raise ValueError(f"{where}: row {row!r} is inconsistent (the two names "
                                 "give different sections or domains)")
            for key in ((machine, "eval", eval_name), (machine, "full", full_name)):
                if key in seen:
                    raise ValueError(f"{where}: {machine}/{key[2]} is listed twice")
                seen.add(key)
            rows.append(EvalListRow(machine, eval_name, full_name, clip, listed.lineno))
        return rows

    def write_eval_list(self, path, rows: Iterable[Tuple[str, str, str]]) -> None:
        """Write ``(machine, eval_name, full_name)`` rows in the official format (this
        year's line endings, one header row per machine type in official order, rows by
        evaluation name)."""
        write_grouped(path, rows, self.eval_types, line_end=self.eval_list_line_end)

