"""Synthetic DCASE 2024 corpus: official names and irregularities, attributes_00.csv, the CRLF
eval list, determinism, resumability, real domain shift, detectable anomalies."""
import collections
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asd_lib.bin import make_synthetic
from asd_lib.corpus import get_corpus
from asd_lib.corpus import sounds as synthetic
from asd_lib.corpus.dcase2024 import layout as dcase2024
from asd_lib.corpus.dcase2024 import synthetic as synthetic2024
from asd_lib.corpus.dcase2024.synthetic import TYPE_MODELS, Dcase2024Sizes
from asd_lib.corpus.section_synthetic import ClipSpec, synthesize, write_clip

MACHINES = ("fan", "gearbox", "ToyCar", "3DPrinter", "AirCompressor", "RoboticArm", "BrushlessMotor")
SMALL = ["--duration", "0.5", "--source_train", "6", "--target_train", "2",
         "--test_per_condition", "3"]
write_2024 = get_corpus("dcase2024").synthetic.write


def generate(out, seed=0, machines=",".join(MACHINES), extra=SMALL, nj=2):
    make_synthetic.main(["--layout", "dcase2024", "--out", str(out), "--seed", str(seed),
                         "--machines", machines, "--nj", str(nj), "--verbose", "0", *extra])
    return Path(out)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("syn24") / "corpus")


def names(corpus, machine, folder):
    top = "dev_data" if machine in dcase2024.DEV_TYPES else "eval_data"
    return sorted(p.name for p in (corpus / top / machine / folder).iterdir())


def test_layout_and_names_are_official(corpus):
    assert sorted(p.name for p in corpus.iterdir()) == sorted(
        [synthetic.MARKER, "dev_data", "eval_data", "eval_data_list_2024.csv", "ground_truth"])
    assert sorted(p.name for p in (corpus / "dev_data").iterdir()) == ["ToyCar", "fan", "gearbox"]
    for m in MACHINES:
        top = corpus / ("dev_data" if m in dcase2024.DEV_TYPES else "eval_data") / m
        assert sorted(p.name for p in top.iterdir()) == ["attributes_00.csv", "test", "train"]
        counts = collections.Counter()
        for name in names(corpus, m, "train"):
            clip = dcase2024.LAYOUT.parse_clip_name(name)
            assert clip and clip.split == "train" and clip.label == "normal", name
            counts[clip.domain] += 1
            hidden = m in ("gearbox", "AirCompressor", "BrushlessMotor")
            assert (clip.attr == "noAttribute") == hidden, name
        assert counts == {"source": 6, "target": 2}
        test = names(corpus, m, "test")
        if m in dcase2024.DEV_TYPES:
            quadrants = collections.Counter(
                (c.domain, c.label) for c in map(dcase2024.LAYOUT.parse_clip_name, test) if c.split == "test")
            assert quadrants == {(d, lab): 3 for d in ("source", "target") for lab in ("normal", "anomaly")}
        else:  # eval test: short names, numbered from 0000 or 0001 by type
            start = TYPE_MODELS[m].eval_start
            assert test == [f"section_00_{i:04d}.wav" for i in range(start, start + 12)]

    # index starts 0000 / 0001, target after source, joined attribute tokens
    assert names(corpus, "fan", "train")[:3] == [
        "section_00_source_train_normal_0000_m-n_W.wav", "section_00_source_train_normal_0001_m-n_X.wav",
        "section_00_source_train_normal_0002_m-n_W.wav"]
    assert names(corpus, "ToyCar", "train")[0] == "section_00_source_train_normal_0001_car_A1_spd_28V_mic_1.wav"
    assert names(corpus, "gearbox", "test")[0] == "section_00_source_test_anomaly_0000_noAttribute.wav"
    assert names(corpus, "RoboticArm", "train")[-2:] == [
        "section_00_target_train_normal_0006_weight30_BckgB.wav",
        "section_00_target_train_normal_0007_weight30_BckgE.wav"]
    assert names(corpus, "3DPrinter", "test")[0] == "section_00_0001.wav"

    for rel, seconds in (("dev_data/fan/train/section_00_source_train_normal_0005_m-n_X.wav", 0.5),
                         ("dev_data/ToyCar/test/section_00_target_test_normal_0003_car_B1_spd_31V_mic_2.wav", 0.6),
                         ("eval_data/RoboticArm/test/section_00_0011.wav", 0.5)):
        info = soundfile.info(str(corpus / rel))
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (
            16000, 1, "PCM_16", int(round(seconds * 16000)))


def test_attributes_csv(corpus):
    fan = (corpus / "dev_data/fan/attributes_00.csv").read_text().splitlines()
    assert fan[0] == "file_name,d1p,d1v"
    assert fan[1] == "fan/train/section_00_source_train_normal_0000_m-n_W.wav,m-n,W"
    assert "fan/test/section_00_target_test_anomaly_0001_m-n_Z.wav,m-n,Z" in fan
    assert len(fan) == 1 + 8 + 12  # dev types list train and test files
    arm = (corpus / "eval_data/RoboticArm/attributes_00.csv").read_text().splitlines()
    assert arm[0] == "file_name,d1p,d1v,d2p,d2v" and len(arm) == 1 + 8  # eval: train files only
    assert arm[1] == "RoboticArm/train/section_00_source_train_normal_0000_weight00_BckgA.wav,weight,00,Bckg,A"
    gearbox = (corpus / "dev_data/gearbox/attributes_00.csv").read_text().splitlines()
    assert gearbox[1] == "gearbox/train/section_00_source_train_normal_0000_noAttribute.wav,noAttribute,"
    for m in MACHINES:
        top = "dev_data" if m in dcase2024.DEV_TYPES else "eval_data"
        listed = {row.split(",")[0] for row in
                  (corpus / top / m / "attributes_00.csv").read_text().splitlines()[1:]}
        on_disk = {f"{m}/{p.parent.name}/{p.name}" for p in (corpus / top / m).glob("*/*.wav")
                   if dcase2024.LAYOUT.parse_clip_name(p.name)}
        assert listed == on_disk


def test_eval_list_matches_files(corpus, tmp_path):
    raw = (corpus / "eval_data_list_2024.csv").read_bytes()
    assert raw.startswith(b"3DPrinter\r\nsection_00_0001.wav,section_00_") and raw.count(b"\r\n") == 4 * 13
    assert b"\n" not in raw.replace(b"\r\n", b"")
    rows = dcase2024.LAYOUT.read_eval_list(corpus / "eval_data_list_2024.csv")
    assert [r.machine for r in rows[::12]] == ["3DPrinter", "AirCompressor", "RoboticArm", "BrushlessMotor"]
    assert {(r.machine, r.eval_name) for r in rows} == {
        (p.parts[-3], p.name) for p in corpus.glob("eval_data/*/test/*.wav")}
    quadrants = collections.Counter((r.machine, r.clip.domain, r.clip.label) for r in rows)
    assert set(quadrants.values()) == {3} and len(quadrants) == 16
    arm = [r.full_name for r in rows if r.machine == "RoboticArm"]
    assert all(re.fullmatch(r"section_00_(source|target)_(normal|anomaly)_\d{4}_weight\d\d_Bckg[A-Z]\.wav", n)
               for n in arm)  # RoboticArm: no "test" token, joined attribute tokens
    assert {r.clip.index for r in rows if r.machine == "RoboticArm" and r.clip.domain == "target"} == {3, 4, 5}
    motor = [r.clip.attr for r in rows if r.machine == "BrushlessMotor"]
    assert all(re.fullmatch(r"spd\d{4}_Bckg[A-Z]", a) for a in motor)  # hidden in train only
    assert {r.clip.attr for r in rows if r.machine == "AirCompressor"} == {"noAttribute"}
    # the audio of an eval file is exactly the clip generated under its full name
    for row in (rows[0], rows[-1]):
        c = row.clip
        model = TYPE_MODELS[row.machine]
        values = next(v for v in model.combinations(c.domain) if model.suffix(v) == c.attr)
        spec = ClipSpec(str(tmp_path / "x.wav"), row.machine, model, "test", c.domain, c.label,
                        c.index, values, 0.5, 0)
        write_clip(spec)
        assert (tmp_path / "x.wav").read_bytes() == (
            corpus / "eval_data" / row.machine / "test" / row.eval_name).read_bytes()


TINY = ["--duration", "0.25", "--source_train", "4", "--target_train", "2",
        "--test_per_condition", "1"]


def tree_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_deterministic_seed_dependent_and_resumable(tmp_path):
    a = tree_bytes(generate(tmp_path / "a", 3, "valve,RoboticArm", TINY, nj=1))
    b = tree_bytes(generate(tmp_path / "b", 3, "valve,RoboticArm", TINY, nj=2))
    c = tree_bytes(generate(tmp_path / "c", 4, "valve,RoboticArm", TINY, nj=2))
    assert a == b
    wavs = [k for k in a if k.endswith(".wav")]
    assert len(wavs) == 2 * (6 + 4) and all(a[k] != c[k] for k in wavs if k in c)

    sizes = Dcase2024Sizes(0.25, 4, 2, 1)
    out = tmp_path / "a"
    assert write_2024(out, 3, sizes, ("valve", "RoboticArm")) == 0  # complete: skipped
    with pytest.raises(ValueError, match="made with other arguments"):
        write_2024(out, 4, sizes, ("valve", "RoboticArm"))
    # an interrupted run (marker not complete) is redone to the same bytes
    marker = out / synthetic.MARKER
    marker.write_text(marker.read_text().replace('"complete": true', '"complete": false'))
    (out / "dev_data/valve/train/section_00_source_train_normal_0000_v1pat_00_v2pat_00.wav").unlink()
    assert write_2024(out, 3, sizes, ("valve", "RoboticArm")) == 20
    assert tree_bytes(out) == a


def test_options_and_errors(tmp_path):
    assert synthetic2024.OFFICIAL_SIZES == Dcase2024Sizes(10.0, 990, 10, 50)
    with pytest.raises(ValueError, match="--source_train 5 is too small for bearing"):
        generate(tmp_path / "a", 0, "bearing", ["--source_train", "5"])
    with pytest.raises(ValueError, match="--target_train 1 is too small for RoboticArm"):
        generate(tmp_path / "b", 0, "RoboticArm", ["--target_train", "1"])
    with pytest.raises(ValueError, match="unknown DCASE 2024 machine type"):
        generate(tmp_path / "c", 0, "fan,pump", TINY)
    with pytest.raises(SystemExit):  # the DCASE 2020 layout has no official sizes option
        make_synthetic.main(["--layout", "dcase2020", "--out", str(tmp_path / "d"),
                             "--official_sizes", "true"])
    with pytest.raises(ValueError, match="sizes must be positive"):
        write_2024(tmp_path / "e", 0, Dcase2024Sizes(test_per_condition=0))
    # every type has target values that the source domain never uses
    for m, model in TYPE_MODELS.items():
        assert any(set(a.target) - set(a.source) for a in model.attributes), m
        assert m in dcase2024.MACHINE_TYPES and model.family in synthetic.MACHINE_MODELS


# --------------------------------------------------------------------------- sound
def log_mel_stats(x):
    """Per-band mean and std of a 64-band log-mel spectrogram (1024-point frames, hop 512)."""
    import torchaudio

    fbank = torchaudio.functional.melscale_fbanks(513, 0.0, 8000.0, 64, 16000).numpy()
    frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512] * np.hanning(1024)
    log_mel = np.log(np.abs(np.fft.rfft(frames)) ** 2 @ fbank + 1e-6)
    return np.concatenate([log_mel.mean(0), log_mel.std(0)])


def test_domain_shift_is_real():
    """Clips of the source and the target domain of every type (hidden attributes included)
    are told apart by a leave-one-out 1-nearest-neighbour classifier on log-mel statistics."""
    accuracies = {}
    for m, model in TYPE_MODELS.items():
        feats, is_target = [], []
        for domain in ("source", "target"):
            combos = model.combinations(domain)
            for k in range(8):
                spec = ClipSpec("", m, model, "train", domain, "normal", k, combos[k % len(combos)],
                                1.0, 0)
                feats.append(log_mel_stats(synthesize(spec)))
                is_target.append(domain == "target")
        z = np.array(feats)
        z = (z - z.mean(0)) / (z.std(0) + 1e-6)
        dist = ((z[:, None] - z[None]) ** 2).sum(-1)
        np.fill_diagonal(dist, np.inf)
        labels = np.array(is_target)
        accuracies[m] = float((labels[dist.argmin(1)] == labels).mean())
    print("domain 1-NN accuracy:", accuracies)
    assert min(accuracies.values()) >= 0.625 and np.mean(list(accuracies.values())) > 0.85


def test_anomalies_detectable_not_trivial(corpus):
    """Per type, anomaly score = distance to the nearest training clip (log-mel statistics
    z-scored on the training clips); the AUC over all types lies between chance and 1."""
    from sklearn.metrics import roc_auc_score

    rows = {(r.machine, r.eval_name): r.full_name
            for r in dcase2024.LAYOUT.read_eval_list(corpus / "eval_data_list_2024.csv")}
    aucs = {}
    for m in MACHINES:
        top = corpus / ("dev_data" if m in dcase2024.DEV_TYPES else "eval_data") / m
        train = np.array([log_mel_stats(soundfile.read(str(p))[0]) for p in sorted(top.glob("train/*.wav"))])
        test = sorted(top.glob("test/*.wav"))
        full = [rows.get((m, p.name), p.name) for p in test]
        mu, sd = train.mean(0), train.std(0) + 1e-6
        z_train = (train - mu) / sd
        z_test = (np.array([log_mel_stats(soundfile.read(str(p))[0]) for p in test]) - mu) / sd
        score = np.sqrt(((z_test[:, None] - z_train[None]) ** 2).mean(-1)).min(1)
        aucs[m] = roc_auc_score(["anomaly" in n for n in full], score)
    print("1-NN anomaly AUC per type:", aucs)
    assert 0.65 < np.mean(list(aucs.values())) < 0.99
