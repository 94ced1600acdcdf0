"""Training-class labelers for DCASE 2024 data dirs: attribute / domain rules with hidden
attributes decided on the training set, and train-fitted statistical clustering."""
import logging

import numpy as np
import pytest
import soundfile

from asd_lib.bin import make_labels as make_labels_bin
from asd_lib.corpus.labels import ClusterConfig, label_dirs, log_mel_statistics, make_labels
from asd_lib.utils.fileio import read_kv, write_kv

# utt: (machine, domain, attribute string)
TRAIN = {
    "fan-s0": ("fan", "source", "m-n_W"), "fan-s1": ("fan", "source", "m-n_X"),
    "fan-t0": ("fan", "target", "m-n_Y"),
    "gearbox-s0": ("gearbox", "source", "noAttribute"), "gearbox-t0": ("gearbox", "target", "noAttribute"),
    "BrushlessMotor-s0": ("BrushlessMotor", "source", "noAttribute"),
    "BrushlessMotor-t0": ("BrushlessMotor", "target", "noAttribute"),
    "RoboticArm-s0": ("RoboticArm", "source", "weight15_BckgF"),
    "RoboticArm-t0": ("RoboticArm", "target", "weight35_BckgE"),
}
TEST = {  # BrushlessMotor shows its attributes in the eval list only
    "BrushlessMotor-x0": ("BrushlessMotor", "source", "spd1000_BckgC"),
    "BrushlessMotor-x1": ("BrushlessMotor", "target", "spd1100_BckgB"),
    "fan-x0": ("fan", "target", "m-n_Y"), "gearbox-x0": ("gearbox", "source", "noAttribute"),
    "RoboticArm-x0": ("RoboticArm", "target", "weight25_BckgE"),  # not in training
}


def data_dir(path, clips):
    write_kv(path / "wav.scp", ((u, f"/corpus/{u}.wav") for u in clips))
    write_kv(path / "utt2machine", ((u, v[0]) for u, v in clips.items()))
    write_kv(path / "utt2section", ((u, "section_00") for u in clips))
    write_kv(path / "utt2domain", ((u, v[1]) for u, v in clips.items()))
    write_kv(path / "utt2attr", ((u, v[2]) for u, v in clips.items()))
    return path


@pytest.fixture
def dirs(tmp_path):
    return data_dir(tmp_path / "train", TRAIN), data_dir(tmp_path / "test", TEST)


def test_machine_section_attr(dirs, caplog):
    train, test = dirs
    with caplog.at_level(logging.WARNING):
        labels = label_dirs([train, test], "machine_section_attr", fit_dirs=[train])
    assert labels[str(train)] == {
        "BrushlessMotor-s0": "BrushlessMotor_section_00_source",
        "BrushlessMotor-t0": "BrushlessMotor_section_00_target",
        "RoboticArm-s0": "RoboticArm_section_00_weight15_BckgF",
        "RoboticArm-t0": "RoboticArm_section_00_weight35_BckgE",
        "fan-s0": "fan_section_00_m-n_W", "fan-s1": "fan_section_00_m-n_X", "fan-t0": "fan_section_00_m-n_Y",
        "gearbox-s0": "gearbox_section_00_source", "gearbox-t0": "gearbox_section_00_target",
    }
    assert read_kv(test / "utt2class") == {
        "BrushlessMotor-x0": "BrushlessMotor_section_00_source",  # hidden in training -> domain
        "BrushlessMotor-x1": "BrushlessMotor_section_00_target",
        "RoboticArm-x0": "RoboticArm_section_00_weight25_BckgE",
        "fan-x0": "fan_section_00_m-n_Y", "gearbox-x0": "gearbox_section_00_source",
    }
    assert (test / "label_scheme").read_text() == "machine_section_attr\n"
    # without a fit dir the labelled dir decides: BrushlessMotor test clips keep attributes
    assert make_labels(test, "machine_section_attr")["BrushlessMotor-x0"] == "BrushlessMotor_section_00_spd1000_BckgC"


@pytest.mark.parametrize("options, scheme", [
    (["--dataset", "dcase2024"], "machine_section_attr"),
    (["--dataset", "dcase2021"], "machine_section"),
    (["--dataset", "dcase2024", "--scheme", "machine"], "machine"),
    ([], "machine_section"),
])
def test_make_labels_takes_the_corpus_default_scheme(dirs, options, scheme):
    train, _ = dirs
    make_labels_bin.main([*options, "--fit_dir", str(train), "--verbose", "0", str(train)])
    assert (train / "label_scheme").read_text() == scheme + "\n"


def test_domain_machine_and_2020_schemes(dirs):
    train, test = dirs
    labels = label_dirs([train, test], "domain", fit_dirs=[train])
    assert labels[str(train)]["gearbox-t0"] == "gearbox_target"
    assert labels[str(train)]["fan-s1"] == "fan_m-n_X"
    assert labels[str(test)]["BrushlessMotor-x1"] == "BrushlessMotor_target"
    # one section per type: the same partition as machine_section_attr
    attr = label_dirs([train], "machine_section_attr", fit_dirs=[train])[str(train)]
    groups = lambda lab: sorted(sorted(u for u in lab if lab[u] == c) for c in set(lab.values()))  # noqa: E731
    assert groups(attr) == groups(labels[str(train)]) and len(set(attr.values())) == 9
    assert set(make_labels(train, "machine").values()) == {"fan", "gearbox", "BrushlessMotor", "RoboticArm"}
    assert make_labels(train, "machine_section")["fan-s0"] == "fan_section_00"
    (train / "utt2attr").unlink()
    with pytest.raises(ValueError, match="utt2attr: missing, needed by scheme 'domain'"):
        make_labels(train, "domain")
    with pytest.raises(ValueError, match="unknown label scheme 'attrs'"):
        make_labels(train, "attrs")


# --------------------------------------------------------------------------- clustering
SR = 16000


def tone(freq, seed, seconds=0.5):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return 0.3 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6)) + 0.01 * rng.standard_normal(t.size)


def noise(seed, seconds=0.5):
    return 0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))


def audio_dir(path, clips):
    """``clips``: utt -> (machine, waveform)."""
    (path / "wav").mkdir(parents=True)
    for utt, (_, x) in clips.items():
        soundfile.write(str(path / "wav" / f"{utt}.wav"), x, SR, subtype="PCM_16")
    write_kv(path / "wav.scp", ((u, str(path / "wav" / f"{u}.wav")) for u in clips))
    write_kv(path / "utt2machine", ((u, m) for u, (m, _) in clips.items()))
    return path


@pytest.fixture
def sound_dirs(tmp_path):
    """fan: a 500 Hz tone group and a 3 kHz tone group; valve: white noise."""
    train = {f"fan-a{i}": ("fan", tone(500, i)) for i in range(5)}
    train |= {f"fan-b{i}": ("fan", tone(3000, 10 + i)) for i in range(5)}
    train |= {f"valve-n{i}": ("valve", noise(20 + i)) for i in range(3)}
    test = {"fan-x0": ("fan", tone(3000, 30)), "fan-x1": ("fan", tone(500, 31)),
            "valve-x0": ("valve", noise(32))}
    return audio_dir(tmp_path / "train", train), audio_dir(tmp_path / "test", test)


def test_log_mel_statistics(tmp_path):
    import torchaudio

    path = tmp_path / "a.wav"
    soundfile.write(str(path), tone(1000, 0, 1.0), SR, subtype="PCM_16")
    stats = log_mel_statistics(str(path), n_mels=32)
    assert stats.shape == (64,)
    fbank = torchaudio.functional.melscale_fbanks(513, 0.0, 8000.0, 32, SR).numpy()
    assert stats[:32].argmax() == fbank[round(1000 / 8000 * 512)].argmax()  # the band holding 1 kHz
    assert stats[32:][stats[:32].argmax()] < 1.0  # a steady tone: the loudest band hardly moves (dB)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_cluster_separates_and_assigns_with_train_model(sound_dirs, method):
    train, test = sound_dirs
    config = ClusterConfig(num_clusters=2, method=method, seed=0, n_mels=32)
    labels = label_dirs([train, test], "cluster", fit_dirs=[train], cluster=config)
    tr, te = labels[str(train)], labels[str(test)]
    # clusters numbered by first occurrence among the sorted training utterances
    assert {tr[f"fan-a{i}"] for i in range(5)} == {"fan_cluster00"}
    assert {tr[f"fan-b{i}"] for i in range(5)} == {"fan_cluster01"}
    assert {tr[f"valve-n{i}"] for i in range(3)} == {"valve_cluster00", "valve_cluster01"}
    assert te["fan-x0"] == "fan_cluster01" and te["fan-x1"] == "fan_cluster00"
    assert read_kv(test / "utt2class") == te
    again = label_dirs([test], "cluster", fit_dirs=[train], cluster=config)[str(test)]
    assert again == te  # deterministic; the test set is assigned, never refitted


def test_cluster_cli_and_errors(sound_dirs, tmp_path):
    train, test = sound_dirs
    make_labels_bin.main(["--scheme", "cluster", "--fit_dir", str(train), "--num_clusters", "20",
                          "--cluster_method", "kmeans", "--verbose", "0", str(train), str(test)])
    classes = read_kv(train / "utt2class")
    # at most one cluster per training clip of a type: 10 for fan, 3 for valve
    assert len({c for u, c in classes.items() if u.startswith("fan")}) <= 10
    assert {c for u, c in classes.items() if u.startswith("valve")} == {
        "valve_cluster00", "valve_cluster01", "valve_cluster02"}
    with pytest.raises(ValueError, match="pass --fit_dir data/train"):
        label_dirs([test], "cluster")
    other = audio_dir(tmp_path / "other", {"pump-0": ("pump", noise(1))})
    with pytest.raises(ValueError, match=r"machine type\(s\) \['pump'\] have no clips in the fit dir"):
        label_dirs([other], "cluster", fit_dirs=[train])
    with pytest.raises(ValueError, match="--num_clusters must be at least 1"):
        label_dirs([test], "cluster", fit_dirs=[train], cluster=ClusterConfig(num_clusters=0))
    assert not (other / "utt2class").exists()
