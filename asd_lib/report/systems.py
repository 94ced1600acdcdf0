"""The systems a comparison reads: one inference dir ``exp/<tag>/<inference_tag>`` or a
group of trials of one system, given as a glob such as ``exp/train_x_seed*/knn_best``
(repeated trials are experiment dirs ``exp/<tag>_seed<k>/`` with the same inference tag).
"""
import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Set, Tuple

from asd_lib.inference.config import RECORD_NAME, read_inference_record
from asd_lib.utils.fileio import read_kv

_GLOB_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class System:
    """A system as given on the command line (``spec``), its trials' inference dirs and
    its corpus."""

    spec: str
    dirs: Tuple[Path, ...]
    dataset: str


def dataset_of(inference_dir: Path) -> str:
    """The corpus of an inference dir: from its ``inference.yaml`` (stage 4), else from the
    ``result.json`` of its scored sets (stage 5; an ensemble's dir has no inference.yaml)."""
    if (inference_dir / RECORD_NAME).is_file():
        return read_inference_record(inference_dir).dataset
    for path in sorted(inference_dir.glob("*/result.json")):
        try:
            return json.loads(path.read_text(encoding="utf-8"))["dataset"]
        except (json.JSONDecodeError, KeyError):
            raise ValueError(f"{path}: no 'dataset' in it; re-run scoring (stage 5)") from None
    raise ValueError(f"{inference_dir}: neither {RECORD_NAME} (stage 4) nor a scored set "
                     "(<set>/result.json, stage 5) tells its corpus; give an inference dir "
                     "exp/<tag>/<inference_tag>")


def resolve_system(spec: str) -> System:
    """The system of ``spec``: an inference dir, or a glob of several (expanded here, in
    sorted order). All must be of one corpus."""
    if _GLOB_CHARACTERS & set(spec):
        dirs = tuple(Path(p) for p in sorted(glob.glob(spec)) if Path(p).is_dir())
        if not dirs:
            raise ValueError(f"{spec!r} matches no directory; give an inference dir "
                             "exp/<tag>/<inference_tag> or a quoted glob of the trials of one "
                             "system, e.g. 'exp/train_x_seed*/knn_best'")
    else:
        if not Path(spec).is_dir():
            raise ValueError(f"{spec}: no such directory; give an inference dir "
                             "exp/<tag>/<inference_tag> (run stage 4 first)")
        dirs = (Path(spec),)
    datasets: Dict[str, List[Path]] = {}
    for directory in dirs:
        datasets.setdefault(dataset_of(directory), []).append(directory)
    if len(datasets) > 1:
        found = "; ".join(f"{name}: {', '.join(map(str, paths))}"
                          for name, paths in sorted(datasets.items()))
        raise ValueError(f"{spec!r} holds inference dirs of several corpora ({found}); the "
                         "trials of one system are of one corpus")
    return System(spec, dirs, next(iter(datasets)))


def scored_sets(system: System) -> Set[str]:
    """The sets every trial of ``system`` scored: ``<dir>/<set>/`` holding ``utt2score`` and
    official ``anomaly_score_*.csv`` files (stage 4 on a test set)."""
    per_dir = [{p.parent.name for p in directory.glob("*/utt2score")
                if any(p.parent.glob("anomaly_score_*.csv"))} for directory in system.dirs]
    return set.intersection(*per_dir)


def scored_clips(score_dir: Path) -> Set[str]:
    """The utterance IDs of ``score_dir/utt2score``."""
    path = score_dir / "utt2score"
    if not path.is_file():
        raise ValueError(f"{path}: missing; run stage 4 on that set first")
    return set(read_kv(path))
