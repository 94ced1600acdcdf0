"""Stage 4's rearranged model (batch norms folded into their convolutions, channels-last
weights, a MobileFaceNet's high-resolution layers one clip at a time) computes what the
trained model computes, at batch 1 and in batches, for every CNN
of the zoo with batch-norm statistics measured on data.

The bound is float rounding: STgram-MFN's embeddings (mean magnitude 1.2) move by 1.6e-5
when the same model embeds a clip alone instead of in a batch of 3, and by 1.0e-5 on one
thread instead of two; folding moves them by 2.6e-5, channels-last by 1.1e-5. The test
holds every embedding to 1e-4, relative and absolute; ResNet-50, twice as deep, to 5e-4
(channels-last alone moves its embeddings, up to 3.9 in magnitude, by 2.4e-4)."""
import copy

import pytest
import torch
import torchaudio
from torch import nn

from asd_lib.frontends.tgram import TgramNet
from asd_lib.inference.fast_model import (
    BandedMelScale,
    ChunkedFramingConv,
    OneClipAtATime,
    TimeMajorTgram,
    band_mel_filterbanks,
    chunk_framing_convs,
    fold_batch_norms,
    for_inference,
    split_high_resolution_layers,
    time_major_tgrams,
)
from asd_lib.models import MODELS

NUM_SAMPLES = 16000


def trained_like(model: nn.Module, num_samples: int) -> nn.Module:
    """``model`` in eval mode with batch-norm affine weights away from their initial 1 / 0
    and running statistics measured on data, as after training."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            shape = module.weight.shape
            module.weight.data.copy_(torch.rand(shape, generator=generator) + 0.5)
            module.bias.data.copy_(0.1 * torch.randn(shape, generator=generator))
            module.momentum = None  # running statistics: the average over the batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(0.1 * torch.randn(4, num_samples, generator=generator))
    return model.eval()


def embedding(model, wave):
    out = model(wave)
    return (out["embedding"] if isinstance(out, dict) else out).detach()


def batch_norms(model: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


# (model, clip samples, batch norms, of which folded): every ConvBlock of MobileFaceNet,
# every Conv2dNormActivation of torchvision's MobileNetV2; of ResNet-50 only the four
# downsample branches are (conv, norm) Sequentials, the others run in forward(); the
# two-branch SSL model also normalises its inputs and after activations.
@pytest.mark.parametrize("name, num_samples, norms, folds, tol", [
    ("stgram_mfn", NUM_SAMPLES, 50, 50, 1e-4), ("tastgram", NUM_SAMPLES, 23, 23, 1e-4),
    ("osscl", NUM_SAMPLES, 23, 23, 1e-4), ("clp_scf", NUM_SAMPLES, 50, 50, 1e-4),
    ("ssl_two_branch", NUM_SAMPLES, 17, 9, 1e-4), ("mobilenetv2_ssl", 40000, 52, 52, 1e-4),
    ("resnet50_ssl", 40000, 53, 4, 5e-4)])
def test_folded_channels_last_model_gives_the_same_embeddings(name, num_samples, norms, folds,
                                                              tol):
    torch.manual_seed(0)
    model = trained_like(MODELS.build(name, num_samples=num_samples), num_samples)
    fast = copy.deepcopy(model)
    assert batch_norms(fast) == norms
    assert fold_batch_norms(fast) == folds
    assert batch_norms(fast) == norms - folds
    fast = for_inference(fast)
    wave = 0.1 * torch.randn(3, num_samples, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = embedding(model, wave)
        assert embedding(fast, wave) == pytest.approx(reference, abs=tol, rel=tol)
        assert embedding(fast, wave[:1]) == pytest.approx(reference[:1], abs=tol, rel=tol)


@pytest.mark.parametrize("kernel, stride, padding, bias", [
    (1024, 512, 512, False),  # TgramNet
    (256, 64, 0, False),  # the two-branch SSL model's waveform branch
    (12, 4, 3, True)])
def test_framing_convolution_as_one_matrix_product(kernel, stride, padding, bias):
    torch.manual_seed(0)
    conv = nn.Conv1d(1, 16, kernel, stride, padding, bias=bias)
    x = torch.randn(3, 1, 5000)
    with torch.no_grad():
        expected = conv(x)
        assert ChunkedFramingConv(conv)(x) == pytest.approx(expected, abs=2e-6)
    model = nn.Sequential(conv, nn.Conv1d(1, 4, 11, 5), nn.Conv1d(16, 4, 4, 2))
    assert chunk_framing_convs(model) == 1  # a kernel of 2.2 strides and 16 inputs stay
    assert [type(m).__name__ for m in model] == ["ChunkedFramingConv", "Conv1d", "Conv1d"]


@pytest.mark.parametrize("taps", [3, 5])
def test_time_major_tgram_computes_the_tgram(taps):
    torch.manual_seed(0)
    tgram = TgramNet(8000, channels=16)
    for norm, _, _ in tgram.encoder:  # LayerNorm weights away from 1 / 0, as trained
        norm.weight.data.uniform_(0.5, 1.5)
        norm.bias.data.normal_()
    if taps == 5:
        for block in tgram.encoder:
            block[2] = nn.Conv1d(16, 16, 5, padding=2, bias=False)
    wave = torch.randn(3, 8000)
    with torch.no_grad():
        expected = tgram(wave)
        fast = TimeMajorTgram(tgram)(wave)
    assert fast.shape == expected.shape == (3, 16, 16)
    assert fast == pytest.approx(expected, abs=1e-5, rel=1e-5)
    with pytest.raises(ValueError, match=r"waveforms \[B, 8000\]"):
        TimeMajorTgram(tgram)(wave[:, :4000])


def test_only_tgrams_with_a_chunkable_framing_and_same_convolutions_become_time_major():
    model = MODELS.build("stgram_mfn", num_samples=NUM_SAMPLES)
    assert time_major_tgrams(model) == 1 and isinstance(model.tgram, TimeMajorTgram)
    uneven = TgramNet(NUM_SAMPLES, win_length=1000, hop_length=512)  # 1000 is no k x 512
    strided = TgramNet(NUM_SAMPLES)
    strided.encoder[1][2] = nn.Conv1d(128, 128, 3, stride=2, padding=1, bias=False)
    assert time_major_tgrams(nn.Sequential(uneven, strided)) == 0


@pytest.mark.parametrize("n_freq, n_mels, norm, mel_scale, multiply_adds", [
    (513, 128, None, "htk", 8608),  # STgram-MFN, TASTgram, OS-SCL: 13.1 % of 513 x 128
    (1025, 128, "slaney", "slaney", 17152),
    (513, 40, None, "htk", 6736),
    (65, 128, None, "htk", 1072)])  # more bands than bins: 38 filters are all zero
def test_banded_mel_filterbank_is_torchaudios_filterbank(n_freq, n_mels, norm, mel_scale,
                                                         multiply_adds):
    dense = torchaudio.transforms.MelScale(n_mels, 16000, n_stft=n_freq, norm=norm,
                                           mel_scale=mel_scale)
    banded = BandedMelScale(dense)
    # STgram's first group of 16 bands touches bins 1-17: 17 rows x 16 columns
    assert sum((last - first) * getattr(banded, f"group{i}").shape[1]
               for i, (first, last) in enumerate(banded.rows)) == multiply_adds
    power = torch.rand(3, n_freq, 20, generator=torch.Generator().manual_seed(0)) ** 4 * 1e3
    expected = dense(power)
    assert banded(power).shape == expected.shape
    assert banded(power) == pytest.approx(expected, rel=1e-6, abs=1e-6 * expected.max().item())


def test_banded_mel_filterbank_keeps_all_zero_filters_and_replaces_every_mel_scale():
    dense = torchaudio.transforms.MelScale(64, 16000, n_stft=257)
    dense.fb[:, :16] = 0  # a whole group of filters without a non-zero bin
    power = torch.rand(2, 257, 5)
    mel = BandedMelScale(dense)(power)
    assert torch.equal(mel[:, :16], torch.zeros(2, 16, 5))
    assert mel == pytest.approx(dense(power), rel=1e-6)
    model = nn.Sequential(dense, nn.Identity(), nn.Sequential(dense))
    assert band_mel_filterbanks(model) == 2
    assert isinstance(model[0], BandedMelScale) and isinstance(model[2][0], BandedMelScale)


def test_high_resolution_layers_of_a_mobilefacenet_take_one_clip_at_a_time():
    model = MODELS.build("stgram_mfn", num_samples=NUM_SAMPLES).eval()
    stem, first = model.backbone.stem, model.backbone.blocks[0]
    assert split_high_resolution_layers(model) == 1
    assert isinstance(model.backbone.stem, OneClipAtATime)
    assert list(model.backbone.stem.module) == [stem, first]
    assert isinstance(model.backbone.blocks[0], nn.Identity)
    assert split_high_resolution_layers(MODELS.build("mobilenetv2_ssl", num_samples=40000)) == 0
    calls = []
    probe = OneClipAtATime(nn.Identity())
    probe.module.register_forward_hook(lambda module, args, out: calls.append(args[0].shape))
    x = torch.randn(3, 2, 4)
    assert torch.equal(probe(x), x) and calls == [(1, 2, 4)] * 3


def test_folding_refuses_a_model_in_training_mode():
    with pytest.raises(ValueError, match="eval mode"):
        fold_batch_norms(MODELS.build("stgram_mfn", num_samples=NUM_SAMPLES).train())


def test_only_a_convolution_followed_by_its_own_norm_is_folded():
    block = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.PReLU(4),
                          nn.BatchNorm2d(4), nn.Conv2d(4, 3, 1), nn.ReLU()).eval()
    assert fold_batch_norms(block) == 1
    assert [type(m).__name__ for m in block] == ["Conv2d", "Identity", "PReLU", "BatchNorm2d",
                                                 "Conv2d", "ReLU"]
    assert block[0].bias is not None


@pytest.mark.slow
def test_compiled_inference_model_gives_the_same_embeddings():
    torch.manual_seed(0)
    model = trained_like(MODELS.build("stgram_mfn", num_samples=NUM_SAMPLES), NUM_SAMPLES)
    fast = for_inference(copy.deepcopy(model), compile_model=True)
    wave = 0.1 * torch.randn(4, NUM_SAMPLES, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert embedding(fast, wave) == pytest.approx(embedding(model, wave), abs=1e-4, rel=1e-4)
