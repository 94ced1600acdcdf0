"""What stage 4 writes per set: ``embeddings.{ark,scp}``, ``utt2score`` (Kaldi text, every
clip) and, for test sets, the official ``anomaly_score_*`` and ``decision_result_*`` CSVs
named as the corpus's evaluator expects (:mod:`asd_lib.corpus`)."""
import contextlib
import hashlib
import os
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import kaldiio
import numpy as np

from asd_lib.experiment import Group
from asd_lib.inference.thresholds import Threshold
from asd_lib.utils.fileio import atomic_write, no_space_error, read_kv, write_kv

CsvName = Callable[[str, str, str, str], str]  # (kind, machine, section, clip) -> file name


def write_scores(out_dir: Path, utts: Sequence[str], scores: np.ndarray) -> None:
    write_kv(Path(out_dir) / "utt2score", [(u, repr(float(s))) for u, s in zip(utts, scores)])


def write_official_files(out_dir: Path, csv_name: CsvName, file_names: Sequence[str],
                         groups: Sequence[Group], scores: np.ndarray,
                         thresholds: Dict[Group, Threshold]) -> None:
    """The score and decision CSVs the corpus's evaluator reads (``csv_name`` names the file
    of each clip: one per (machine, section), or per domain too), rows sorted by file name;
    decisions use the threshold of the clip's (machine, section)."""
    rows = defaultdict(list)
    for name, (machine, section), score in zip(file_names, groups, scores):
        files = tuple(csv_name(kind, machine, section, name)
                      for kind in ("anomaly_score", "decision_result"))
        rows[(machine, section, files)].append((name, float(score)))
    for (machine, section, (score_file, decision_file)), items in sorted(rows.items()):
        items.sort()
        if (machine, section) not in thresholds:
            raise ValueError(f"no decision threshold for {machine} {section}: the training set "
                             "has no clips of it; include that section in the training set")
        threshold = thresholds[(machine, section)].value
        with atomic_write(out_dir / score_file) as f:
            f.writelines(f"{name},{score}\n" for name, score in items)
        with atomic_write(out_dir / decision_file) as f:
            f.writelines(f"{name},{int(score > threshold)}\n" for name, score in items)


def write_embeddings(out_dir: Path, utts: Sequence[str], embeddings: np.ndarray) -> None:
    """``embeddings.scp`` and the archive it points into, written by kaldiio.

    The archive is named after its content (``embeddings.<md5>.ark``) and the scp is written
    under a temporary name and renamed, so an interrupted write (kill -9, full disk) leaves
    the previous pair intact, and the same embeddings give the same files; archives no
    longer referenced are then removed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = {u: np.asarray(v, dtype=np.float32) for u, v in zip(utts, embeddings)}
    digest = hashlib.md5()
    for utt, vector in arrays.items():
        digest.update(utt.encode("utf-8"))
        digest.update(vector.tobytes())
    ark = out_dir / f"embeddings.{digest.hexdigest()[:16]}.ark"
    scp = out_dir / "embeddings.scp"
    tmp_ark = out_dir / f".{ark.name}.{os.getpid()}.tmp"
    tmp_scp = out_dir / f".embeddings.scp.{os.getpid()}.tmp"
    try:
        kaldiio.save_ark(str(tmp_ark), arrays, scp=str(tmp_scp))
        # the scp names the archive by its temporary name: point it at the final one
        lines = tmp_scp.read_text(encoding="utf-8").splitlines()
        with atomic_write(tmp_scp) as f:
            for line in lines:
                utt, location = line.split(" ", 1)
                f.write(f"{utt} {ark}:{location.rsplit(':', 1)[1]}\n")
        os.replace(tmp_ark, ark)
        os.replace(tmp_scp, scp)
    except BaseException as err:
        for path in (tmp_ark, tmp_scp):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        error = no_space_error(scp, err)
        if error is err:
            raise
        raise error from err
    for old in out_dir.glob("embeddings.*.ark"):
        if old != ark:
            old.unlink()


def read_embeddings(scp, utts: Sequence[str]) -> np.ndarray:
    """Embeddings of ``utts`` from an ``embeddings.scp`` written by :func:`write_embeddings`."""
    if not Path(scp).is_file():
        raise ValueError(f"{scp}: missing; run stage 4 on the training set first")
    table = read_kv(scp)
    missing = [u for u in utts if u not in table]
    if missing:
        raise ValueError(f"{scp}: no embedding for {missing[:3]}; re-run stage 4 on the "
                         "training set")
    return np.stack([kaldiio.load_mat(table[u]) for u in utts])


def read_scores(path, utts: Sequence[str]) -> List[float]:
    """``utt2score`` values of ``utts`` in that order (exactly those clips)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: missing; run stage 4 on that set first")
    table = read_kv(path)
    if set(table) != set(utts):
        raise ValueError(f"{path}: its clips differ from the set's ({len(set(utts) - set(table))} "
                         f"without a score, {len(set(table) - set(utts))} unknown); re-run "
                         "stage 4 on that set")
    return [float(table[u]) for u in utts]
