"""Ark and in-place wav reading with pread (values, ranges, fallbacks, errors, file
handles) and make_loader (batches, order from the generator only, persistent reader
threads)."""
import gc
import os
import pickle

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import default_collate

from asd_lib.data.audio import dump_wav_scp
from asd_lib.data.dataset import ArkReader, Location, WaveformDataset, split_location
from asd_lib.data.entries import UnsupportedEntryError, locate_entry
from asd_lib.data.loader import make_loader

SR = 16000
T = 800  # 50 ms clips


def open_fds(suffix=".ark"):
    """This process's open descriptors on ark (or other ``suffix``) files (other tests'
    threads may hold others)."""
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").endswith(suffix):
                fds.add(fd)
        except OSError:  # closed meanwhile
            pass
    return fds


@pytest.fixture
def dumped(tmp_path):
    """Two stage-2 archives (two dump jobs, every clip copied) of 5 and 4 int16 clips;
    (locations, clips)."""
    rng = np.random.default_rng(0)
    locations, clips = [], []
    for job, count in ((1, 5), (2, 4)):
        lines = []
        for i in range(count):
            x = rng.integers(-32768, 32767, T, dtype=np.int16)
            path = tmp_path / f"w{job}_{i}.wav"
            sf.write(path, x, SR, subtype="PCM_16")
            lines.append(f"utt{job}_{i} {path}\n")
            clips.append(x)
        (tmp_path / f"wav.{job}.scp").write_text("".join(lines))
        dump_wav_scp(tmp_path / f"wav.{job}.scp", tmp_path / f"feats.{job}", SR, T / SR,
                     copy="always")
        locations += [line.split()[1] for line in open(tmp_path / f"feats.{job}.scp")]
    return locations, clips


def test_split_location_parses_offsets_and_row_ranges():
    assert split_location("/d/feats.1.ark:1234") == Location("/d/feats.1.ark", 1234, None)
    assert split_location("C:/x.ark:7") == ("C:/x.ark", 7, None)
    assert split_location("/c/a b.wav:0[0:159999]") == ("/c/a b.wav", 0, (0, 159999))
    for other in ("a.ark", "a.ark:12[0:3,1:2]", "a.ark:12[:3]", "cat a.ark |", "a.ark:x"):
        assert split_location(other) is None


def test_reader_equals_kaldiio_for_every_utt(dumped):
    locations, clips = dumped
    with ArkReader(locations) as reader:
        assert len(reader.paths) == 2 and len(reader) == 9
        for i, location in enumerate(locations):
            ours, theirs = reader.read(i), kaldiio.load_mat(location)
            assert ours.dtype == theirs.dtype == np.int16 and ours.shape == (T,)
            np.testing.assert_array_equal(ours, theirs)
            np.testing.assert_array_equal(ours, clips[i])
            assert reader.location(i) == location


def test_other_dtypes_shapes_and_kaldi_matrices(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {
        "f32_2d": rng.standard_normal((3, 5)).astype(np.float32),
        "fortran": np.asfortranarray(rng.standard_normal((4, 2))),
        "scalar_rows": np.arange(6, dtype=np.int64).reshape(6, 1),
        "empty": np.zeros((0,), dtype=np.int16),
    }
    kaldiio.save_ark(str(tmp_path / "npy.ark"), arrays, scp=str(tmp_path / "npy.scp"),
                     write_function="numpy")
    matrix = rng.standard_normal((2, 3)).astype(np.float32)
    kaldiio.save_ark(str(tmp_path / "kaldi.ark"), {"m": matrix}, scp=str(tmp_path / "kaldi.scp"))
    locations = [line.split()[1] for name in ("npy", "kaldi")
                 for line in open(tmp_path / f"{name}.scp")]
    locations.append(locations[-1] + "[0:0]")  # a Kaldi row range: first row only
    locations.append(locations[0] + "[1:2]")  # rows 1-2 of the NumPy 3 x 5 matrix
    reader = ArkReader(locations)
    for i, location in enumerate(locations):
        np.testing.assert_array_equal(reader.read(i), kaldiio.load_mat(location))
    assert reader.read(1).flags.f_contiguous and reader.read(1).shape == (4, 2)
    np.testing.assert_array_equal(reader.read(6), arrays["f32_2d"][1:3])
    for kaldio_only in (4, 5):  # Kaldi binary matrices: kaldiio reads these
        with reader.located(kaldio_only) as found:
            assert found is None
    path, offset, _ = split_location(locations[4])
    fd = os.open(path, os.O_RDONLY)
    with pytest.raises(UnsupportedEntryError):
        locate_entry(fd, offset, path)
    os.close(fd)
    with pytest.raises(ValueError, match=r"range \[2:3\] does not fit an array of shape \(3, 5\)"):
        ArkReader([locations[0] + "[2:3]"]).read(0)
    reader.close()


def test_truncated_archive_is_a_clear_error(dumped, tmp_path):
    locations, _ = dumped
    path, offset, _ = split_location(locations[3])
    cut = tmp_path / "cut.ark"
    cut.write_bytes(open(path, "rb").read()[:offset + 200])
    reader = ArkReader([f"{cut}:{offset}", f"{cut}:{offset + 10 ** 6}"])
    for i in range(2):
        with pytest.raises(ValueError, match="truncated.*re-run stage 2"):
            reader.read(i)
    reader.close()
    with pytest.raises(ValueError, match="cannot open.*re-run stage 2"):
        ArkReader([f"{tmp_path}/missing.ark:0"]).read(0)


def test_one_descriptor_per_archive_and_no_leak(dumped):
    locations, _ = dumped
    before = open_fds()
    dataset = WaveformDataset(locations)
    for _ in range(3):
        for i in range(len(dataset)):
            dataset[i]
        dataset.read_batch(list(range(len(dataset))))
    assert len(open_fds() - before) == 2  # one per archive, however many reads
    copy = pickle.loads(pickle.dumps(dataset))  # a spawned worker's copy opens its own
    assert len(open_fds() - before) == 2
    np.testing.assert_array_equal(copy[4][0].numpy(), dataset[4][0].numpy())
    assert len(open_fds() - before) == 3
    dataset.close()
    del copy
    gc.collect()
    assert open_fds() == before
    dataset[0]  # reopens after close
    del dataset
    gc.collect()
    assert open_fds() == before


def test_dataset_items_and_batches(dumped):
    locations, clips = dumped
    labels = [3, 1, 4, 1, 5, 9, 2, 6, 5]
    dataset = WaveformDataset(locations, labels)
    wave, label, index = dataset[7]
    assert wave.dtype == torch.int16 and wave.shape == (T,) and (label, index) == (6, 7)
    np.testing.assert_array_equal(wave.numpy(), clips[7])
    assert WaveformDataset(locations)[2][1] == -1
    assert dataset.locations == locations
    waves, batch_labels, indices = dataset.read_batch([8, 0, 5])
    expected = default_collate([dataset[i] for i in (8, 0, 5)])
    for ours, theirs in zip((waves, batch_labels, indices), expected):
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
    assert batch_labels.tolist() == [5, 3, 9] and indices.tolist() == [8, 0, 5]
    assert WaveformDataset(locations).read_batch([1])[1].tolist() == [-1]
    with pytest.raises(ValueError, match="9 locations but 2 labels"):
        WaveformDataset(locations, [0, 1])


def test_batches_of_mixed_entries_are_stacked_item_by_item(tmp_path):
    arrays = {"a": np.arange(4, dtype=np.int16), "b": np.arange(4, 8, dtype=np.int16)}
    kaldiio.save_ark(str(tmp_path / "m.ark"), arrays, scp=str(tmp_path / "m.scp"),
                     write_function="numpy")
    locations = [line.split()[1] for line in open(tmp_path / "m.scp")]
    locations.append(locations[1] + "[1:2]")  # a row range: 2 samples
    dataset = WaveformDataset(locations[:2] + [locations[0]])
    assert dataset.read_batch([2, 1])[0].tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        WaveformDataset(locations).read_batch([0, 2])


@pytest.fixture
def referenced(tmp_path):
    """A default stage-2 dump of clean 16-bit wavs, exactly T samples or longer (cropped),
    plus one 8 kHz clip that is converted and copied; (locations, clips)."""
    rng = np.random.default_rng(2)
    lines, clips = [], []
    for i, length in enumerate((T, T + 5, T, 2 * T)):
        x = rng.integers(-32768, 32767, length, dtype=np.int16)
        sf.write(tmp_path / f"c{i}.wav", x, SR, subtype="PCM_16")
        lines.append(f"u{i} {tmp_path}/c{i}.wav\n")
        clips.append(x[:T])
    sf.write(tmp_path / "low.wav", np.zeros(T // 2, dtype=np.int16), SR // 2, subtype="PCM_16")
    lines.append(f"u4 {tmp_path}/low.wav\n")
    clips.append(np.zeros(T, dtype=np.int16))
    (tmp_path / "wav.scp").write_text("".join(lines))
    stats = dump_wav_scp(tmp_path / "wav.scp", tmp_path / "feats", SR, T / SR)
    assert (stats.num_referenced, stats.num_resampled) == (4, 1)
    return [line.split()[1] for line in open(tmp_path / "feats.scp")], clips


def test_wavs_referenced_in_place_read_like_the_archive(referenced, tmp_path):
    locations, clips = referenced
    assert locations[:2] == [f"{tmp_path}/c0.wav:0", f"{tmp_path}/c1.wav:0[0:{T - 1}]"]
    assert locations[4].startswith(f"{tmp_path}/feats.ark:")
    before = open_fds(".wav")
    dataset = WaveformDataset(locations)
    for i, location in enumerate(locations):
        ours = dataset[i][0].numpy()
        theirs = kaldiio.load_mat(location)
        if i < 4:
            assert theirs[0] == SR  # kaldiio gives a wav as (rate, samples)
            theirs = theirs[1]
        assert ours.dtype == theirs.dtype == np.int16 and ours.shape == (T,)
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(ours, clips[i])
        with dataset.reader.located(i) as (_, entry):  # every entry is read in place
            assert entry.shape == (T,)
            assert (entry.data_offset == 44) == (i < 4)  # the wav's data chunk, or the ark
    waves, _, _ = dataset.read_batch([3, 4, 1, 0])  # wavs and an archive entry in one batch
    np.testing.assert_array_equal(waves.numpy(), np.stack([clips[i] for i in (3, 4, 1, 0)]))
    assert open_fds(".wav") == before  # a wav is opened per read, never kept


def test_a_referenced_wav_changed_since_the_dump_is_a_clear_error(referenced, tmp_path):
    locations, _ = referenced
    reader = ArkReader(locations)
    data = (tmp_path / "c0.wav").read_bytes()
    (tmp_path / "c0.wav").write_bytes(data[:44 + T])  # half its samples
    with pytest.raises(ValueError, match=r"c0.wav: truncated.*re-extract the corpus file"):
        reader.read(0)
    (tmp_path / "c2.wav").unlink()
    with pytest.raises(ValueError, match=r"c2.wav: cannot open.*re-run stage 2"):
        reader.read(2)


def epoch_indices(loader):
    return [idx.tolist() for _, _, idx in loader]


def test_loader_batches_and_types(dumped):
    locations, clips = dumped
    dataset = WaveformDataset(locations, list(range(9)))
    batches = list(make_loader(dataset, batch_size=4))
    assert len(make_loader(dataset, batch_size=4)) == 3
    assert [b[0].shape for b in batches] == [(4, T), (4, T), (1, T)]
    wave, label, index = batches[1]
    assert wave.dtype == torch.int16 and label.dtype == torch.int64
    assert label.tolist() == index.tolist() == [4, 5, 6, 7]
    np.testing.assert_array_equal(wave[2].numpy(), clips[6])
    dropped = make_loader(dataset, batch_size=4, shuffle=True, drop_last=True,
                          generator=torch.Generator().manual_seed(0))
    assert [len(b) for b in epoch_indices(dropped)] == [4, 4]
    custom = make_loader(dataset, batch_sampler=[[8, 1], [2]])
    assert epoch_indices(custom) == [[8, 1], [2]]
    assert not make_loader(dataset, device="cpu").pin_memory
    threaded = make_loader(dataset, batch_size=4, num_workers=2)
    assert [torch.equal(a[0], b[0]) for a, b in zip(threaded, batches)] == [True] * 3
    threaded.close()


def test_order_depends_only_on_the_generator(dumped):
    """A loader reused across epochs with reader threads gives each epoch the order of a
    fresh thread-less loader seeded the same (what a resumed run builds), and leaves the
    global RNG alone."""
    locations, _ = dumped
    dataset = WaveformDataset(locations)
    generator = torch.Generator()
    persistent = make_loader(dataset, 2, shuffle=True, generator=generator, num_workers=2)
    rng_state = torch.get_rng_state()
    reused = []
    for epoch in (1, 2, 3):
        generator.manual_seed(100 + epoch)
        reused.append(epoch_indices(persistent))
    assert torch.equal(torch.get_rng_state(), rng_state)
    fresh = [epoch_indices(make_loader(dataset, 2, shuffle=True, num_workers=0,
                                       generator=torch.Generator().manual_seed(100 + epoch)))
             for epoch in (1, 2, 3)]
    assert reused == fresh
    expected = torch.randperm(9, generator=torch.Generator().manual_seed(101)).tolist()
    assert sum(fresh[0], []) == expected
    assert reused[0] != reused[1]
    persistent.close()


def test_reader_errors_reach_the_training_loop(dumped, tmp_path):
    locations, _ = dumped
    loader = make_loader(WaveformDataset(locations + [f"{tmp_path}/gone.ark:0"]), 5,
                         num_workers=2)
    batches = iter(loader)
    assert next(batches)[0].shape == (5, T)
    with pytest.raises(ValueError, match="gone.ark: cannot open"):
        next(batches)
    loader.close()


def test_bad_loader_arguments(dumped):
    dataset = WaveformDataset(dumped[0])
    with pytest.raises(ValueError, match="needs a torch.Generator"):
        make_loader(dataset, 2, shuffle=True)
    with pytest.raises(ValueError, match="either batch_sampler"):
        make_loader(dataset, 2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="batch_size=0"):
        make_loader(dataset, 0)
