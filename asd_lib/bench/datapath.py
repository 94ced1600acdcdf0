"""Data-path measurements: the training loader against the published per-item pattern,
and the stage-2 dump (referencing clean clips in place, or copying every clip) against
merely reading the wavs and against copying their bytes."""
import itertools
import logging
import os
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List

import soundfile as sf
import torch
import torchaudio
from torch.utils.data import DataLoader, Dataset

from asd_lib.bench.corpus import SAMPLE_RATE, BenchCorpus
from asd_lib.bench.timing import for_at_least, interleaved_rates, quiet_logging, synchronize
from asd_lib.data.audio import dump_wav_scp
from asd_lib.data.dataset import WaveformDataset
from asd_lib.data.loader import make_loader
from asd_lib.frontends.mel import CLAMP_FLOOR


class NaiveMelDataset(Dataset):
    """The published per-item pattern: every ``__getitem__`` reads the wav and computes
    its log-mel on the CPU, every epoch (STgram-MFN's public ``ASDDataset``: load the
    file, ``MelSpectrogram`` 1024 / 512 / 128 mels, dB). Items: (float waveform,
    log-mel, label)."""

    def __init__(self, wav_paths: List[str], labels: List[int]):
        self.wav_paths = list(wav_paths)
        self.labels = list(labels)
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=1024, win_length=1024, hop_length=512, n_mels=128,
            power=2.0)

    def __len__(self) -> int:
        return len(self.wav_paths)

    def __getitem__(self, index: int):
        samples, _ = sf.read(self.wav_paths[index], dtype="float32")
        wave = torch.from_numpy(samples)
        log_mel = 10.0 * torch.log10(torch.clamp(self.mel(wave), min=CLAMP_FLOOR))
        return wave, log_mel, self.labels[index]


def deliver_epoch(loader: Iterable, device: torch.device) -> int:
    """Pull one epoch of batches onto ``device`` as a training loop does; clips delivered."""
    count = 0
    for batch in loader:
        wave = batch[0].to(device, non_blocking=True)
        count += wave.shape[0]
    synchronize(device)
    return count


def loader_rates(corpus: BenchCorpus, batch_size: int, num_workers: int, device: torch.device,
                 repeats: int, seconds: float, seed: int = 0) -> Dict[str, List[float]]:
    """Clips/s of :func:`~asd_lib.data.loader.make_loader` over the dump (``loader``,
    ``num_workers`` reader threads) and of the naive loader over the wavs (``naive``, a
    DataLoader with ``num_workers`` worker processes), same batch size and device.

    One warm-up epoch each first starts the persistent workers and fills the page cache.
    """
    generator = torch.Generator()
    ours = make_loader(WaveformDataset(corpus.locations, corpus.labels), batch_size,
                       shuffle=True, generator=generator.manual_seed(seed),
                       num_workers=num_workers, device=device)
    worker_opts = dict(persistent_workers=True) if num_workers else {}
    naive = DataLoader(NaiveMelDataset(corpus.wav_paths, corpus.labels), batch_size=batch_size,
                       shuffle=True, generator=torch.Generator().manual_seed(seed),
                       num_workers=num_workers, pin_memory=device.type == "cuda", **worker_opts)
    deliver_epoch(ours, device)
    deliver_epoch(naive, device)
    rates = interleaved_rates({
        "loader": for_at_least(seconds, lambda: deliver_epoch(ours, device)),
        "naive": for_at_least(seconds, lambda: deliver_epoch(naive, device)),
    }, repeats)
    ours.close()
    return rates


def read_wavs(wav_paths: List[str]) -> int:
    """Read every wav to int16 samples, nothing else; the number read."""
    for path in wav_paths:
        sf.read(path, dtype="int16")
    return len(wav_paths)


def copy_wavs(wav_paths: List[str], out_path: Path) -> int:
    """Append the bytes of every wav to one file and ``fsync`` it: the I/O of a dump
    without any decoding or formatting; the number copied."""
    with open(out_path, "wb") as out:
        for path in wav_paths:
            with open(path, "rb") as wav:
                out.write(wav.read())
        out.flush()
        os.fsync(out.fileno())
    return len(wav_paths)


def dump_rates(corpus: BenchCorpus, clip_sec: float, repeats: int) -> Dict[str, List[float]]:
    """Clips/s of one stage-2 job as run by default (``dump``: clips that need no
    conversion are referenced in place) and with every clip copied (``dump_copy``), of
    reading the same wavs (``read``) and of copying their bytes into one synced file
    (``copy``).

    Each dump and copy writes a new file, as a first stage 2 does (replacing an old
    archive would add the file system's cost of freeing it).
    """
    read_wavs(corpus.wav_paths)
    with tempfile.TemporaryDirectory(dir=corpus.root) as tmp:
        names = (Path(tmp) / f"out{n}" for n in itertools.count())

        def dump(copy: str) -> int:
            with quiet_logging():
                return dump_wav_scp(corpus.wav_scp, next(names), SAMPLE_RATE, clip_sec,
                                    copy=copy).num_clips

        rates = interleaved_rates({"dump": lambda: dump("auto"),
                                   "dump_copy": lambda: dump("always"),
                                   "read": lambda: read_wavs(corpus.wav_paths),
                                   "copy": lambda: copy_wavs(corpus.wav_paths, next(names))},
                                  repeats)
    logging.debug("dump rates: %s", rates)
    return rates
