"""A scored set read back from stage 4's outputs and the ground truth of its data dir.

The unit of every plot is a group = (machine type, section): a machine ID such as
``id_00`` in DCASE 2020, a section such as ``section_00`` in DCASE 2022-2024. Groups,
labels and domains come from the data dir (``utt2machine``, ``utt2section``,
``utt2label``, ``utt2domain``), scores from ``utt2score`` and embeddings from
``embeddings.scp`` of the score dir, so the same code serves every DCASE year.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import kaldiio
import numpy as np

from asd_lib.data.datadir import clip_file_name, load_data_dir
from asd_lib.metrics.common import read_score_csv
from asd_lib.utils.fileio import read_kv

Group = Tuple[str, str]  # (machine type, section)
LABEL_VALUES = {"normal": 0, "anomaly": 1}


@dataclass(frozen=True)
class ScoredSet:
    """Per-clip arrays of one scored set, in the data dir's utterance order."""

    data_dir: Path
    utts: List[str]
    machines: List[str]
    sections: List[str]
    scores: np.ndarray  # anomaly scores, higher = more anomalous
    labels: Optional[np.ndarray]  # 1 anomaly, 0 normal; None without utt2label
    wav_entries: Optional[List[str]]  # wav.scp values (for the official file names)

    def groups(self) -> Dict[Group, np.ndarray]:
        """Clip indices of every (machine, section), groups sorted."""
        members: Dict[Group, List[int]] = {}
        for index, group in enumerate(zip(self.machines, self.sections)):
            members.setdefault(group, []).append(index)
        return {group: np.asarray(members[group]) for group in sorted(members)}

    def machine_types(self) -> List[str]:
        return sorted(set(self.machines))

    def file_names(self) -> List[str]:
        """Base names of the clips' wav files, as the official CSVs name them."""
        if self.wav_entries is None:
            raise ValueError(f"{self.data_dir}/wav.scp: missing; stage 2 copies it from data/")
        return [clip_file_name(entry) for entry in self.wav_entries]


def load_scored_set(score_dir, data_dir) -> ScoredSet:
    """Scores of ``score_dir/utt2score`` with the ground truth of ``data_dir``.

    Raises ValueError naming both when their clips differ.
    """
    data_dir, score_path = Path(data_dir), Path(score_dir) / "utt2score"
    tables = load_data_dir(data_dir)
    index = tables.get("feats.scp") or tables["wav.scp"]
    utts = list(index)
    if not score_path.is_file():
        raise ValueError(f"{score_path}: missing; run inference (stage 4) for this set first")
    scores = read_kv(score_path)
    missing = [u for u in utts if u not in scores]
    extra = [u for u in scores if u not in index]
    if missing or extra:
        raise ValueError(
            f"{score_path}: clips differ from {data_dir} ({len(missing)} without a score, e.g. "
            f"{missing[:3]}; {len(extra)} unknown, e.g. {extra[:3]}); re-run stage 4 on "
            "this data dir")
    labels = None
    if "utt2label" in tables:
        labels = np.array([LABEL_VALUES[tables["utt2label"][u]] for u in utts], dtype=int)
    wavs = tables.get("wav.scp")
    return ScoredSet(
        data_dir=data_dir,
        utts=utts,
        machines=[tables["utt2machine"][u] for u in utts],
        sections=[tables["utt2section"][u] for u in utts],
        scores=np.array([float(scores[u]) for u in utts]),
        labels=labels,
        wav_entries=None if wavs is None else [wavs[u] for u in utts],
    )


def load_embeddings(score_dir, utts: List[str]) -> np.ndarray:
    """Embeddings ``[len(utts), E]`` from ``score_dir/embeddings.scp``.

    An ark path of the scp that does not exist from the current directory (stage 4 writes
    it relative to the recipe dir) is looked for beside the scp.
    """
    score_dir = Path(score_dir)
    scp = score_dir / "embeddings.scp"
    if not scp.is_file():
        raise ValueError(f"{scp}: missing; run inference (stage 4) for this set first")
    table = read_kv(scp)
    vectors = []
    for utt in utts:
        if utt not in table:
            raise ValueError(f"{scp}: no embedding for {utt}; re-run stage 4 on this set")
        ark, _, offset = table[utt].rpartition(":")
        if not Path(ark).is_file():
            ark = str(score_dir / Path(ark).name)
        vectors.append(np.asarray(kaldiio.load_mat(f"{ark}:{offset}"), dtype=np.float64))
    return np.stack(vectors)


def thresholds_from_decisions(score_dir, scored: ScoredSet,
                              csv_name: Callable[[str, str, str, str], str]) -> Dict[Group, float]:
    """Decision threshold per group recovered from the official decision CSVs.

    Stage 4 decides ``score > threshold``, so any value in ``[max score decided normal,
    min score decided anomalous)`` gives the same decisions; the midpoint is returned.
    A group whose clips were all decided alike has no such interval and is left out.
    ``csv_name(kind, machine, section, file_name)`` names the year's official file of a
    clip (a group's clips may lie in several files, e.g. one per domain).
    """
    score_dir = Path(score_dir)
    names = scored.file_names()
    files: Dict[Path, Dict[str, int]] = {}
    thresholds = {}
    for (machine, section), members in scored.groups().items():
        decided = []
        for i in members:
            path = score_dir / csv_name("decision_result", machine, section, names[i])
            if path not in files:
                if not path.is_file():
                    raise ValueError(f"{path}: missing; run inference (stage 4) with the "
                                     "training scores so that decisions are written")
                files[path] = _read_decisions(path)
            if names[i] not in files[path]:
                raise ValueError(f"{path}: no decision for {names[i]}; re-run stage 4")
            decided.append(files[path][names[i]])
        decided = np.array(decided)
        scores = scored.scores[members]
        normal, anomalous = scores[decided == 0], scores[decided == 1]
        if normal.size == 0 or anomalous.size == 0:
            continue
        if normal.max() >= anomalous.min():
            raise ValueError(f"{path}: the decisions of {machine} {section} are not a "
                             f"threshold on the scores of {score_dir}/utt2score; re-run stage 4 "
                             "for this set")
        thresholds[(machine, section)] = float((normal.max() + anomalous.min()) / 2)
    return thresholds


def _read_decisions(path) -> Dict[str, int]:
    """``{file name: 0 | 1}`` from an official ``file_name,decision`` CSV."""
    decisions = read_score_csv(path)
    bad = [name for name, value in decisions.items() if value not in (0.0, 1.0)]
    if bad:
        raise ValueError(f"{path}: decision of {bad[0]} is {decisions[bad[0]]!r}; decision "
                         "files hold 0 (normal) or 1 (anomaly); re-run stage 4")
    return {name: int(value) for name, value in decisions.items()}
