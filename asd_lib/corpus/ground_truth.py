"""The evaluation ground truth that the official evaluators score with.

The label and domain of each evaluation test clip come from the files of the year's
official evaluator, not from the organisers' evaluation list
(:mod:`asd_lib.corpus.section_layout`): the two disagree for DCASE 2022 ToyCar and
ToyTrain (608 of their 1,200 labels and 592 of their domains; the other five types agree
on all 3,000 clips), and the challenge was ranked with the evaluator's files. The list
keeps what only it holds: the attributes (and the full names used as utterance IDs).

The files, as the evaluators read them (one ``<evaluation file name>,<0|1>`` row per clip,
LF, no header):

* DCASE 2021, ``y-kawagu/dcase2021_task2_evaluator``:
  ``ground_truth_data/ground_truth_<M>_section_<SS>_<domain>_test.csv``, 1 = anomaly; the
  domain is the file's (``dcase2021_task2_evaluator.py``);
* DCASE 2022-2024, ``Kota-Dohi/dcase2022_evaluator``,
  ``nttcslab/dcase2023_task2_evaluator``, ``nttcslab/dcase2024_task2_evaluator``:
  ``ground_truth_data/ground_truth_<M>_section_<SS>_test.csv`` (1 = anomaly) and
  ``ground_truth_domain/ground_truth_<M>_section_<SS>_test.csv`` (0 = source, 1 = target,
  the ``{'source': 0, 'target': 1}`` of ``dcase2022_task2_evaluator.py``).

DCASE 2020's evaluator (``y-kawagu/dcase2020_task2_evaluator``) reads the list itself
(``eval_data_list.csv``, Zenodo 3951620), which :mod:`asd_lib.corpus.dcase2020.layout`
labels with; the DCASE 2025 evaluator could not be read (its layout module says so).

Stage 0 downloads the files (raw files of the evaluator repository at a pinned commit,
checked against :mod:`asd_lib.corpus.evaluator_sums`) into ``<corpus>/ground_truth/``
under their paths in the repository. Where they are absent, stage 1 falls back to the list
with a warning naming the fix (our choice: a corpus copied without them still prepares).
"""
import dataclasses
import logging
import re
from pathlib import Path
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from asd_lib.corpus.common import Clip, RemoteFile
from asd_lib.utils.fileio import atomic_write

GROUND_TRUTH_DIR = "ground_truth"
DATA_DIR = "ground_truth_data"
DOMAIN_DIR = "ground_truth_domain"
GITHUB_RAW = "https://raw.githubusercontent.com"
FILE_NAME = re.compile(r"ground_truth_(?P<machine>[A-Za-z0-9]+)_section_(?P<section>\d{2})_"
                       r"(?:(?P<domain>source|target)_)?test\.csv")
DOMAINS = ("source", "target")
LABELS = ("normal", "anomaly")

logger = logging.getLogger(__name__)


class Truth(NamedTuple):
    label: str  # normal / anomaly
    domain: str  # source / target


@dataclasses.dataclass(frozen=True)
class Evaluator:
    """One year's official evaluator: its repository, the commit whose files stage 0
    fetches, and ``{path in the repository: (MD5, size)}`` of its ground-truth files."""

    repo: str
    commit: str
    files: Mapping[str, Tuple[str, int]]

    @property
    def per_domain(self) -> bool:
        """Whether the label files are split by domain (2021) instead of a domain file."""
        return not any(p.startswith(DOMAIN_DIR + "/") for p in self.files)

    def paths(self, machines: Sequence[str]) -> List[str]:
        return [p for p in self.files if _parse(p)["machine"] in machines]

    def remote_files(self, machines: Sequence[str], mirror: Optional[str] = None
                     ) -> List[RemoteFile]:
        """The ground-truth files of ``machines``; ``mirror`` replaces the host."""
        base = f"{(mirror or GITHUB_RAW).rstrip('/')}/{self.repo}/{self.commit}"
        prefix = self.repo.split("/")[1]
        return [RemoteFile(f"{prefix}_{path.replace('/', '_')}", f"{base}/{path}",
                           self.files[path][0], f"{GROUND_TRUTH_DIR}/{path}", False,
                           self.files[path][1])
                for path in self.paths(machines)]

    def missing(self, folder: Path, machines: Sequence[str]) -> List[str]:
        """The types of ``machines`` with a ground-truth file absent under ``folder``."""
        absent = {_parse(p)["machine"] for p in self.paths(machines)
                  if not (folder / p).is_file()}
        return [m for m in machines if m in absent]

    def read(self, folder: Path, machines: Sequence[str]) -> Dict[Tuple[str, str], Truth]:
        """``{(machine, evaluation file name): Truth}`` of ``machines`` from ``folder``."""
        labels: Dict[Tuple[str, str], str] = {}
        domains: Dict[Tuple[str, str], str] = {}
        for path in self.paths(machines):
            fields = _parse(path)
            values = read_file(folder / path)
            table = domains if path.startswith(DOMAIN_DIR + "/") else labels
            names = DOMAINS if table is domains else LABELS
            for name, value in values.items():
                table[(fields["machine"], name)] = names[value]
                if fields["domain"]:
                    domains[(fields["machine"], name)] = fields["domain"]
        if set(labels) != set(domains):
            odd = sorted(set(labels) ^ set(domains))[0]
            raise ValueError(f"{folder}: {odd[0]}/{odd[1]} has a label but no domain or the "
                             f"reverse; download the {self.repo} files again")
        return {key: Truth(labels[key], domains[key]) for key in labels}


def _parse(path: str) -> Dict[str, Optional[str]]:
    match = FILE_NAME.fullmatch(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: not an evaluator ground-truth file name "
                         "(ground_truth_<M>_section_<SS>[_<domain>]_test.csv)")
    return match.groupdict()


def read_file(path: Path) -> Dict[str, int]:
    """``{evaluation file name: 0 or 1}`` of one evaluator file."""
    values: Dict[str, int] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = [x.strip() for x in line.split(",")]
        if len(fields) != 2 or fields[1] not in ("0", "1") or not fields[0].endswith(".wav"):
            raise ValueError(f"{path}:{lineno}: expected '<file>.wav,<0|1>', got "
                             f"{line.strip()!r}; download the evaluator's file again")
        if fields[0] in values:
            raise ValueError(f"{path}:{lineno}: {fields[0]} is listed twice")
        values[fields[0]] = int(fields[1])
    if not values:
        raise ValueError(f"{path}: no rows; download the evaluator's file again")
    return values


def write_files(folder: Path, per_domain: bool,
                rows: Sequence[Tuple[str, str, str, str, str]]) -> None:
    """Evaluator-style files under ``folder`` from ``(machine, section, evaluation file
    name, label, domain)`` rows (the synthetic corpora write them)."""
    files: Dict[str, List[str]] = {}
    for machine, section, name, label, domain in sorted(rows):
        stem = f"ground_truth_{machine}_section_{section}"
        if per_domain:
            files.setdefault(f"{DATA_DIR}/{stem}_{domain}_test.csv", []).append(
                f"{name},{LABELS.index(label)}")
        else:
            files.setdefault(f"{DATA_DIR}/{stem}_test.csv", []).append(
                f"{name},{LABELS.index(label)}")
            files.setdefault(f"{DOMAIN_DIR}/{stem}_test.csv", []).append(
                f"{name},{DOMAINS.index(domain)}")
    for path, lines in files.items():
        with atomic_write(folder / path) as f:
            f.write("".join(line + "\n" for line in lines))


def apply(clips: List[Clip], truth: Mapping[Tuple[str, str], Truth], where: Path,
          list_name: Optional[str]) -> List[Clip]:
    """Set each clip's label and domain from ``truth`` (keyed by the real file name).
    A clip the list labelled otherwise (``list_name``: the list, or ``None`` when the
    clips are unlabelled) keeps its evaluation file name as utterance ID, since the full
    name would state the list's label and domain; the disagreements are logged once."""
    out, differ = [], {}
    for clip in clips:
        fact = truth.get((clip.machine, clip.path.name))
        if fact is None:
            raise ValueError(f"{clip.path}: not in the evaluator ground truth under {where}; "
                             "download its files again (stage 0 with --download true) or remove "
                             "the extra file")
        if clip.label is None or (clip.label, clip.domain) == fact:
            out.append(clip._replace(label=fact.label, domain=fact.domain))
            continue
        differ[clip.machine] = differ.get(clip.machine, 0) + 1
        out.append(clip._replace(utt=f"{clip.machine}-{clip.path.name[:-len('.wav')]}",
                                 label=fact.label, domain=fact.domain))
    machines = {c.machine for c in clips}
    unmatched = len([k for k in truth if k[0] in machines]) - len(clips)
    if unmatched:
        raise ValueError(f"{where}: {unmatched} clip(s) of the evaluator ground truth have no "
                         "file in eval_data/; re-extract the evaluation test archives")
    if differ:
        logger.warning("%d of %d evaluation test clips (%s) have another label or domain in %s "
                       "than in the official evaluator's ground truth (%s): using the ground "
                       "truth", sum(differ.values()), len(clips),
                       ", ".join(f"{m} {n}" for m, n in differ.items()), list_name, where)
    return out
