"""The benchmark's corpus: synthetic DCASE 2020 clips, prepared and dumped as in stages 0-2."""
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List

from asd_lib.corpus import dcase2020
from asd_lib.corpus.synthetic import Dcase2020Sizes, write_dcase2020
from asd_lib.data.audio import dump_wav_scp
from asd_lib.data.dataset import split_location
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv

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


def replicate(corpus: BenchCorpus, factor: int, out_prefix) -> BenchCorpus:
    """A ``factor`` times larger corpus: ``factor`` copies of the archive concatenated
    into one new file, so its pages are distinct from the original's (what matters for
    memory measurements); the wavs, now ``<out_prefix>.wav.scp`` with one utterance id
    per copy, and the labels repeat."""
    paths = {split_location(loc)[0] for loc in corpus.locations}
    if len(paths) != 1:
        raise ValueError(f"{corpus.feats_scp}: expected one archive, found {len(paths)}")
    source = Path(paths.pop())
    size = source.stat().st_size
    target = Path(f"{out_prefix}.ark")
    with atomic_write(target, "wb") as out:
        for _ in range(factor):
            with open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    offsets = [split_location(loc)[1] for loc in corpus.locations]
    locations = [f"{target}:{k * size + offset}" for k in range(factor) for offset in offsets]
    wav_scp = Path(f"{out_prefix}.wav.scp")
    write_kv(wav_scp, ((f"copy{k}-{i:06d}", path) for k in range(factor)
                       for i, path in enumerate(corpus.wav_paths)))
    return replace(corpus, wav_scp=wav_scp, wav_paths=corpus.wav_paths * factor,
                   locations=locations, labels=corpus.labels * factor)
