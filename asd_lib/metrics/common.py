"""What the per-year scorers share: reading the official score files and writing
``result.{csv,md,json}``."""
import csv
import json
import logging
from pathlib import Path
from typing import Dict, List

import numpy as np

from asd_lib.utils.fileio import atomic_write

logger = logging.getLogger(__name__)


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
