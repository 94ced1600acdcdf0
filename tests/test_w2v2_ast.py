"""wav2vec 2.0 + AST system of Kim et al. (DCASE 2024): pooling, inputs, backbones, speed
perturbation, training with tiny random backbones, and embedding fusion scored officially."""
import csv
import json
import math
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
import torchaudio
import transformers
import yaml

from asd_lib.augment import AUGMENTS
from asd_lib.augment.speed_perturb import change_speed, fit_length, time_stretch
from asd_lib.backends.kmeans import KMeansMemoryBank
from asd_lib.bin import ensemble, score
from asd_lib.data.dataset import DumpedSet
from asd_lib.data.step import Mix, Step
from asd_lib.ensemble import fuse_embeddings as fuse
from asd_lib.experiment import LABEL_FILES, TrainingLabels, write_model_info
from asd_lib.inference.outputs import read_embeddings, write_embeddings
from asd_lib.losses import OBJECTIVES
from asd_lib.models import MODELS
from asd_lib.models.pooling import AttentiveStatsPooling, weighted_mean_std
from asd_lib.models.w2v2_ast import (
    AstInput,
    FusionCNN,
    KaldiFbank,
    load_backbone,
    zero_mean_unit_variance,
)
from asd_lib.train.stages import parse_stages
from asd_lib.utils.fileio import read_kv, write_kv
from inference_helpers import run_stage4
from train_helpers import train_config, train_with

SR = 16000
TUNING = Path(__file__).resolve().parents[1] / "egs" / "dcase24" / "asd1" / "conf" / "tuning"
DEBUG = TUNING / "train_w2v2_ast.debug.yaml"
RANDOM_INIT = yaml.safe_load(DEBUG.read_text())["model_conf"]["random_init"]


def debug_conf(**changes) -> dict:
    conf = yaml.safe_load(DEBUG.read_text())["model_conf"]
    conf.update(changes)
    return conf


# --------------------------------------------------------------------------- pooling
def test_weighted_mean_std_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3))
    w = rng.random((2, 5))
    w /= w.sum(1, keepdims=True)
    mean = np.einsum("bt,btd->bd", w, x)
    std = np.sqrt(np.einsum("bt,btd->bd", w, (x - mean[:, None]) ** 2))
    got = weighted_mean_std(torch.tensor(x), torch.tensor(w))
    assert got.shape == (2, 6)
    assert np.allclose(got.numpy(), np.concatenate([mean, std], 1), atol=1e-12)
    # Uniform weights: the ordinary mean and population standard deviation.
    uniform = torch.full((2, 5), 0.2, dtype=torch.float64)
    got = weighted_mean_std(torch.tensor(x), uniform).numpy()
    assert np.allclose(got, np.concatenate([x.mean(1), x.std(1)], 1), atol=1e-12)


def test_attentive_stats_pooling_weights_by_hand():
    pool = AttentiveStatsPooling(2, attention_dim=1).double()
    with torch.no_grad():
        pool.attention[0].weight.copy_(torch.tensor([[1.0, -1.0]]))
        pool.attention[0].bias.fill_(0.5)
        pool.attention[2].weight.fill_(2.0)
        pool.attention[2].bias.fill_(-1.0)
    h = np.array([[[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]])
    e = 2.0 * np.tanh(h[0] @ np.array([1.0, -1.0]) + 0.5) - 1.0  # Eq. 7
    alpha = np.exp(e) / np.exp(e).sum()  # Eq. 8
    mu = alpha @ h[0]
    sigma = np.sqrt(alpha @ (h[0] ** 2) - mu ** 2)
    x = torch.tensor(h)
    assert np.allclose(pool.weights(x).detach().numpy()[0], alpha, atol=1e-12)
    assert np.allclose(pool(x).detach().numpy()[0], np.concatenate([mu, sigma]), atol=1e-12)
    assert sum(p.numel() for p in pool.parameters()) == (2 + 1) + (1 + 1)


# --------------------------------------------------------------------------- inputs
def test_batched_fbank_equals_torchaudio_kaldi_and_ast_feature_extractor():
    torch.manual_seed(0)
    wave = 0.1 * torch.randn(3, 4000)
    fbank = KaldiFbank()(wave)
    assert fbank.shape == (3, 1 + (4000 - 400) // 160, 128)
    for i in range(3):
        ref = torchaudio.compliance.kaldi.fbank(wave[i:i + 1], sample_frequency=SR,
                                                window_type="hanning", num_mel_bins=128)
        assert torch.allclose(fbank[i], ref, atol=1e-4)
    extractor = transformers.ASTFeatureExtractor(num_mel_bins=128, max_length=30)
    ref = extractor([w.numpy() for w in wave], sampling_rate=SR,
                    return_tensors="pt")["input_values"]
    assert torch.allclose(AstInput(30, 128)(wave), ref, atol=1e-4)  # cut to 30 frames
    padded = AstInput(40, 128)(wave)  # 23 frames, zero-padded before normalising
    assert torch.allclose(padded[:, 23:], torch.full((3, 17, 128), 4.2677393 / (2 * 4.5689974)))


def test_wav2vec2_input_normalisation_equals_feature_extractor():
    wave = torch.linspace(-0.3, 0.5, 1000).view(1, -1) ** 3
    ref = transformers.Wav2Vec2FeatureExtractor(do_normalize=True)(
        wave[0].numpy(), sampling_rate=SR, return_tensors="pt")["input_values"]
    assert torch.allclose(zero_mean_unit_variance(wave), ref, atol=1e-5)


# --------------------------------------------------------------------------- model
def test_fusion_shapes_and_parameter_count():
    fusion = FusionCNN(32, 32, channels=(4, 8), kernel_size=3, pooled_length=8)
    assert sum(p.numel() for p in fusion.parameters()) == \
        (3 * 4 * 3 + 4 + 8) + (4 * 8 * 3 + 8 + 16) + (8 * 8 * 32 + 32 + 64)
    with pytest.raises(ValueError, match=r"\[B, 3, 32\]"):
        fusion(torch.randn(2, 96))
    model = MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR, **debug_conf()).eval()
    wave = (0.1 * torch.randn(2, SR) * 32767).to(torch.int16)
    pooled, token = model.branches(wave.float() / 32768)
    assert pooled.shape == (2, 64) and token.shape == (2, 32)  # [mean; std] of 32, CLS 32
    # Kim et al., Sec. 3.3: the pooled (B, 2, H) and the CLS token (B, 1, H) are stacked
    # along the second dimension, and the CNN runs over that (B, 3, H).
    seen = []
    hook = model.fusion.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    embedding = model(wave)
    hook.remove()
    assert seen[0].shape == (2, 3, 32)
    assert torch.allclose(seen[0][:, 0], pooled[:, :32])  # weighted mean
    assert torch.allclose(seen[0][:, 1], pooled[:, 32:])  # weighted standard deviation
    assert torch.allclose(seen[0][:, 2], token)
    assert model.fusion.conv[0].in_channels == 3
    assert embedding.shape == (2, 32) and model.embedding_dim == 32
    assert model(wave.float() / 32768).allclose(embedding)
    swap = Mix(lam=torch.tensor(0.0), perm=torch.tensor([1, 0]))  # all partner, no self
    assert model(wave, mix=swap).allclose(embedding[[1, 0]], atol=1e-6)
    model.ast_token = "cls_distill"  # ASTModel's pooler_output: mean of CLS and distillation
    _, token = model.branches(wave.float() / 32768)
    fbank = model.ast_input(wave.float() / 32768)
    assert token.allclose(model.ast(input_values=fbank).pooler_output)


def test_train_modes_freeze_the_right_parameters():
    model = MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR, **debug_conf())
    for name, p in model.named_parameters():  # debug config: wav2vec 2.0's CNN encoder only
        assert p.requires_grad is not name.startswith("wav2vec2.feature_extractor."), name
    model = MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR,
                         **debug_conf(train_mode={"wav2vec2": "freeze",
                                                  "ast": "freeze_feature_encoder"}))
    for name, p in model.named_parameters():
        expected = name.startswith(("wav2vec2.", "ast.embeddings."))
        assert p.requires_grad is not expected, name
    model.train()
    assert not model.wav2vec2.training and model.ast.training and model.fusion.training
    with pytest.raises(ValueError, match="train_mode.ast must be one of"):
        MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR,
                     **debug_conf(train_mode={"ast": "partial"}))


def test_pretrained_dir_round_trips_weights(tmp_path):
    saved = {}
    for kind in ("wav2vec2", "ast"):
        backbone = load_backbone(kind, random_init=RANDOM_INIT[kind])
        backbone.save_pretrained(tmp_path / kind)
        saved[kind] = backbone.state_dict()
    conf = debug_conf(random_init=None, pretrained_dir={k: str(tmp_path / k) for k in saved})
    model = MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR, **conf)
    for kind, state in saved.items():
        loaded = getattr(model, kind).state_dict()
        assert loaded.keys() == state.keys()
        assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_missing_pretrained_dir_says_how_to_get_the_weights(tmp_path):
    missing = tmp_path / "pretrained" / "wav2vec2-base"
    conf = debug_conf(random_init={"ast": RANDOM_INIT["ast"]},
                      pretrained_dir={"wav2vec2": str(missing)})
    with pytest.raises(FileNotFoundError) as err:
        MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR, **conf)
    assert str(missing) in str(err.value)
    assert f"hf download facebook/wav2vec2-base --local-dir {missing}" in str(err.value)
    with pytest.raises(ValueError, match="no source for the wav2vec2 backbone"):
        MODELS.build("w2v2_ast", num_samples=SR, sample_rate=SR,
                     **debug_conf(random_init={"ast": RANDOM_INIT["ast"]}))


def test_published_config_builds_from_local_directories(tmp_path):
    for kind in ("wav2vec2", "ast"):
        load_backbone(kind, random_init=RANDOM_INIT[kind]).save_pretrained(tmp_path / kind)
    config = train_config(TUNING / "train_w2v2_ast.yaml")
    assert config.model_conf["pretrained_dir"] == {
        "wav2vec2": "pretrained/wav2vec2-base",
        "ast": "pretrained/ast-finetuned-audioset-10-10-0.4593"}
    config.model_conf["pretrained_dir"] = {k: str(tmp_path / k) for k in ("wav2vec2", "ast")}
    model = MODELS.build(config.model, num_samples=12 * SR, sample_rate=SR,
                         **config.model_conf).eval()
    assert model(torch.zeros(1, 12 * SR)).shape == (1, 256)
    for stage in parse_stages(config.stages):
        for term in stage.losses:
            OBJECTIVES.build(term.name, **term.conf)
        assert [AUGMENTS.build(a["name"], **a["conf"]).factors for a in stage.augments] == \
            [[0.9, 1.0, 1.1]]


# --------------------------------------------------------------------------- speed perturbation
def peak_hz(x):
    """Frequency of the largest bin of the first 8000 samples' spectrum (2 Hz bins)."""
    return torch.fft.rfft(x[:8000]).abs().argmax().item() * SR / 8000


def test_time_stretch_keeps_a_sinusoids_frequency_and_amplitude():
    """Kim et al., Sec. 3.1: speed changed without changing the pitch."""
    t = torch.arange(SR) / SR
    for freq in (1000.0, 1234.0, 334.0):
        tone = torch.sin(2 * math.pi * freq * t).view(1, -1)
        for factor in (0.9, 1.1):
            stretched = time_stretch(tone, factor)
            # 2 frames of 256 dropped at each end, then 1 / factor as long
            assert stretched.shape[1] == pytest.approx((SR - 4 * 256) / factor, abs=512)
            assert peak_hz(stretched[0]) == pytest.approx(freq, abs=2)
            inner = stretched[0, 512:-512].abs()
            assert inner.max() == pytest.approx(1.0, abs=0.01)
            # the same number of cycles in less (more) time: the duration really changed
            assert peak_hz(change_speed(tone, factor)[0]) == pytest.approx(freq * factor, abs=2)
    assert torch.equal(time_stretch(tone, 1.0), tone)
    torch.manual_seed(0)
    wave = (tone * 16000).to(torch.int16).repeat(4, 1)
    step = AUGMENTS.build("speed_perturb", factors=[0.9])(Step(wave, torch.zeros(4)))
    assert step.wave.shape == wave.shape
    assert all(peak_hz(row) == pytest.approx(334.0, abs=2) for row in step.wave)
    step = AUGMENTS.build("speed_perturb", factors=[0.9], method="resample")(
        Step(wave, torch.zeros(4)))
    assert all(peak_hz(row) == pytest.approx(334.0 * 0.9, abs=2) for row in step.wave)
    with pytest.raises(ValueError, match="method must be one of"):
        AUGMENTS.build("speed_perturb", method="pitch_shift")


def test_speed_perturbation_by_resampling_shifts_pitch_and_keeps_length():
    t = torch.arange(SR) / SR
    tone = torch.sin(2 * math.pi * 1000 * t).view(1, -1)
    for factor in (0.9, 1.1):
        faster = change_speed(tone, factor)
        assert faster.shape[1] == math.ceil(SR / factor)
        assert peak_hz(faster[0]) == pytest.approx(1000 * factor, abs=2)
    x = torch.arange(10.0).view(1, -1)
    assert fit_length(x, 12).tolist() == [list(range(10)) + [0, 0]]
    torch.manual_seed(0)
    crop = fit_length(x.repeat(50, 1), 4)
    starts = crop[:, 0].long()
    assert torch.equal(crop, starts[:, None] + torch.arange(4.0))
    assert set(starts.tolist()) == set(range(7))  # every offset 0..6 drawn
    wave = (tone * 16000).to(torch.int16).repeat(6, 1)
    step = AUGMENTS.build("speed_perturb", factors=[1.0])(Step(wave, torch.zeros(6)))
    assert torch.equal(step.wave, wave.float() / 32768)
    torch.manual_seed(1)
    step = AUGMENTS.build("speed_perturb")(Step(wave, torch.zeros(6)))
    assert step.wave.shape == wave.shape and step.wave.dtype == torch.float32
    with pytest.raises(ValueError, match="positive"):
        AUGMENTS.build("speed_perturb", factors=[0.0])


# --------------------------------------------------------------------------- toy 2024 data
GROUPS = {"fan": [("source", "m-n_A"), ("source", "m-n_B"), ("target", "m-n_C")],
          "gearbox": [("source", "noAttribute"), ("target", "noAttribute")]}


def make_set(path, split="train", per_class=4, seed=0):
    """A 2024-style dumped dir of 1 s clips: a tone per class plus noise; test sets hold
    normal and anomalous (noise-only) clips of every class."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    t = np.arange(SR) / SR
    entries, rows = {}, {k: [] for k in ("wav.scp", "utt2class", "utt2machine", "utt2section",
                                         "utt2domain", "utt2attr", "utt2label")}
    c = 0
    for machine, classes in GROUPS.items():
        for domain, attr in classes:
            label = f"{machine}_section_00_{domain if attr == 'noAttribute' else attr}"
            for i in range(per_class):
                state = "anomaly" if split == "test" and i % 2 else "normal"
                name = f"section_00_{domain}_{split}_{state}_{c:02d}{i:02d}_{attr}.wav"
                utt = f"{machine}-{name[:-4]}"
                tone = 0.0 if state == "anomaly" else 0.3
                wave = tone * np.sin(2 * np.pi * (300 + 350 * c) * t) \
                    + 0.05 * rng.standard_normal(SR)
                entries[utt] = (wave * 32767).astype(np.int16)
                for key, value in (("wav.scp", f"/corpus/{machine}/{split}/{name}"),
                                   ("utt2class", label), ("utt2machine", machine),
                                   ("utt2section", "section_00"), ("utt2domain", domain),
                                   ("utt2attr", attr), ("utt2label", state)):
                    rows[key].append((utt, value))
            c += 1
    kaldiio.save_ark(str(path / "feats.ark"), entries, scp=str(path / "feats.scp"),
                     write_function="numpy")
    for name, table in rows.items():
        if name != "utt2label" or split == "test":
            write_kv(path / name, sorted(table))
    write_kv(path / "feats.scp", sorted(read_kv(path / "feats.scp").items()))
    (path / "sample_rate").write_text(f"{SR}\n")
    return path


def test_debug_config_trains_lowers_loss_and_embeds(tmp_path):
    dumped = make_set(tmp_path / "dump" / "train", per_class=8)
    config = yaml.safe_load(DEBUG.read_text())
    config["stages"][0]["epochs"] = 5
    (tmp_path / "conf.yaml").write_text(yaml.safe_dump(config))
    exp = tmp_path / "exp"
    train_with(tmp_path / "conf.yaml", train_dir=dumped, exp_dir=exp, seed=1, num_threads=1,
               verbose=0)
    with open(exp / "train_history.csv") as f:
        losses = [float(row["train_loss"]) for row in csv.DictReader(f)]
    assert len(losses) == 5
    assert losses[-1] < 0.7 * losses[0]
    out = run_stage4(exp, dumped, tmp_path / "infer", dataset="dcase2024") / "train"
    data = DumpedSet(dumped)
    embeddings = read_embeddings(out / "embeddings.scp", data.utts)
    assert embeddings.shape == (len(data.utts), 32) and np.isfinite(embeddings).all()
    assert len(read_kv(out / "utt2score")) == len(data.utts)


# --------------------------------------------------------------------------- fusion
def toy_embeddings(data: DumpedSet, seed: int) -> np.ndarray:
    """Normal clips near their class's direction, anomalies along a direction of their own."""
    rng = np.random.default_rng(seed)
    classes = sorted(set(data.column("utt2class")))
    labels = data.column("utt2label") if "utt2label" in data.tables else ["normal"] * len(data.utts)
    dim = len(classes) + 1
    rows = []
    for cls, label in zip(data.column("utt2class"), labels):
        base = np.eye(dim)[dim - 1 if label == "anomaly" else classes.index(cls)]
        rows.append(rng.uniform(1, 3) * (base + 0.05 * rng.standard_normal(dim)))
    return np.array(rows, dtype=np.float32)


def test_fuse_embeddings_writes_files_the_2024_scorer_reads(tmp_path):
    train_dir = make_set(tmp_path / "dump" / "train")
    test_dir = make_set(tmp_path / "dump" / "dev_test", split="test", seed=1)
    data = {"train": DumpedSet(train_dir), "dev_test": DumpedSet(test_dir)}
    systems = [tmp_path / "exp" / name / "kmeans_best" for name in ("A", "B")]
    for system in systems:  # what stage 3 leaves of the experiment
        system.mkdir(parents=True)
        write_model_info(system.parent, {"num_samples": SR, "classes": []})
        TrainingLabels({name: data["train"].tables[name] for name in LABEL_FILES
                        if name in data["train"].tables}).write(system.parent)
    decode = tmp_path / "per_class.yaml"
    decode.write_text("backend: kmeans_membank\nbackend_conf: {centres: per_class}\n")
    emb = {}
    for k, system in enumerate(systems):
        for name, d in data.items():
            (system / name).mkdir(parents=True)
            emb[k, name] = toy_embeddings(d, seed=10 * k + len(name))
            write_embeddings(system / name, d.utts, emb[k, name])
    out = tmp_path / "exp" / "ensemble_fused" / "combined"
    ensemble.main(["--level", "embedding", "--systems", *map(str, systems), "--weights",
                   "0.35,0.65", "--out_dir", str(out), "--sets", "dev_test eval_test",
                   "--data_root", str(tmp_path / "dump"), "--inference_config", str(decode),
                   "--dataset", "dcase2024", "--verbose", "0"])

    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    fused = {}
    for name, d in data.items():
        fused[name] = 0.35 * unit(emb[0, name].astype(np.float64)) + \
            0.65 * unit(emb[1, name].astype(np.float64))
        got = read_embeddings(out / name / "embeddings.scp", d.utts)
        assert np.allclose(got, fused[name], atol=1e-6)
    assert np.allclose(fuse([emb[0, "train"], emb[1, "train"]], np.array([0.7, 1.3])),
                       fused["train"], atol=1e-12)  # weights act through their ratio
    # Test scores: per machine, one centre per source class + every target clip.
    scores = read_kv(out / "dev_test" / "utt2score")
    test, train_set = data["dev_test"], data["train"]
    for machine in GROUPS:
        fit = [i for i, m in enumerate(train_set.column("utt2machine")) if m == machine]
        idx = [i for i, m in enumerate(test.column("utt2machine")) if m == machine]
        backend = KMeansMemoryBank(centres="per_class").fit(
            fused["train"][fit], [train_set.column("utt2domain")[i] for i in fit],
            [train_set.column("utt2class")[i] for i in fit])
        assert backend.centres.shape[0] == sum(d == "source" for d, _ in GROUPS[machine]) + \
            4 * sum(d == "target" for d, _ in GROUPS[machine])  # 4 target clips per class
        expected = backend.score(fused["dev_test"][idx])
        assert np.allclose([float(scores[test.utts[i]]) for i in idx], expected, atol=1e-6)
    assert not (out / "eval_test").exists()  # no data dir: skipped
    assert len(read_kv(out / "train" / "utt2score")) == len(train_set.utts)
    assert json.loads((out / "ensemble.json").read_text())["normalised_weights"] == \
        pytest.approx([0.35, 0.65])
    score.main(["--dataset", "dcase2024", "--data_dir", str(test_dir), "--score_dir",
                str(out / "dev_test"), "--verbose", "0"])
    result = json.loads((out / "dev_test" / "result.json").read_text())
    assert result["official_score"] == pytest.approx(1.0)  # anomalies lie off every class
    assert set(result["machine_types"]) == set(GROUPS)


def test_fuse_rejects_bad_weights_and_missing_embeddings(tmp_path):
    train_dir = make_set(tmp_path / "dump" / "train")
    system = tmp_path / "exp" / "a" / "kmeans_best"
    system.mkdir(parents=True)
    TrainingLabels({name: DumpedSet(train_dir).tables[name] for name in LABEL_FILES}).write(
        system.parent)
    write_model_info(system.parent, {"num_samples": 16000, "sample_rate": 16000})
    with pytest.raises(ValueError, match="1 weights for 2 systems"):
        ensemble.main(["--level", "embedding", "--systems", str(system), "b", "--weights", "1",
                       "--out_dir", str(tmp_path / "o"), "--data_root", str(tmp_path / "dump")])
    with pytest.raises(ValueError, match=r"kmeans_best/train/embeddings.scp: missing; run stage 4"):
        ensemble.main(["--level", "embedding", "--systems", str(system), "b", "--out_dir",
                       str(tmp_path / "o"), "--data_root", str(tmp_path / "dump")])
