"""DCASE 2020 per-machine-type methods: the self-supervised patch classifier of Giri et al.
(MobileNetV2 / ResNet-50, ID mixup with a KL loss, spectral warping) and the official
autoencoder baseline."""
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torchaudio
import yaml
from torchvision.models import mobilenet_v2, resnet50

from asd_lib.augment import id_mixup_warp as ssl_augment
from asd_lib.data.dataset import DumpedSet, WaveformDataset
from asd_lib.data.step import Mix, Step
from asd_lib.experiment import load_experiment
from asd_lib.frontends.power_mel import PowerMel
from asd_lib.frontends.spectral_warp import SpectralWarp, warp_frequency, warp_matrix
from asd_lib.losses import HEADS, OBJECTIVES
from asd_lib.models import MODELS
from asd_lib.models.mobilenetv2_ssl import PatchClassifierNet
from asd_lib.models.patches import extract_patches, num_patches
from asd_lib.utils.fileio import read_kv
from inference_helpers import decode_config, run_stage4
from test_train import make_dumped_set
from train_helpers import train_with

SR = 16000
TUNING = Path(__file__).resolve().parents[1] / "egs" / "dcase20" / "asd1" / "conf" / "tuning"
CLASSES = ("fan_id_00", "fan_id_02", "pump_id_00", "pump_id_02")


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


# ---------------------------------------------------------------- shapes and sizes
def test_mobilenetv2_patch_embeddings_and_parameter_count():
    model = MODELS.build("mobilenetv2_ssl", num_samples=10 * SR, sample_rate=SR)
    assert model.num_patches == 1 + (313 - 64) // 8 == 32 and model.embedding_dim == 1280
    head = HEADS.build("linear", embedding_dim=1280, num_classes=7)
    # torchvision's MobileNetV2 0.5 with 7 classes, less the 2 extra input channels of its
    # 3 x 3 stem (16 filters): the same network on one-channel patches.
    reference = count(mobilenet_v2(width_mult=0.5, num_classes=7))
    assert count(model, head) == reference - 2 * 16 * 3 * 3 == 696359
    short = MODELS.build("mobilenetv2_ssl", num_samples=SR, patch_frames=16, patch_stride=8)
    emb = short.eval()(torch.zeros(2, SR, dtype=torch.int16))
    assert emb.shape == (2, 3, 1280) and head(emb).shape == (2, 3, 7)


def test_resnet50_parameter_count_and_short_clip_error():
    model = MODELS.build("resnet50_ssl", num_samples=SR, patch_frames=16, patch_stride=8)
    head = HEADS.build("linear", embedding_dim=model.embedding_dim, num_classes=5)
    assert model.embedding_dim == 2048
    assert count(model, head) == count(resnet50(num_classes=5)) - 2 * 64 * 7 * 7
    with pytest.raises(ValueError, match="fewer than one patch of 64"):
        MODELS.build("resnet50_ssl", num_samples=2 * SR)  # 63 frames


def test_ae_parameter_count_by_formula_and_outputs():
    model = MODELS.build("ae_baseline", num_samples=10 * SR, sample_rate=SR)
    widths = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
    dense = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    batch_norm = 2 * sum(widths[1:-1])  # gamma and beta of the 9 hidden layers
    assert count(model) == dense + batch_norm == 267928
    out = model(torch.zeros(3, 10 * SR, dtype=torch.int16))
    assert out["embedding"].shape == (3, 8) and out["score"].shape == (3,)
    assert model.vectors(torch.zeros(1, 10 * SR)).shape == (1, 309, 640)


# ---------------------------------------------------------------- patches and warping
def test_patches_count_and_overlap():
    spec = torch.randn(2, 128, 313)
    patches = extract_patches(spec, 64, 8)
    assert patches.shape == (2, 32, 128, 64) and num_patches(313, 64, 8) == 32
    for i in (0, 1, 31):
        assert torch.equal(patches[:, i], spec[:, :, 8 * i:8 * i + 64])
    assert torch.equal(patches[:, 1, :, :56], patches[:, 0, :, 8:])  # 56 frames shared
    assert num_patches(71, 64, 8) == 1 and num_patches(72, 64, 8) == 2
    with pytest.raises(ValueError, match="63 frames are fewer than one patch of 64"):
        num_patches(63, 64, 8)


@pytest.mark.parametrize("alpha", [0.95, 1.05])
def test_spectral_warp_moves_a_pure_tone_as_the_formula_says(alpha):
    bin_hz = SR / 1024
    tone_bin = 192  # 3000 Hz, on a bin centre
    t = torch.arange(SR) / SR
    wave = torch.sin(2 * math.pi * tone_bin * bin_hz * t)
    spec = torch.stft(wave, 1024, 512, window=torch.hann_window(1024), return_complex=True)
    power = spec.abs().pow(2)  # [513, frames]
    warped = warp_matrix(513, alpha) @ power
    target = warp_frequency(tone_bin * bin_hz, alpha, SR / 2) / bin_hz
    assert target == pytest.approx(512 * (192 / 512) ** alpha)
    assert int(warped[:, 10].argmax()) == round(target)  # 202 for 0.95, 183 for 1.05
    assert int(power[:, 10].argmax()) == tone_bin
    assert torch.allclose(warp_matrix(513, 1.0), torch.eye(513, dtype=torch.float32))


def test_warped_mel_folds_the_warp_into_the_filterbank():
    frontend = PowerMel(sample_rate=SR)
    wave = torch.randn(3, SR) * 0.1
    reference = torchaudio.transforms.MelSpectrogram(
        sample_rate=SR, n_fft=1024, hop_length=512, n_mels=128, power=2.0,
        mel_scale="slaney", norm="slaney")(wave)
    assert torch.allclose(frontend(wave), reference, rtol=1e-4, atol=1e-6)
    warp = SpectralWarp(group=torch.tensor([0, 2, 1]), alphas=(0.95, 1.05))
    spec = torchaudio.transforms.Spectrogram(n_fft=1024, hop_length=512)(wave)
    for i, alpha in enumerate((1.0, 1.05, 0.95)):
        expected = frontend.fbanks.T @ (warp_matrix(513, alpha) @ spec[i])
        assert torch.allclose(frontend(wave, warp)[i], expected, rtol=1e-4, atol=1e-6)
    assert torch.allclose(frontend.log(torch.tensor([1.0, 100.0])), torch.tensor([0.0, 20.0]))


# ---------------------------------------------------------------- mixing and its loss
@pytest.mark.parametrize("domain", ["pre_log", "post_log"])
def test_mixing_of_spectrograms_follows_the_formula(domain):
    model = MODELS.build("mobilenetv2_ssl", num_samples=SR, patch_frames=16, patch_stride=8)
    wave = torch.randn(3, SR) * 0.1
    mix = Mix(lam=torch.tensor([0.3, 0.8, 1.0]), perm=torch.tensor([1, 2, 0]))
    power = model.frontend(wave)
    lam = mix.lam.view(3, 1, 1)
    if domain == "pre_log":
        expected = model.frontend.log(lam * power + (1 - lam) * power[[1, 2, 0]])
    else:
        logs = model.frontend.log(power)
        expected = lam * logs + (1 - lam) * logs[[1, 2, 0]]
    got = model.log_mel(wave, mix, domain)
    assert torch.allclose(got, expected, atol=1e-4)
    assert torch.allclose(got[2], model.frontend.log(power[2]), atol=1e-4)  # lam 1: unmixed


class FixedHead:
    """A head returning fixed logits, to check the loss value by hand."""

    def __init__(self, logits, num_classes):
        self.logits, self.num_classes = logits, num_classes

    def __call__(self, embedding, labels=None):
        return self.logits


def hand_kl(logits, targets):
    """Mean over clips and patches of sum_c q log(q / p), written out with numpy."""
    total, n = 0.0, 0
    for clip, q in zip(np.asarray(logits, dtype=np.float64), targets):
        for z in clip:
            p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            total += sum(qc * math.log(qc / pc) for qc, pc in zip(q, p) if qc > 0)
            n += 1
    return total / n


@pytest.mark.parametrize("domain", ["pre_log", "post_log"])
def test_mixup_kl_equals_the_hand_computed_value(domain):
    logits = torch.tensor([[[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]],
                           [[0.3, -0.2, 1.5], [1.0, 1.0, 1.0]]])  # [2 clips, 2 patches, 3]
    step = Step(torch.zeros(2, 10), torch.tensor([0, 2]))
    step.mix = Mix(lam=torch.tensor([0.7, 0.25]), perm=torch.tensor([1, 0]))
    step.model_kwargs.update(mix=step.mix, mix_domain=domain)
    step.out = {"embedding": torch.zeros(2, 2, 4)}
    loss, _ = OBJECTIVES.build("mixup_kl")(step, FixedHead(logits, 3))
    # clip 0: 0.7 of class 0, 0.3 of class 2; clip 1: 0.25 of class 2, 0.75 of class 0
    expected = hand_kl(logits, [[0.7, 0.0, 0.3], [0.75, 0.0, 0.25]])
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.68491, abs=5e-5)


def test_mixup_kl_without_mixing_is_cross_entropy_and_warp_uses_synthetic_classes():
    logits = torch.randn(4, 3, 6)
    step = Step(torch.zeros(4, 10), torch.tensor([0, 1, 0, 1]))
    step.out = {"embedding": torch.zeros(4, 3, 2)}
    loss, per_id = OBJECTIVES.build("mixup_kl")(step, FixedHead(logits, 6))
    ce = torch.nn.functional.cross_entropy(logits.reshape(12, 6), step.labels.repeat_interleave(3))
    assert float(loss) == pytest.approx(float(ce), rel=1e-6) and per_id.shape == (4, 3, 6)
    # 2 IDs x 3 warp groups: clip 2 (ID 0, group 1) is class 2, clip 3 (ID 1, group 2) class 5
    step.model_kwargs["warp"] = SpectralWarp(group=torch.tensor([0, 0, 1, 2]), alphas=(0.95, 1.05))
    loss, per_id = OBJECTIVES.build("mixup_kl")(step, FixedHead(logits, 2))
    ce = torch.nn.functional.cross_entropy(logits.reshape(12, 6),
                                           torch.tensor([0, 1, 2, 5]).repeat_interleave(3))
    assert float(loss) == pytest.approx(float(ce), rel=1e-6)
    assert torch.allclose(per_id, logits.view(4, 3, 3, 2).logsumexp(2))
    with pytest.raises(ValueError, match="class_multiplier: 3"):
        OBJECTIVES.build("mixup_kl")(step, FixedHead(logits[..., :4], 2))


def test_id_mixup_adds_mixtures_apart_from_the_originals():
    """Giri et al., Sec. 2: the batch keeps every provided clip unmixed and adds, per clip,
    a mixture with a clip of another machine ID."""
    torch.manual_seed(0)
    wave = torch.arange(10.0).view(5, 2)
    labels = torch.tensor([0, 0, 1, 1, 2])
    step = ssl_augment.IdMixup(alpha=1.0, domain="pre_log")(Step(wave, labels))
    assert step.wave.shape == (10, 2) and torch.equal(step.labels, labels.repeat(2))
    mix = step.mix
    # the first five items are the originals: their own clip, weight 1
    assert torch.equal(mix.lam[:5], torch.ones(5)) and torch.equal(mix.perm[:5], torch.arange(5))
    assert torch.equal(mix.apply(step.wave)[:5], wave)
    # the next five mix clip i with a clip of another ID, in (0, 1) proportions
    assert ((mix.lam[5:] > 0) & (mix.lam[5:] < 1)).all()
    assert (mix.perm[5:] < 5).all() and (step.labels_b[5:] != labels).all()
    lam = mix.lam[5:, None]
    assert torch.allclose(mix.apply(step.wave)[5:], lam * wave + (1 - lam) * wave[mix.perm[5:]])
    assert step.model_kwargs["mix_domain"] == "pre_log" and step.model_kwargs["mix"] is mix
    twice = ssl_augment.IdMixup(mixtures=2)(Step(wave, labels))
    assert twice.wave.shape == (15, 2) and torch.equal(twice.mix.lam[:5], torch.ones(5))
    alone = ssl_augment.IdMixup()(Step(torch.zeros(3, 2), torch.tensor([4, 4, 4])))
    assert torch.equal(alone.mix.perm, torch.arange(3).repeat(2))  # no other ID: itself
    with pytest.raises(ValueError, match="mixtures must be"):
        ssl_augment.IdMixup(mixtures=0)

    step = Step(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([1, 0]))
    step = ssl_augment.SpectralWarpClasses(alphas=[0.95, 1.05])(step)
    assert step.wave.shape == (6, 2) and torch.equal(step.labels, torch.tensor([1, 0] * 3))
    assert torch.equal(step.model_kwargs["warp"].group, torch.tensor([0, 0, 1, 1, 2, 2]))
    step = ssl_augment.IdMixup()(step)
    assert step.wave.shape == (12, 2)  # originals and warped copies, then their mixtures
    assert torch.equal(step.model_kwargs["warp"].group, torch.tensor([0, 0, 1, 1, 2, 2] * 2))
    with pytest.raises(ValueError, match="before any mixup"):
        ssl_augment.SpectralWarpClasses()(step)


def test_giri_training_batches_contain_original_clips(tmp_path, dumped, monkeypatch):
    """Every training batch of the MobileNetV2 system (the configs' per-type augmentations)
    reaches the model with each of its clips once unmixed, besides the mixtures."""
    seen = []
    forward_ = PatchClassifierNet.forward

    def recording_forward(self, wave, mix=None, mix_domain="post_log", warp=None):
        seen.append((wave.clone(), mix, warp))
        return forward_(self, wave, mix, mix_domain, warp)

    monkeypatch.setattr(PatchClassifierNet, "forward", recording_forward)
    conf = debug_config(tmp_path, "mobilenetv2_ssl")
    config = yaml.safe_load(conf.read_text())
    config["split_overrides"] = {m: config["split_overrides"][m] for m in ("fan", "pump")}
    conf.write_text(yaml.safe_dump(config))
    train_with(conf, train_dir=dumped, exp_dir=tmp_path / "exp", num_threads=1, verbose=0)
    training = [(w, m, g) for w, m, g in seen if m is not None]
    assert training and len(training) < len(seen)  # held-out batches are never mixed
    for wave, mix, warp in training:
        originals = len(wave) // 2
        assert torch.equal(mix.lam[:originals].cpu(), torch.ones(originals))
        assert torch.equal(mix.perm[:originals].cpu(), torch.arange(originals))
        assert (mix.lam[originals:] < 1).all()
        if warp is not None:  # pump: post-log mixup and warping, the unwarped clips included
            assert (warp.group[:originals] == 0).sum() == originals // 3


# ---------------------------------------------------------------- autoencoder score
def test_ae_score_is_the_mean_squared_reconstruction_error():
    torch.manual_seed(1)
    model = MODELS.build("ae_baseline", num_samples=SR).eval()
    wave = torch.randn(2, SR) * 0.1
    log_mel = 10.0 * torch.log10(model.frontend(wave) + 2.220446049250313e-16)
    vectors = model.vectors(wave)
    assert vectors.shape == (2, 28, 640)
    for v in (0, 13, 27):  # vector v = frames v .. v + 4, one frame's 128 bands after another
        assert torch.allclose(vectors[:, v], log_mel[:, :, v:v + 5].transpose(1, 2).reshape(2, 640))
    with torch.no_grad():
        out = model(wave)
        recon = model.decoder(model.encoder(vectors.reshape(-1, 640))).view(2, 28, 640)
    x, y = vectors.numpy().astype(np.float64), recon.numpy().astype(np.float64)
    expected = [np.mean([np.mean((x[c, v] - y[c, v]) ** 2) for v in range(28)]) for c in range(2)]
    assert np.allclose(out["score"].numpy(), expected, rtol=1e-5)
    assert torch.equal(out["score"], out["reconstruction_error"])
    loss, logits = OBJECTIVES.build("reconstruction_mse")(Step(wave, torch.zeros(2), out=out), None)
    assert logits is None and float(loss) == pytest.approx(float(np.mean(expected)), rel=1e-5)


# ---------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    return make_dumped_set(tmp_path_factory.mktemp("zoo") / "train", classes=CLASSES, per_class=8)


def debug_config(tmp_path, name, **changes):
    config = yaml.safe_load((TUNING / f"train_{name}.debug.yaml").read_text())
    config.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def train_losses(exp_dir):
    lines = (exp_dir / "train_history.csv").read_text().splitlines()
    column = lines[0].split(",").index("train_loss")
    return [float(line.split(",")[column]) for line in lines[1:]]


def test_mobilenetv2_ssl_trains_per_type_and_scores_by_patch_averaged_prob(tmp_path, dumped):
    stage = {"name": "ssl", "epochs": 4, "batch_size": 8, "losses": [{"name": "mixup_kl"}],
             "optim": "adam", "optim_conf": {"lr": 1.0e-3}}
    overrides = {
        "fan": {"stages": [{**stage, "augments": [
            {"name": "id_mixup", "conf": {"domain": "pre_log"}}]}]},
        "pump": {"head_conf": {"class_multiplier": 3}, "stages": [{**stage, "augments": [
            {"name": "spectral_warp", "conf": {"alphas": [0.95, 1.05]}},
            {"name": "id_mixup", "conf": {"domain": "post_log"}}]}]},
    }
    conf = debug_config(tmp_path, "mobilenetv2_ssl", split_overrides=overrides)
    exp = tmp_path / "exp"
    train_with(conf, train_dir=dumped, exp_dir=exp, num_threads=1)
    assert yaml.safe_load((exp / "model_info.yaml").read_text()) == {"parts": ["fan", "pump"]}
    for machine in ("fan", "pump"):
        info = yaml.safe_load((exp / machine / "model_info.yaml").read_text())
        assert info["classes"] == [f"{machine}_id_00", f"{machine}_id_02"]
        losses = train_losses(exp / machine)
        assert len(losses) == 4 and losses[-1] < losses[0], (machine, losses)
    assert yaml.safe_load((exp / "pump" / "config.yaml").read_text())["head_conf"] == \
        {"class_multiplier": 3}

    out = run_stage4(exp, dumped, tmp_path / "scores", checkpoint="latest",
                     args=["--config", str(decode_config("dcase20", "neg_prob"))])
    scores = read_kv(out / "train/utt2score")
    assert len(scores) == 32
    # One pump clip by hand: minus the softmax at its ID, averaged over its 3 patches,
    # the softmax running over all 6 outputs (2 IDs x 3 warp groups).
    trained = load_experiment(exp, "latest").parts["pump"]
    data = DumpedSet(dumped)
    i = data.column("utt2class").index("pump_id_02")
    wave = WaveformDataset([data.locations[i]])[0][0].unsqueeze(0)
    with torch.no_grad():
        logits = trained.head(trained.model(wave))
    assert logits.shape == (1, 3, 6)
    expected = -torch.softmax(logits[0].double(), -1)[:, 1].mean()
    assert float(scores[data.utts[i]]) == pytest.approx(float(expected), rel=1e-5)


def test_ae_baseline_trains_per_type_and_scores_by_reconstruction(tmp_path, dumped, caplog,
                                                                  monkeypatch):
    conf = debug_config(tmp_path, "ae_baseline")
    exp = tmp_path / "exp"
    with caplog.at_level(logging.INFO):
        train_with(conf, train_dir=dumped, exp_dir=exp, num_threads=1)
    epochs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(epochs) == 6 and all(" acc n/a | held-out " in m for m in epochs)  # no logits
    for machine in ("fan", "pump"):
        losses = train_losses(exp / machine)
        assert len(losses) == 3 and losses[-1] < losses[0], (machine, losses)
    out = run_stage4(exp, dumped, tmp_path / "scores", checkpoint="latest",
                     args=["--config", str(decode_config("dcase20", "model_score"))])
    scores = read_kv(out / "train/utt2score")
    trained = load_experiment(exp, "latest").parts["fan"]
    data = DumpedSet(dumped)
    waves = torch.stack([WaveformDataset([data.locations[i]])[0][0] for i in range(2)])
    with torch.no_grad():
        expected = trained.model(waves)["score"]
    assert data.column("utt2machine")[:2] == ["fan", "fan"]
    for i in range(2):
        assert float(scores[data.utts[i]]) == pytest.approx(float(expected[i]), rel=1e-5)
