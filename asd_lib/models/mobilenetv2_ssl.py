"""Self-supervised machine-ID classification on log-mel patches (Giri et al., DCASE 2020).

Giri, Tenneti, Cheng, Helwani, Isik, Krishnaswamy, "Self-supervised classification for
detecting anomalous sounds", DCASE 2020 Workshop. One model per machine type learns to
tell that type's machine IDs apart (Sec. 3.1); a clip whose ID the model does not
recognise is anomalous. The input (Sec. 3.3) is cut into 64-frame x 128-mel log-mel
patches (n_fft 1024 = 64 ms, hop 512 = 32 ms at 16 kHz), successive patches overlapping
by 56 frames, and every patch is classified on its own: the model returns patch
embeddings ``[B, P, E]``, the ``linear`` head patch logits, and the anomaly score
(score ``neg_prob``) is minus the softmax at the clip's ID (Sec. 3.1) averaged over its
patches (the averaging is our choice: the paper gives the softmax score at the true ID and
does not say how the patches of a clip are combined).

Backbones, trained from scratch on one-channel patches (torchvision's definitions with a
one-channel stem): MobileNetV2 of width 0.5 (``mobilenetv2_ssl``) and ResNet-50
(``resnet50_ssl``). The embedding is the globally average-pooled last feature map (1280-d
for MobileNetV2, 2048-d for ResNet-50), followed in training by torchvision's classifier
dropout (MobileNetV2: 0.2) before the head.

Augmentations (``asd_lib.augment.id_mixup_warp``) reach the model as keyword arguments:
``warp`` (:class:`~asd_lib.frontends.spectral_warp.SpectralWarp`, applied to each item's
spectrogram before the mel filterbank) and ``mix`` (:class:`~asd_lib.data.step.Mix`)
with ``mix_domain`` ``pre_log`` (power mel spectrograms mixed, then the log) or
``post_log`` (log-mel spectrograms mixed).
"""
from typing import Optional

import torch
from torch import nn
from torchvision.models import mobilenet_v2, resnet50

from asd_lib.data.step import Mix
from asd_lib.frontends.power_mel import PowerMel
from asd_lib.frontends.spectral_warp import SpectralWarp
from asd_lib.models.patches import extract_patches, num_patches
from asd_lib.models.registry import MODELS

MIX_DOMAINS = ("pre_log", "post_log")


def one_channel_stem(conv: nn.Conv2d) -> nn.Conv2d:
    """A copy of torchvision's first convolution taking one input channel (a log-mel
    patch instead of an RGB image), initialised as torchvision initialises convolutions."""
    stem = nn.Conv2d(1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                     bias=conv.bias is not None)
    nn.init.kaiming_normal_(stem.weight, mode="fan_out", nonlinearity="relu")
    if stem.bias is not None:
        nn.init.zeros_(stem.bias)
    return stem


class PatchClassifierNet(nn.Module):
    """Waveform ``[B, T]`` -> patch embeddings ``[B, P, embedding_dim]``
    (``patch_embeddings``, :mod:`asd_lib.models.traits`).

    ``frontend_conf`` overrides :class:`~asd_lib.frontends.power_mel.PowerMel` arguments
    (n_fft 1024, hop 512, 128 mels by default); ``patch_frames`` / ``patch_stride`` set the
    patches (64 / 8 in the paper).
    """

    patch_embeddings = True

    def __init__(self, backbone: nn.Module, embedding_dim: int, num_samples: int,
                 sample_rate: int, patch_frames: int, patch_stride: int, dropout: float,
                 frontend_conf: Optional[dict]):
        super().__init__()
        conf = dict(frontend_conf or {})
        if "sample_rate" in conf:
            raise ValueError("set sample_rate on the model, not inside frontend_conf")
        self.frontend = PowerMel(sample_rate=sample_rate, **conf)
        self.patch_frames = patch_frames
        self.patch_stride = patch_stride
        self.num_patches = num_patches(self.frontend.num_frames(num_samples), patch_frames,
                                       patch_stride)
        self.backbone = backbone
        self.embedding_dim = embedding_dim
        self.dropout = nn.Dropout(dropout)

    def log_mel(self, wave: torch.Tensor, mix: Optional[Mix] = None,
                mix_domain: str = "post_log", warp: Optional[SpectralWarp] = None) -> torch.Tensor:
        """The (warped, mixed) log-mel spectrogram ``[B, n_mels, frames]``."""
        if mix_domain not in MIX_DOMAINS:
            raise ValueError(f"mix_domain must be one of {MIX_DOMAINS}, got {mix_domain!r}")
        power = self.frontend(wave, warp)
        if mix is not None and mix_domain == "pre_log":
            power = mix.apply(power)
        spec = self.frontend.log(power)
        if mix is not None and mix_domain == "post_log":
            spec = mix.apply(spec)
        return spec

    def forward(self, wave: torch.Tensor, mix: Optional[Mix] = None,
                mix_domain: str = "post_log", warp: Optional[SpectralWarp] = None) -> torch.Tensor:
        patches = extract_patches(self.log_mel(wave, mix, mix_domain, warp),
                                  self.patch_frames, self.patch_stride)
        batch, count, n_mels, frames = patches.shape
        embedding = self.backbone(patches.reshape(batch * count, 1, n_mels, frames))
        return self.dropout(embedding.view(batch, count, -1))


@MODELS.register("mobilenetv2_ssl")
class MobileNetV2SSL(PatchClassifierNet):
    """MobileNetV2 (Sandler et al., CVPR 2018; torchvision ``mobilenet_v2``) of width
    ``width_mult`` (0.5 in Giri et al.) on one-channel log-mel patches."""

    def __init__(self, num_samples: int, sample_rate: int = 16000, width_mult: float = 0.5,
                 patch_frames: int = 64, patch_stride: int = 8, dropout: float = 0.2,
                 frontend_conf: Optional[dict] = None):
        net = mobilenet_v2(weights=None, width_mult=width_mult)
        net.features[0][0] = one_channel_stem(net.features[0][0])
        embedding_dim = net.last_channel
        net.classifier = nn.Identity()
        super().__init__(net, embedding_dim, num_samples, sample_rate, patch_frames,
                         patch_stride, dropout, frontend_conf)


@MODELS.register("resnet50_ssl")
class ResNet50SSL(PatchClassifierNet):
    """ResNet-50 (He et al., CVPR 2016; torchvision ``resnet50``) on one-channel log-mel
    patches: the ResNet variant of Giri et al."""

    def __init__(self, num_samples: int, sample_rate: int = 16000, patch_frames: int = 64,
                 patch_stride: int = 8, dropout: float = 0.0,
                 frontend_conf: Optional[dict] = None):
        net = resnet50(weights=None)
        net.conv1 = one_channel_stem(net.conv1)
        embedding_dim = net.fc.in_features
        net.fc = nn.Identity()
        super().__init__(net, embedding_dim, num_samples, sample_rate, patch_frames,
                         patch_stride, dropout, frontend_conf)
