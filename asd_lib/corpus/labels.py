"""Training-class labelers: data dir -> ``utt2class``.

Self-supervised ASD systems train a classifier on auxiliary labels of normal clips and
score anomalies by how badly a test clip fits its own class. DCASE 2020 systems (e.g.
Giri et al. 2020; STgram-MFN, Liu et al. 2022) use machine type x machine ID, 41 classes
over dev + additional training data. A scheme is a function of the data dir's tables, so
later schemes (attributes, domains, clusters) are one more entry in :data:`SCHEMES`.
"""
from pathlib import Path
from typing import Callable, Dict, NamedTuple, Tuple

from asd_lib.utils.fileio import read_kv, write_kv


class Scheme(NamedTuple):
    needs: Tuple[str, ...]  # data files read
    label: Callable[[Dict[str, str]], str]  # one utterance's values by file name -> class


SCHEMES: Dict[str, Scheme] = {
    "machine_section": Scheme(
        ("utt2machine", "utt2section"), lambda v: f"{v['utt2machine']}_{v['utt2section']}"
    ),
}


def make_labels(data_dir, scheme: str) -> Dict[str, str]:
    """Write ``data_dir/utt2class`` for ``scheme``; returns ``{utt: class}``."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown label scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")
    data_dir = Path(data_dir)
    needs, label = SCHEMES[scheme]
    tables = {}
    for name in needs:
        if not (data_dir / name).is_file():
            raise ValueError(f"{data_dir / name}: missing, needed by scheme {scheme!r}; "
                             "run data preparation (stage 1) first")
        tables[name] = read_kv(data_dir / name)
    utts = tables[needs[0]]
    for name in needs[1:]:
        if set(tables[name]) != set(utts):
            raise ValueError(f"{data_dir / name}: utterances differ from {data_dir / needs[0]}; "
                             "re-run data preparation")
    classes = {utt: label({name: tables[name][utt] for name in needs}) for utt in utts}
    write_kv(data_dir / "utt2class", classes.items())
    return classes
