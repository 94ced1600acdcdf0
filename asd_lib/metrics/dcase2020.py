"""DCASE 2020 Task 2 scoring: per machine ID AUC / pAUC, type averages, mAUC.

Official protocol (``per_id``), as in the task's baseline ``01_test.py`` and its
``evaluator.py`` (github.com/y-kawagu/dcase2020_task2_baseline, .../dcase2020_task2_evaluator):

- for each machine type and each machine ID, AUC and pAUC (McClish-standardised,
  ``max_fpr`` = 0.1, see :mod:`asd_lib.metrics.auc`) over that ID's test clips;
- per machine type, the arithmetic mean over its IDs (the "Average" row of result.csv);
- mAUC, the minimum per-ID AUC of a type (reported by the STgram-MFN, CLP-SCF and OS-SCL
  papers);
- over machine types, the arithmetic mean of the per-type AUC, pAUC and mAUC (the
  papers' "Average" column).

Second protocol (``pooled``), never the default: all IDs of a machine type are pooled
into one AUC / pAUC, as some re-implementations (Noisy-ArcMix, OS-SCL code) do. It has no
per-ID rows and no mAUC, and its outputs are named ``result_pooled.*`` so they never
replace the official ``result.*``.

Inputs are the official score files ``anomaly_score_<M>_id_XX.csv`` (rows
``file_name,score``, no header) and a Kaldi data dir whose ``utt2label`` holds the
ground truth; file names are the base names of the ``wav.scp`` entries.
"""
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from asd_lib.data.datadir import clip_file_name
from asd_lib.metrics.auc import partial_auc, roc_auc
from asd_lib.metrics.common import read_score_csv, write_result_files
from asd_lib.utils.fileio import read_kv

logger = logging.getLogger(__name__)

MAX_FPR = 0.1
PROTOCOLS = ("per_id", "pooled")
LABEL_VALUES = {"normal": 0, "anomaly": 1}
_SECTION_PATTERN = re.compile(r"id_[0-9]+")

PROTOCOL_NOTES = {
    "per_id": (
        "protocol `per_id` (official DCASE 2020): AUC and pAUC per machine ID; per type "
        "the arithmetic mean over IDs and mAUC = minimum per-ID AUC"
    ),
    "pooled": (
        "protocol `pooled` (NOT the official DCASE 2020 protocol): all IDs of a machine "
        "type pooled into one AUC and pAUC; no mAUC"
    ),
}

Group = Tuple[str, str]  # (machine type, machine ID such as "id_00")


@dataclass(frozen=True)
class IdScore:
    """AUC and pAUC of one machine ID."""

    section: str
    auc: float
    pauc: float
    n_normal: int
    n_anomaly: int


@dataclass(frozen=True)
class MachineScore:
    """One machine type: mean over IDs (per_id) or pooled values (pooled)."""

    machine: str
    auc: float
    pauc: float
    mauc: Optional[float]
    n_normal: int
    n_anomaly: int
    ids: Tuple[IdScore, ...]


@dataclass(frozen=True)
class Dcase2020Result:
    """Every number of one scored set; the averages are over machine types."""

    protocol: str
    max_fpr: float
    machines: Tuple[MachineScore, ...]
    auc: float
    pauc: float
    mauc: Optional[float]


# ---------------------------------------------------------------------------- inputs


def load_ground_truth(data_dir) -> Optional[Dict[Group, Dict[str, int]]]:
    """``{(machine, id): {file name: 0 normal / 1 anomaly}}``; None without utt2label."""
    data_dir = Path(data_dir)
    if not (data_dir / "utt2label").is_file():
        return None
    tables = {}
    for name in ("wav.scp", "utt2machine", "utt2section", "utt2label"):
        path = data_dir / name
        if not path.is_file():
            raise ValueError(f"{path} is missing; re-run data preparation (stage 1)")
        tables[name] = read_kv(path)
    utts = tables["wav.scp"]
    for name in ("utt2machine", "utt2section", "utt2label"):
        missing = [u for u in utts if u not in tables[name]]
        extra = [u for u in tables[name] if u not in utts]
        if missing or extra:
            raise ValueError(
                f"{data_dir / name}: keys differ from wav.scp ({len(missing)} missing, e.g. "
                f"{missing[:3]}; {len(extra)} extra, e.g. {extra[:3]}); "
                "re-run data preparation (stage 1)"
            )
    truth: Dict[Group, Dict[str, int]] = {}
    for utt, wav_entry in utts.items():
        section = tables["utt2section"][utt]
        if not _SECTION_PATTERN.fullmatch(section):
            raise ValueError(
                f"{data_dir / 'utt2section'}: {utt} has section {section!r}, but DCASE 2020 "
                "machine IDs look like 'id_00'; is this a DCASE 2020 data dir?"
            )
        label = tables["utt2label"][utt]
        if label not in LABEL_VALUES:
            raise ValueError(
                f"{data_dir / 'utt2label'}: {utt} has label {label!r}; "
                f"expected one of {sorted(LABEL_VALUES)}"
            )
        group = truth.setdefault((tables["utt2machine"][utt], section), {})
        file_name = clip_file_name(wav_entry)
        if file_name in group:
            raise ValueError(
                f"{data_dir / 'wav.scp'}: file name {file_name!r} occurs twice for "
                f"{tables['utt2machine'][utt]} {section}; scores could not be matched"
            )
        group[file_name] = LABEL_VALUES[label]
    return truth


def official_csv_name(kind: str, machine: str, section: str,
                      file_name: Optional[str] = None) -> str:
    """Official file name of the 2020 evaluator, ``kind`` being ``anomaly_score`` or
    ``decision_result``: e.g. ``anomaly_score_fan_id_00.csv``; one file per machine ID,
    whatever the clip (``file_name``)."""
    return f"{kind}_{machine}_{section}.csv"


def match_scores(
    labels: Mapping[str, int], scores: Mapping[str, float], csv_path
) -> Tuple[np.ndarray, np.ndarray]:
    """(y_true, score) sorted by file name, as the official evaluator pairs them.

    Raises ValueError naming ``csv_path`` when its clips are not exactly the data dir's.
    """
    unknown = sorted(set(scores) - set(labels))
    missing = sorted(set(labels) - set(scores))
    if len(scores) != len(labels) or unknown or missing:
        raise ValueError(
            f"{csv_path}: {len(scores)} scores for {len(labels)} test clips of this machine "
            f"ID; {len(unknown)} file names unknown to the data dir (e.g. {unknown[:3]}), "
            f"{len(missing)} clips without a score (e.g. {missing[:3]}); re-run inference "
            "(stage 4) on the same data dir"
        )
    names = sorted(labels)
    y_true = np.array([labels[n] for n in names], dtype=int)
    y_score = np.array([scores[n] for n in names], dtype=float)
    return y_true, y_score


def load_scored_groups(
    data_dir, score_dir
) -> Optional[Dict[Group, Tuple[np.ndarray, np.ndarray]]]:
    """Pair every (machine, id) of the data dir with its score CSV; None without labels."""
    truth = load_ground_truth(data_dir)
    if truth is None:
        return None
    score_dir = Path(score_dir)
    groups = {}
    for machine, section in sorted(truth):
        csv_path = score_dir / official_csv_name("anomaly_score", machine, section)
        if not csv_path.is_file():
            raise ValueError(
                f"{csv_path} is missing: no scores for {machine} {section} of {data_dir}; "
                "run inference (stage 4) for this set first"
            )
        groups[(machine, section)] = match_scores(
            truth[(machine, section)], read_score_csv(csv_path), csv_path
        )
    expected = {official_csv_name("anomaly_score", m, s) for m, s in truth}
    for path in sorted(score_dir.glob("anomaly_score_*.csv")):
        if path.name not in expected:
            logger.warning("%s has no ground truth in %s; ignored", path, data_dir)
    return groups


# ------------------------------------------------------------------------- metrics


def evaluate(
    groups: Mapping[Group, Tuple[np.ndarray, np.ndarray]],
    protocol: str = "per_id",
    max_fpr: float = MAX_FPR,
) -> Dcase2020Result:
    """Scores of ``{(machine, id): (y_true, score)}`` under ``protocol`` (module docstring)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
    if not groups:
        raise ValueError("nothing to score: no (machine type, machine ID) groups")
    by_machine: Dict[str, List[Group]] = {}
    for group in sorted(groups):
        by_machine.setdefault(group[0], []).append(group)
    machines = []
    for machine, machine_groups in by_machine.items():
        if protocol == "per_id":
            machines.append(_per_id_machine(machine, machine_groups, groups, max_fpr))
        else:
            machines.append(_pooled_machine(machine, machine_groups, groups, max_fpr))
    return Dcase2020Result(
        protocol=protocol,
        max_fpr=max_fpr,
        machines=tuple(machines),
        auc=float(np.mean([m.auc for m in machines])),
        pauc=float(np.mean([m.pauc for m in machines])),
        mauc=float(np.mean([m.mauc for m in machines])) if protocol == "per_id" else None,
    )


def _id_score(section: str, y_true: np.ndarray, score: np.ndarray, max_fpr: float) -> IdScore:
    n_anomaly = int(np.sum(y_true))
    return IdScore(
        section=section,
        auc=roc_auc(y_true, score),
        pauc=partial_auc(y_true, score, max_fpr),
        n_normal=int(y_true.size - n_anomaly),
        n_anomaly=n_anomaly,
    )


def _per_id_machine(machine, machine_groups, groups, max_fpr) -> MachineScore:
    ids = tuple(_id_score(g[1], *groups[g], max_fpr) for g in machine_groups)
    return MachineScore(
        machine=machine,
        auc=float(np.mean([i.auc for i in ids])),
        pauc=float(np.mean([i.pauc for i in ids])),
        mauc=min(i.auc for i in ids),
        n_normal=sum(i.n_normal for i in ids),
        n_anomaly=sum(i.n_anomaly for i in ids),
        ids=ids,
    )


def _pooled_machine(machine, machine_groups, groups, max_fpr) -> MachineScore:
    y_true = np.concatenate([groups[g][0] for g in machine_groups])
    score = np.concatenate([groups[g][1] for g in machine_groups])
    pooled = _id_score("pooled", y_true, score, max_fpr)
    return MachineScore(
        machine=machine,
        auc=pooled.auc,
        pauc=pooled.pauc,
        mauc=None,
        n_normal=pooled.n_normal,
        n_anomaly=pooled.n_anomaly,
        ids=(),
    )


def score_dcase2020(
    data_dir, score_dir, protocol: str = "per_id", max_fpr: float = MAX_FPR
) -> Optional[Dcase2020Result]:
    """Score one set; None (logged) when the data dir has no ground truth (utt2label)."""
    groups = load_scored_groups(data_dir, score_dir)
    if groups is None:
        logger.info(
            "%s has no utt2label: ground truth is absent, so %s is not scored",
            data_dir,
            score_dir,
        )
        return None
    return evaluate(groups, protocol, max_fpr)


# ------------------------------------------------------------------------- outputs


def _num(value: float) -> str:
    """A float as Python's csv module writes it in the official result.csv (repr)."""
    return repr(float(value))


def format_result_csv(result: Dcase2020Result) -> str:
    """result.csv in the baseline/evaluator layout: per type, ``<M>`` / ``id,AUC,pAUC`` /
    one row per ID (number without ``id_``) / ``Average,auc,pauc`` / blank line.

    Under the pooled protocol each block holds one ``pooled,auc,pauc`` row instead.
    """
    lines = []
    for machine in result.machines:
        lines += [machine.machine, "id,AUC,pAUC"]
        if result.protocol == "per_id":
            for row in machine.ids:
                number = row.section.split("_", 1)[1]
                lines.append(f"{number},{_num(row.auc)},{_num(row.pauc)}")
            lines.append(f"Average,{_num(machine.auc)},{_num(machine.pauc)}")
        else:
            lines.append(f"pooled,{_num(machine.auc)},{_num(machine.pauc)}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _pct(value: Optional[float]) -> str:
    return "" if value is None else f"{100.0 * value:.2f}"


def format_markdown(result: Dcase2020Result) -> str:
    """A Markdown table in % (per ID, per type, average over types) with its definitions."""
    note = (
        f"DCASE 2020 Task 2, {PROTOCOL_NOTES[result.protocol]}. pAUC is the "
        f"McClish-standardised partial AUC with max_fpr = {result.max_fpr:g} "
        f"(scikit-learn `roc_auc_score(y, s, max_fpr={result.max_fpr:g})`). The last row is "
        f"the arithmetic mean over the {len(result.machines)} machine types. Values in %."
    )
    rows = ["| Machine type | ID | AUC | pAUC | mAUC |", "|:--|:--|--:|--:|--:|"]
    for machine in result.machines:
        for row in machine.ids:
            rows.append(
                f"| {machine.machine} | {row.section} | {_pct(row.auc)} | {_pct(row.pauc)} | |"
            )
        label = "Average" if result.protocol == "per_id" else "all IDs pooled"
        rows.append(
            f"| {machine.machine} | {label} | {_pct(machine.auc)} | {_pct(machine.pauc)} "
            f"| {_pct(machine.mauc)} |"
        )
    rows.append(
        f"| Average | | {_pct(result.auc)} | {_pct(result.pauc)} | {_pct(result.mauc)} |"
    )
    return note + "\n\n" + "\n".join(rows) + "\n"


def result_to_dict(result: Dcase2020Result) -> dict:
    """Every number of ``result`` (fractions, not %) for result.json."""
    machine_types = {}
    for machine in result.machines:
        entry = {
            "AUC": machine.auc,
            "pAUC": machine.pauc,
            "mAUC": machine.mauc,
            "n_normal": machine.n_normal,
            "n_anomaly": machine.n_anomaly,
        }
        if result.protocol == "per_id":
            entry["ids"] = {
                row.section: {
                    "AUC": row.auc,
                    "pAUC": row.pauc,
                    "n_normal": row.n_normal,
                    "n_anomaly": row.n_anomaly,
                }
                for row in machine.ids
            }
        machine_types[machine.machine] = entry
    return {
        "dataset": "dcase2020",
        "protocol": result.protocol,
        "protocol_note": PROTOCOL_NOTES[result.protocol],
        "pauc_definition": "McClish-standardised partial AUC (sklearn roc_auc_score max_fpr)",
        "max_fpr": result.max_fpr,
        "machine_types": machine_types,
        "average": {
            "AUC": result.auc,
            "pAUC": result.pauc,
            "mAUC": result.mauc,
            "n_machine_types": len(result.machines),
        },
    }


def result_stem(protocol: str) -> str:
    """``result`` for the official protocol, ``result_pooled`` for the pooled one."""
    return "result" if protocol == "per_id" else f"result_{protocol}"


def write_results(result: Dcase2020Result, out_dir) -> List[Path]:
    """Write ``<stem>.csv``, ``<stem>.md`` and ``<stem>.json`` atomically into ``out_dir``."""
    return write_result_files(Path(out_dir) / result_stem(result.protocol),
                              format_result_csv(result), format_markdown(result),
                              result_to_dict(result))
