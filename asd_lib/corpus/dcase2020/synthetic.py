"""Synthetic DCASE 2020 Task 2 corpus in the official layout (:mod:`asd_lib.corpus.layout.layout`).

Every machine ID of every type gets normal training clips, dev test clips (normal and
anomalous) for the development IDs and eval test clips for the evaluation IDs, generated
by the physical models of :mod:`asd_lib.corpus.sounds`, plus ``eval_data_list.csv``.
"""
import dataclasses
import logging
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from asd_lib.corpus.dcase2020 import layout
from asd_lib.corpus.sounds import (
    DEFAULT_SEVERITY,
    ClipSpec,
    check_severity,
    claim_out_dir,
    make_rng,
    write_clips,
    write_marker,
)

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Dcase2020Sizes:
    """Clips per machine ID; defaults make a corpus a CPU demo can use."""

    duration: float = dataclasses.field(default=2.0, metadata={
        "help": "clip seconds (ToyCar and ToyConveyor clips are 10%% longer)"})
    train_per_id: int = dataclasses.field(default=40, metadata={
        "help": "normal training clips per machine ID (dev and additional)"})
    test_normal_per_id: int = dataclasses.field(default=20, metadata={
        "help": "normal dev test clips per machine ID"})
    test_anomaly_per_id: int = dataclasses.field(default=20, metadata={
        "help": "anomalous dev test clips per machine ID"})
    eval_test_per_id: int = dataclasses.field(default=20, metadata={
        "help": "eval test clips per machine ID (half anomalous, shuffled)"})


def plan_dcase2020(out, seed: int, sizes: Dcase2020Sizes, machines: Sequence[str],
                   severity=DEFAULT_SEVERITY
                   ) -> Tuple[List[ClipSpec], List[Tuple[str, str, str, int]]]:
    """All clip specs of a DCASE 2020 corpus and the rows of its ``eval_data_list.csv``.

    Eval test clips are generated under their original name ``{normal,anomaly}_id_XX_N``,
    shuffled per ID with a seeded generator and renamed ``id_XX_NNNNNNNN.wav`` in that order.
    """
    out = Path(out)
    specs: List[ClipSpec] = []
    rows = []
    for m in machines:
        seconds = layout.clip_seconds(m, sizes.duration)

        def spec(folder, name, mid, split, index, anomaly):
            return ClipSpec(str(out / folder / m / name), m, mid, split, index, anomaly,
                            seconds, seed, tuple(severity))

        for mid in layout.DEV_IDS[m]:
            specs += [spec("dev_data", f"train/normal_id_{mid}_{i:08d}.wav", mid, "dev_train",
                           i, False)
                      for i in range(sizes.train_per_id)]
            specs += [spec("dev_data", f"test/normal_id_{mid}_{i:08d}.wav", mid,
                           "dev_test_normal", i, False)
                      for i in range(sizes.test_normal_per_id)]
            specs += [spec("dev_data", f"test/anomaly_id_{mid}_{i:08d}.wav", mid,
                           "dev_test_anomaly", i, True)
                      for i in range(sizes.test_anomaly_per_id)]
        for mid in layout.EVAL_IDS[m]:
            specs += [spec("eval_data", f"train/normal_id_{mid}_{i:08d}.wav", mid, "eval_train",
                           i, False)
                      for i in range(sizes.train_per_id)]
            n_anomaly = sizes.eval_test_per_id // 2
            originals = [("normal", i) for i in range(sizes.eval_test_per_id - n_anomaly)]
            originals += [("anomaly", i) for i in range(n_anomaly)]
            order = make_rng(seed, m, mid, "eval_shuffle").permutation(len(originals))
            for new_index, k in enumerate(order):
                label, i = originals[k]
                eval_name = f"id_{mid}_{new_index:08d}.wav"
                specs.append(spec("eval_data", f"test/{eval_name}", mid, f"eval_test_{label}", i,
                                  label == "anomaly"))
                rows.append((m, eval_name, f"{label}_id_{mid}_{i:08d}.wav",
                             int(label == "anomaly")))
    return specs, rows


def write_dcase2020(out, seed: int, sizes: Dcase2020Sizes = Dcase2020Sizes(),
                    machines: Optional[Sequence[str]] = None, severity=DEFAULT_SEVERITY,
                    nj: int = 1) -> int:
    """Write a synthetic corpus in the official DCASE 2020 layout; returns the clip count.

    A marker ``.synthetic.json`` records the arguments: a re-run with the same arguments
    skips a complete corpus and redoes an interrupted one; other arguments, or a non-empty
    directory that this function did not write, are an error.
    """
    machines = tuple(machines or layout.MACHINE_TYPES)
    _check_sizes(sizes, severity)
    args = dict(layout="dcase2020", seed=seed, sizes=dataclasses.asdict(sizes),
                machines=list(machines), severity=list(severity))
    out = Path(out)
    if claim_out_dir(out, args):
        logger.info("%s already holds this synthetic corpus; nothing to do", out)
        return 0
    specs, rows = plan_dcase2020(out, seed, sizes, machines, severity)
    logger.info("writing %d clips to %s with %d job(s)", len(specs), out, nj)
    write_clips(specs, nj)
    layout.write_eval_list(out / layout.EVAL_LIST_NAME, rows)
    write_marker(out, args, complete=True)
    return len(specs)


def _check_sizes(sizes: Dcase2020Sizes, severity) -> None:
    if sizes.duration <= 0 or min(sizes.train_per_id, sizes.test_normal_per_id,
                                  sizes.test_anomaly_per_id, sizes.eval_test_per_id) < 1:
        raise ValueError(f"synthetic corpus sizes must be positive, got {sizes}")
    check_severity(severity)
