"""Synthetic DCASE 2020 corpus: exact layout, eval list, determinism, learnable anomalies."""
import collections
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asd_lib.bin import make_synthetic
from asd_lib.corpus import sounds as synthetic
from asd_lib.corpus.dcase2020 import layout as dcase2020
from asd_lib.corpus.dcase2020 import synthetic as synthetic2020

SMALL = ["--duration", "1.0", "--train_per_id", "16", "--test_normal_per_id", "10",
         "--test_anomaly_per_id", "10", "--eval_test_per_id", "6"]
SMALL_MACHINES = ("ToyCar", "fan", "valve")
NAME = {
    ("dev_data", "train"): dcase2020.TRAIN_NAME, ("dev_data", "test"): dcase2020.DEV_TEST_NAME,
    ("eval_data", "train"): dcase2020.TRAIN_NAME, ("eval_data", "test"): dcase2020.EVAL_TEST_NAME,
}


def generate(out, seed=0, machines="ToyCar,fan,valve", extra=SMALL, nj=2):
    make_synthetic.main(["--layout", "dcase2020", "--out", str(out), "--seed", str(seed),
                         "--machines", machines, "--nj", str(nj), "--verbose", "0", *extra])
    return Path(out)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("syn") / "corpus")


def test_layout_is_official(corpus):
    counts = collections.Counter()
    for path in corpus.rglob("*"):
        rel = path.relative_to(corpus)
        if path.is_dir() or rel.parts[0] in (synthetic.MARKER, "eval_data_list.csv"):
            continue
        top, machine, folder, name = rel.parts
        match = NAME[(top, folder)].fullmatch(name)
        assert match, rel
        ids = dcase2020.DEV_IDS if top == "dev_data" else dcase2020.EVAL_IDS
        assert match["id"] in ids[machine], rel
        counts[top, machine, folder, match["id"], match.groupdict().get("label")] += 1
    assert sorted(p.name for p in corpus.iterdir()) == sorted(
        [synthetic.MARKER, "dev_data", "eval_data", "eval_data_list.csv"])
    assert sorted(p.name for p in (corpus / "dev_data").iterdir()) == sorted(SMALL_MACHINES)
    expected = collections.Counter()
    for m in SMALL_MACHINES:
        for i in dcase2020.DEV_IDS[m]:
            expected["dev_data", m, "train", i, None] = 16
            expected["dev_data", m, "test", i, "normal"] = 10
            expected["dev_data", m, "test", i, "anomaly"] = 10
        for i in dcase2020.EVAL_IDS[m]:
            expected["eval_data", m, "train", i, None] = 16
            expected["eval_data", m, "test", i, None] = 6
    assert counts == expected

    for rel, seconds in (("dev_data/fan/train/normal_id_06_00000015.wav", 1.0),
                         ("eval_data/ToyCar/test/id_07_00000005.wav", 1.1)):
        info = soundfile.info(str(corpus / rel))
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (
            16000, 1, "PCM_16", int(round(seconds * 16000)))


def test_eval_list_matches_files(corpus, tmp_path):
    text = (corpus / "eval_data_list.csv").read_text()
    assert text.startswith("ToyCar\nid_05_00000000.wav,")
    assert re.fullmatch(r"(ToyCar|fan|valve|id_\d\d_\d{8}\.wav,(normal|anomaly)_id_\d\d_\d{8}\.wav,[01])",
                        text.splitlines()[1 + 3 * 6])  # the "fan" header row
    rows = dcase2020.read_eval_list(corpus / "eval_data_list.csv")
    assert [r.machine for r in rows] == ["ToyCar"] * 18 + ["fan"] * 18 + ["valve"] * 18
    listed = {(r.machine, r.eval_name) for r in rows}
    on_disk = {(p.parts[-3], p.name) for p in corpus.glob("eval_data/*/test/*.wav")}
    assert listed == on_disk
    per_id = collections.Counter((r.machine, r.eval_name[:5], r.label) for r in rows)
    assert set(per_id.values()) == {3} and len(per_id) == 2 * 9  # 3 normal + 3 anomaly per ID
    originals = [(r.machine, r.original_name) for r in rows]
    assert len(set(originals)) == len(originals)
    # the audio of an eval clip is exactly the clip generated under its original name
    for row in (rows[0], rows[-1]):
        label, mid, index = dcase2020.DEV_TEST_NAME.fullmatch(row.original_name).groups()
        spec = synthetic.ClipSpec(str(tmp_path / "x.wav"), row.machine, mid, f"eval_test_{label}",
                                  int(index), label == "anomaly", dcase2020.clip_seconds(row.machine, 1.0), 0)
        synthetic.write_clip(spec)
        assert (tmp_path / "x.wav").read_bytes() == (
            corpus / "eval_data" / row.machine / "test" / row.eval_name).read_bytes()


TINY = ["--duration", "0.25", "--train_per_id", "2", "--test_normal_per_id", "1",
        "--test_anomaly_per_id", "2", "--eval_test_per_id", "4"]


def tree_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_deterministic_and_seed_dependent(tmp_path):
    a = tree_bytes(generate(tmp_path / "a", 3, "ToyConveyor,pump,slider", TINY, nj=1))
    b = tree_bytes(generate(tmp_path / "b", 3, "ToyConveyor,pump,slider", TINY, nj=2))
    c = tree_bytes(generate(tmp_path / "c", 4, "ToyConveyor,pump,slider", TINY, nj=2))
    assert a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a if k.endswith(".wav"))


def test_rerun_skips_and_conflicts(tmp_path):
    out = generate(tmp_path / "a", 0, "fan", TINY)
    before = tree_bytes(out)
    sizes = synthetic2020.Dcase2020Sizes(0.25, 2, 1, 2, 4)
    assert synthetic2020.write_dcase2020(out, 0, sizes, ("fan",)) == 0
    assert tree_bytes(out) == before
    with pytest.raises(ValueError, match="made with other arguments"):
        synthetic2020.write_dcase2020(out, 1, sizes, ("fan",))
    (tmp_path / "other").mkdir()
    (tmp_path / "other/file.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty and was not written by make_synthetic"):
        synthetic2020.write_dcase2020(tmp_path / "other", 0, sizes, ("fan",))
    with pytest.raises(ValueError, match="unknown DCASE 2020 machine type"):
        generate(tmp_path / "b", 0, "fan,drill", TINY)
    with pytest.raises(ValueError, match="LO,HI"):
        synthetic.parse_severity("0.5")
    with pytest.raises(SystemExit):  # argparse error, exit status 2
        generate(tmp_path / "d", 0, "fan", ["--anomaly_severity", "0.5"])
    with pytest.raises(ValueError, match="sizes must be positive"):
        synthetic2020.write_dcase2020(tmp_path / "c", 0, synthetic2020.Dcase2020Sizes(train_per_id=0))


def test_every_fault_renders(tmp_path):
    rng = np.random.default_rng(0)
    for machine, model in synthetic.MACHINE_MODELS.items():
        q = synthetic.jitter_params(synthetic.id_params(0, machine, "01"), rng)
        normal = synthetic.render_machine(q, 32000, np.random.default_rng(1))
        for fault in q["faults"]:
            x = synthetic.render_machine(synthetic.apply_fault(q, fault, 1.0, rng), 32000,
                                         np.random.default_rng(1))
            assert x.shape == (32000,) and np.all(np.isfinite(x))
            assert not np.allclose(x, normal), (machine, fault)


# --------------------------------------------------------------------------- learnability
@pytest.fixture(scope="module")
def features(corpus):
    """Per-clip mean and standard deviation over time of a 64-band log-mel spectrogram
    (1024-point Hann frames, hop 512), for every wav of the corpus."""
    import torchaudio

    fbank = torchaudio.functional.melscale_fbanks(513, 0.0, 8000.0, 64, 16000).numpy()
    window = np.hanning(1024)
    table = {}
    for path in corpus.rglob("*.wav"):
        x, _ = soundfile.read(str(path))
        frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512] * window
        log_mel = np.log(np.abs(np.fft.rfft(frames)) ** 2 @ fbank + 1e-6)
        table[path] = np.concatenate([log_mel.mean(0), log_mel.std(0)])
    return lambda paths: np.stack([table[p] for p in paths])


def proxy_auc(corpus, features):
    """ID-classifier proxy detector: logistic regression over the machine IDs of all train
    clips (dev + additional), anomaly score = -log p(true ID); AUC per dev-test ID."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    def label(p):
        return f"{p.parts[-3]}_{dcase2020.DEV_TEST_NAME.fullmatch(p.name)['id']}"

    train = sorted(corpus.glob("*_data/*/train/*.wav"))
    test = sorted(corpus.glob("dev_data/*/test/*.wav"))
    scaler = StandardScaler().fit(features(train))
    clf = LogisticRegression(max_iter=2000).fit(scaler.transform(features(train)),
                                                [label(p) for p in train])
    log_p = clf.predict_log_proba(scaler.transform(features(test)))
    column = {c: i for i, c in enumerate(clf.classes_)}
    ids = np.array([label(p) for p in test])
    score = -log_p[np.arange(len(test)), [column[i] for i in ids]]
    is_anomaly = np.array([p.name.startswith("anomaly") for p in test])
    return {i: roc_auc_score(is_anomaly[ids == i], score[ids == i]) for i in sorted(set(ids))}


def test_anomalies_learnable_not_trivial(corpus, features):
    aucs = proxy_auc(corpus, features)
    print("proxy AUC per ID:", {k: round(v, 3) for k, v in aucs.items()},
          "mean", round(float(np.mean(list(aucs.values()))), 3))
    assert len(aucs) == 12
    assert 0.6 < np.mean(list(aucs.values())) < 0.995


def test_anomaly_differs_from_normal(corpus, features):
    """Anomalous clips lie farther from their ID's normal training centroid (log-mel
    statistics, z-scored per ID) than normal test clips: one-sided Mann-Whitney U."""
    from scipy.stats import mannwhitneyu

    far = {"normal": [], "anomaly": []}
    for m in SMALL_MACHINES:
        for i in dcase2020.DEV_IDS[m]:
            ref = features(sorted(corpus.glob(f"dev_data/{m}/train/normal_id_{i}_*.wav")))
            mu, sd = ref.mean(0), ref.std(0) + 1e-6
            for kind in far:
                test = features(sorted(corpus.glob(f"dev_data/{m}/test/{kind}_id_{i}_*.wav")))
                far[kind] += list(np.sqrt((((test - mu) / sd) ** 2).mean(1)))
    assert np.median(far["anomaly"]) > np.median(far["normal"])
    assert mannwhitneyu(far["anomaly"], far["normal"], alternative="greater").pvalue < 1e-3
