"""Front-ends (log-mel, TgramNet), MobileFaceNet and STgram-MFN: shapes, exact parameter
counts, an independent numpy log-mel reference, and a tiny training run."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from asd_lib.frontends.mel import LogMel, power_mel, to_float_waveform
from asd_lib.frontends.tgram import TgramNet
from asd_lib.losses.arcface import ArcMarginHead
from asd_lib.models import MODELS
from asd_lib.models.mobilefacenet import MobileFaceNet
from asd_lib.models.stgram_mfn import STgramMFN

SR = 16000


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def numpy_htk_log_mel(wave, sr=SR, n_fft=1024, hop=512, n_mels=128, floor=1e-10, offset=0.0):
    """Reference STgram log-mel written from the definitions (float64 numpy)."""
    padded = np.pad(wave, n_fft // 2, mode="reflect")
    n_frames = 1 + (len(padded) - n_fft) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    frames = np.stack([padded[i * hop:i * hop + n_fft] * window for i in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # [frames, n_fft/2 + 1]

    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    mel_edges = np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2)
    hz_edges = 700.0 * (10 ** (mel_edges / 2595.0) - 1.0)
    bins = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fbank = np.zeros((n_mels, len(bins)))
    for i in range(n_mels):
        lo, centre, hi = hz_edges[i:i + 3]
        rising = (bins - lo) / (centre - lo)
        falling = (hi - bins) / (hi - centre)
        fbank[i] = np.maximum(0.0, np.minimum(rising, falling))
    mel = fbank @ power.T  # [n_mels, frames]
    return 10 * np.log10(np.maximum(mel, floor) + offset)


# ---------------------------------------------------------------- front-ends

def test_registries():
    assert MODELS.get("stgram_mfn") is STgramMFN
    assert MODELS.get("mobilefacenet") is MobileFaceNet


def test_log_mel_shape_and_frames():
    mel = LogMel()
    assert [mel.num_frames(n) for n in (160000, 32000, 16000)] == [313, 63, 32]
    assert mel(torch.randn(2, 160000)).shape == (2, 128, 313)
    assert LogMel(center=False).num_frames(16000) == 1 + (16000 - 1024) // 512
    with pytest.raises(ValueError, match="unknown log"):
        LogMel(log="ln")
    with pytest.raises(ValueError, match=r"\[B, T\]"):
        mel(torch.randn(16000))


def test_log_mel_matches_numpy_reference():
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    ours = LogMel()(torch.from_numpy(wave)[None])[0].double().numpy()
    ref = numpy_htk_log_mel(wave.astype(np.float64))
    assert ours.shape == ref.shape == (128, 32)
    np.testing.assert_allclose(ours, ref, atol=2e-3)
    eps = float(np.finfo(np.float32).eps)
    ours_offset = LogMel(log="offset")(torch.from_numpy(wave)[None])[0].double().numpy()
    np.testing.assert_allclose(
        ours_offset, numpy_htk_log_mel(wave.astype(np.float64), floor=0.0, offset=eps), atol=2e-3)


@pytest.mark.parametrize("conf", [
    {},  # STgram-MFN
    dict(n_fft=2048, win_length=2048, pad_mode="constant", mel_scale="slaney", norm="slaney"),
    dict(power=1.0, center=False),
])
def test_power_mel_is_torchaudios_mel_spectrogram(conf):
    melspec = LogMel(**conf).melspec
    wave = 0.1 * torch.randn(3, SR, generator=torch.Generator().manual_seed(0))
    ours, theirs = power_mel(melspec, wave), melspec(wave)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, rtol=2e-6, atol=1e-9)


def test_log_floor_on_silence():
    silence = torch.zeros(1, 16000)
    assert torch.equal(LogMel()(silence), torch.full((1, 128, 32), -100.0))
    offset = LogMel(log="offset")(silence)
    assert torch.allclose(offset, torch.full_like(offset, -69.23689))  # 10 log10(2^-23)


def test_int16_and_float_waveforms_agree():
    pcm = torch.tensor([[-32768, 0, 16384, 32767]], dtype=torch.int16)
    assert to_float_waveform(pcm).tolist() == [[-1.0, 0.0, 0.5, 32767 / 32768]]
    floats = torch.randn(2, 8)
    assert to_float_waveform(floats) is floats
    with pytest.raises(ValueError, match="int16"):
        to_float_waveform(torch.zeros(2, 8, dtype=torch.int32))

    torch.manual_seed(0)
    pcm = torch.randint(-3000, 3000, (2, 16000), dtype=torch.int16)
    as_float = pcm.float() / 32768
    assert torch.equal(LogMel()(pcm), LogMel()(as_float))
    model = STgramMFN(16000).eval()
    with torch.no_grad():
        assert torch.allclose(model(pcm), model(as_float), atol=1e-6)


def test_tgram_shape_and_layernorm_over_time():
    tgram = TgramNet(160000)
    assert tgram.num_frames == 313
    assert tgram(torch.randn(2, 160000)).shape == (2, 128, 313)
    assert [block[0].normalized_shape for block in tgram.encoder] == [(313,)] * 3
    assert n_params(tgram) == 128 * 1024 + 3 * (2 * 313 + 128 * 128 * 3)

    short = TgramNet(16000, channels=16)
    with torch.no_grad():
        normed = short.encoder[0][0](short.extractor(torch.randn(3, 1, 16000)))
    assert normed.shape == (3, 16, 32)
    # every (clip, channel) row is standardised along time, not across channels
    assert torch.allclose(normed.mean(dim=2), torch.zeros(3, 16), atol=1e-5)
    assert torch.allclose(normed.var(dim=2, unbiased=False), torch.ones(3, 16), atol=1e-3)
    with pytest.raises(ValueError, match=r"\[B, 16000\]"):
        short(torch.randn(3, 15000))


# ---------------------------------------------------------------- backbones

@pytest.mark.parametrize("table, hw, kernel, count", [
    ("paper", (128, 313), (8, 20), 1_059_392),
    ("liu8", (128, 313), (8, 20), 870_336),
    ("paper", (128, 63), (8, 4), 993_856),
    ("liu8", (128, 32), (8, 2), 796_608),
])
def test_mobilefacenet_gdc_and_parameter_count(table, hw, kernel, count):
    net = MobileFaceNet(in_channels=2, embedding_dim=128, table=table, input_hw=hw)
    assert net.gdc_kernel == kernel
    assert n_params(net) == count


def test_mobilefacenet_forward_shapes():
    net = MobileFaceNet(table="liu8", input_hw=(128, 63), embedding_dim=32)
    assert net(torch.randn(2, 2, 128, 63)).shape == (2, 32)
    with pytest.raises(ValueError, match="input_hw"):
        net(torch.randn(2, 2, 128, 64))
    with pytest.raises(ValueError, match="unknown table"):
        MobileFaceNet(table="v2")


def test_stgram_mfn_10s():
    model = STgramMFN(160000)  # parameter counts: tests/test_param_counts.py
    wave = torch.randn(2, 160000)
    model.eval()
    with torch.no_grad():
        feats = model.features(wave)
        assert feats.shape == (2, 2, 128, 313)
        assert torch.equal(feats[:, 0], model.mel(wave))  # mel first
        assert torch.equal(feats[:, 1], model.tgram(wave))  # Tgram second
        assert model(wave).shape == (2, 128)


def test_stgram_mfn_2s_from_registry():
    model = MODELS.build("stgram_mfn", num_samples=32000, table="liu8")
    assert model.backbone.input_hw == (128, 63)
    assert model(torch.randn(2, 32000)).shape == (2, 128)
    with pytest.raises(ValueError, match=r"\[B, 32000\]"):
        model(torch.randn(2, 16000))
    with pytest.raises(ValueError, match="sample_rate"):
        STgramMFN(32000, frontend_conf={"sample_rate": 8000})


def test_training_steps_reduce_arcface_loss():
    torch.manual_seed(0)
    model = STgramMFN(16000, table="liu8", frontend_conf={"n_mels": 64})
    head = ArcMarginHead(128, 4, margin=0.7, scale=30.0)
    waves = 0.1 * torch.randn(8, 16000)
    labels = torch.tensor([0, 1, 2, 3] * 2)
    optim = torch.optim.Adam(list(model.parameters()) + list(head.parameters()), lr=1e-3)
    losses = []
    for _ in range(20):
        loss = F.cross_entropy(head(model(waves), labels), labels)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
