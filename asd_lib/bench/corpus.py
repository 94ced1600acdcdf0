"""The benchmark's corpus: synthetic DCASE 2020 clips, prepared and dumped as in stages 0-2."""
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List

from asd_lib.corpus.dcase2020 import layout as dcase2020
from asd_lib.corpus.dcase2020.synthetic import Dcase2020Sizes, write_dcase2020
from asd_lib.data.audio import dump_wav_scp
from asd_lib.utils.fileio import read_kv, write_kv

# One machine type: its 4 development and 3 additional-training IDs are the classes.
MACHINE = "fan"
NUM_IDS = len(dcase2020.DEV_IDS[MACHINE]) + len(dcase2020.EVAL_IDS[MACHINE])
SAMPLE_RATE = dcase2020.SAMPLE_RATE


@dataclass(frozen=True)
class BenchCorpus:
    """The training set of the benchmark corpus, as wavs and as the stage-2 dump."""

    root: Path
    wav_scp: Path
    wav_paths: List[str]
    feats_scp: Path
    locations: List[str]
    labels: List[int]
    num_classes: int
    num_samples: int


def make_corpus(root, clip_sec: float, clips_per_id: int, seed: int = 0,
                nj: int = 1) -> BenchCorpus:
    """Synthesize (stage 0), prepare (stage 1) and dump (stage 2) the training set in ``root``.

    Each of the 7 machine IDs of ``fan`` gets ``clips_per_id`` training clips of
    ``clip_sec`` seconds; the test sets get one clip per ID, as the layout requires.
    """
    root = Path(root)
    sizes = Dcase2020Sizes(duration=clip_sec, train_per_id=clips_per_id, test_normal_per_id=1,
                           test_anomaly_per_id=1, eval_test_per_id=1)
    write_dcase2020(root / "corpus", seed, sizes, machines=(MACHINE,), nj=nj)
    dcase2020.prepare_data(root / "corpus", root / "data", machines=(MACHINE,))
    wav_scp = root / "data" / "train" / "wav.scp"
    dump_wav_scp(wav_scp, root / "dump" / "feats", SAMPLE_RATE, clip_sec)
    wavs = read_kv(wav_scp)
    sections = read_kv(root / "data" / "train" / "utt2section")
    feats_scp = root / "dump" / "feats.scp"
    feats = read_kv(feats_scp)
    classes = sorted(set(sections.values()))
    utts = list(feats)
    logging.info("benchmark corpus: %d clips of %.1f s in %d classes", len(utts), clip_sec,
                 len(classes))
    return BenchCorpus(root, wav_scp, [wavs[u] for u in utts], feats_scp,
                       [feats[u] for u in utts], [classes.index(sections[u]) for u in utts],
                       len(classes), int(round(clip_sec * SAMPLE_RATE)))


def replicate(corpus: BenchCorpus, factor: int, out_dir) -> BenchCorpus:
    """A ``factor`` times larger corpus: ``factor`` copies of every wav under ``out_dir``
    (real copies, so their pages are distinct from the originals': what memory
    measurements need), indexed in ``out_dir/wav.scp`` and dumped by stage 2 into
    ``out_dir/feats.scp``; the labels repeat."""
    out_dir = Path(out_dir)
    wav_paths = []
    for k in range(factor):
        (out_dir / f"copy{k}").mkdir(parents=True, exist_ok=True)
        for path in corpus.wav_paths:
            target = out_dir / f"copy{k}" / Path(path).name
            shutil.copyfile(path, target)
            wav_paths.append(str(target))
    utts = [f"copy{k}-{i:06d}" for k in range(factor) for i in range(len(corpus.wav_paths))]
    wav_scp = out_dir / "wav.scp"
    write_kv(wav_scp, zip(utts, wav_paths))
    dump_wav_scp(wav_scp, out_dir / "feats", SAMPLE_RATE, corpus.num_samples / SAMPLE_RATE)
    feats = read_kv(out_dir / "feats.scp")
    return replace(corpus, wav_scp=wav_scp, wav_paths=wav_paths, feats_scp=out_dir / "feats.scp",
                   locations=[feats[u] for u in utts], labels=corpus.labels * factor)
