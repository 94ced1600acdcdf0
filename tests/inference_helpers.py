"""Stage 4 as the recipe runs it: the training set first, then test sets."""
import shutil
from pathlib import Path
from typing import Dict, Sequence

from asd_lib.bin import infer

REPO = Path(__file__).resolve().parents[1]


def decode_config(recipe: str, name: str) -> Path:
    """``egs/<recipe>/asd1/conf/decode/<name>.yaml``."""
    return REPO / "egs" / recipe / "asd1" / "conf" / "decode" / f"{name}.yaml"


def run_stage4(exp: Path, train_dir: Path, out_root: Path, test_dirs: Dict[str, Path] = None,
               args: Sequence[str] = (), checkpoint: str = "best",
               dataset: str = "dcase2020") -> Path:
    """Score ``train_dir`` into ``out_root/train``, then each test dir into
    ``out_root/<name>``; ``args`` are extra infer options (e.g. a --config)."""
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
