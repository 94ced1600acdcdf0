"""Stage 4 as the recipe runs it: the training set first, then test sets."""
import shutil
from pathlib import Path
from typing import Dict, Sequence

import numpy as np

from asd_lib.bin import infer
from asd_lib.utils.fileio import read_kv, write_kv

REPO = Path(__file__).resolve().parents[1]


def decode_config(recipe: str, name: str) -> Path:
    """``egs/<recipe>/asd1/conf/decode/<name>.yaml``."""
    return REPO / "egs" / recipe / "asd1" / "conf" / "decode" / f"{name}.yaml"


def run_stage4(exp: Path, train_dir: Path, out_root: Path, test_dirs: Dict[str, Path] = None,
               args: Sequence[str] = ("--score", "neg_log_prob"), checkpoint: str = "best",
               dataset: str = "dcase2020") -> Path:
    """Score ``train_dir`` into ``out_root/train``, then each test dir into
    ``out_root/<name>``; ``args`` are the scorer and any other infer options (e.g. a
    --config)."""
    common = ["--exp_dir", str(exp), "--checkpoint", checkpoint, "--train_dir", str(train_dir),
              "--train_out_dir", str(out_root / "train"), "--dataset", dataset,
              "--num_threads", "1", "--verbose", "0", *args]
    infer.main(["--data_dir", str(train_dir), "--out_dir", str(out_root / "train"), *common])
    for name, data_dir in (test_dirs or {}).items():
        infer.main(["--data_dir", str(data_dir), "--out_dir", str(out_root / name), *common])
    return out_root


def copy_as_test_set(train_dir: Path, target: Path, keep=("feats.scp", "wav.scp", "utt2machine",
                                                          "utt2section", "utt2domain",
                                                          "utt2label", "utt2attr")) -> Path:
    """A test set holding the training set's clips (its label files copied too)."""
    target.mkdir(parents=True)
    for name in keep:
        if (train_dir / name).is_file():
            shutil.copy(train_dir / name, target / name)
    if (train_dir / "sample_rate").is_file():
        shutil.copy(train_dir / "sample_rate", target / "sample_rate")
    return target


def hide_test_labels(test_dir: Path, seed: int = 0) -> None:
    """What the official evaluation data hides, made useless: the values of ``utt2class``,
    ``utt2domain`` and ``utt2attr`` shuffled among the clips (a class file written where
    there was none) and ``utt2label`` emptied."""
    rng = np.random.default_rng(seed)
    utts = sorted(read_kv(test_dir / "wav.scp"))
    for name, fallback in (("utt2class", "nonsense"), ("utt2domain", "target"),
                           ("utt2attr", "noAttribute")):
        path = test_dir / name
        values = list(read_kv(path).values()) if path.is_file() else [fallback] * len(utts)
        write_kv(path, zip(utts, [values[i] for i in rng.permutation(len(values))]))
    (test_dir / "utt2label").write_text("")


def outputs(out_dir: Path) -> Dict[str, bytes]:
    """Every score file of a stage-4 output dir (utt2score and the official CSVs)."""
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())
            if p.name == "utt2score" or p.suffix == ".csv"}
