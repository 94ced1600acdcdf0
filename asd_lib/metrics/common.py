"""What the per-year scorers share: reading the official score and decision files, the
ground truth of a data dir with domains, the evaluators' floored harmonic mean and
decision metrics, and writing ``result.{csv,md,json}``."""
import csv
import json
import logging
import re
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import scipy.stats

from asd_lib.data.datadir import clip_file_name, load_data_dir
from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)

EPS = float(np.finfo(float).eps)  # the evaluators' sys.float_info.epsilon
LABEL_VALUES = {"normal": 0, "anomaly": 1}
DOMAIN_VALUES = {"source": 0, "target": 1}
DOMAINS = ("source", "target")
_SECTION_PATTERN = re.compile(r"section_[0-9]+")

Group = Tuple[str, str]  # (machine type, section such as "section_00")


def read_score_csv(path) -> Dict[str, float]:
    """``{file name: score}`` from an official ``file_name,score`` CSV (no header)."""
    scores: Dict[str, float] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'file_name,score', got {row!r}")
            name, value = row[0].strip(), row[1]
            try:
                score = float(value)
            except ValueError:
                raise ValueError(
                    f"{path}:{lineno}: score {value!r} is not a number "
                    "(the file must have no header)"
                ) from None
            if not np.isfinite(score):
                raise ValueError(f"{path}:{lineno}: score of {name} is {value}; fix inference")
            if name in scores:
                raise ValueError(f"{path}:{lineno}: file name {name!r} appears twice")
            scores[name] = score
    return scores


def read_decision_csv(path) -> Dict[str, int]:
    """``{file name: 0 or 1}`` from an official ``file_name,decision`` CSV (no header)."""
    decisions = {}
    for name, value in read_score_csv(path).items():
        if value not in (0.0, 1.0):
            raise ValueError(
                f"{path}: decision of {name} is {value!r}; decision_result files hold 0 "
                "(normal) or 1 (anomaly) per clip"
            )
        decisions[name] = int(value)
    return decisions


def load_domain_ground_truth(data_dir, title: str
                             ) -> Optional[Dict[Group, Dict[str, Tuple[int, int]]]]:
    """``{(machine, section): {file name: (label, domain)}}`` (label 1 = anomaly, domain
    1 = target) of a data dir of the 2021-2025 layouts; None when it has no ``utt2label``.
    ``title`` names the corpus in the error raised for another year's data dir."""
    data_dir = Path(data_dir)
    if not (data_dir / "utt2label").is_file():
        return None
    tables = load_data_dir(
        data_dir, require=("wav.scp", "utt2machine", "utt2section", "utt2domain", "utt2label")
    )
    truth: Dict[Group, Dict[str, Tuple[int, int]]] = {}
    for utt, wav_entry in tables["wav.scp"].items():
        machine, section = tables["utt2machine"][utt], tables["utt2section"][utt]
        if not _SECTION_PATTERN.fullmatch(section):
            raise ValueError(
                f"{data_dir / 'utt2section'}: {utt} has section {section!r}, but {title} "
                f"sections look like 'section_00'; is this a {title} data dir?"
            )
        group = truth.setdefault((machine, section), {})
        file_name = clip_file_name(wav_entry)
        if file_name in group:
            raise ValueError(
                f"{data_dir / 'wav.scp'}: file name {file_name!r} occurs twice for {machine} "
                f"{section}; scores could not be matched"
            )
        group[file_name] = (
            LABEL_VALUES[tables["utt2label"][utt]],
            DOMAIN_VALUES[tables["utt2domain"][utt]],
        )
    return truth


def aligned(names: Sequence[str], rows: Mapping[str, float], csv_path, what: str) -> np.ndarray:
    """``rows`` in the order of ``names``; ValueError naming ``csv_path`` on any mismatch.

    The official evaluators sort both lists by file name and pair them by position; here
    rows are matched by name, so a missing, extra or misnamed row is an error instead of
    a silent misalignment."""
    unknown = sorted(set(rows) - set(names))
    missing = sorted(set(names) - set(rows))
    if len(rows) != len(names) or unknown or missing:
        raise ValueError(
            f"{csv_path}: {len(rows)} rows for {len(names)} test clips of {what}; "
            f"{len(unknown)} file names unknown to the data dir (e.g. {unknown[:3]}), "
            f"{len(missing)} clips without a row (e.g. {missing[:3]}); re-run inference "
            "(stage 4) on the same data dir"
        )
    return np.array([rows[n] for n in names], dtype=float)


def require_files(paths: Sequence[Path], what: str, data_dir) -> None:
    """Both official files of a scoring unit must exist (every evaluator reads both)."""
    for path in paths:
        if not Path(path).is_file():
            raise ValueError(
                f"{path} is missing: the official evaluator needs both the anomaly score "
                f"and the decision file of {what} of {data_dir}; run inference (stage 4) "
                "with training scores for the decision threshold"
            )


def floored_hmean(values, axis=None):
    """Harmonic mean of ``values`` each floored at machine epsilon (as the evaluators do
    with ``scipy.stats.hmean(numpy.maximum(x, eps))``), so that a 0 gives a tiny mean
    instead of a division error."""
    result = scipy.stats.hmean(np.maximum(np.asarray(values, dtype=float), EPS), axis=axis)
    return float(result) if np.ndim(result) == 0 else result


def decision_metrics(y_true, decision) -> Tuple[float, float, float]:
    """(precision, recall, F1) of 0/1 decisions, each denominator floored at ``EPS``."""
    y_true, decision = np.asarray(y_true), np.asarray(decision)
    tp = int(np.sum((y_true == 1) & (decision == 1)))
    fp = int(np.sum((y_true == 0) & (decision == 1)))
    fn = int(np.sum((y_true == 1) & (decision == 0)))
    precision = tp / max(tp + fp, EPS)
    recall = tp / max(tp + fn, EPS)
    f1 = 2.0 * precision * recall / max(precision + recall, EPS)
    return precision, recall, f1


def guarded(what: str, fn: Callable[..., float], *args) -> float:
    """``fn(*args)``, its ValueError (e.g. one class only) re-raised naming ``what``."""
    try:
        return fn(*args)
    except ValueError as err:
        raise ValueError(f"{what}: {err}") from None


def pct(value: float) -> str:
    return f"{100.0 * value:.2f}"


def write_result_files(stem: Path, csv_text: str, markdown: str, numbers: dict) -> List[Path]:
    """``stem`` + ``.csv``, ``.md`` and ``.json`` (``numbers``), each written atomically;
    the paths written."""
    contents = {
        stem.with_suffix(".csv"): csv_text,
        stem.with_suffix(".md"): markdown,
        stem.with_suffix(".json"): json.dumps(numbers, indent=2) + "\n",
    }
    for path, text in contents.items():
        with atomic_write(path, newline="") as f:
            f.write(text)
        logger.info("wrote %s", path)
    return list(contents)
