"""MobileFaceNet backbone as used for machine sound embeddings.

Architecture: Chen et al., "MobileFaceNets: Efficient CNNs for accurate real-time face
verification on mobile devices", CCBR 2018, Table 1; adapted to 2-channel spectrogram
input by Liu et al. (STgram-MFN, ICASSP 2022; public code liuyoude/STgram-MFN, net.py).

Layers (every conv without bias, each followed by BatchNorm):

* stem: 3x3 conv stride 2 + PReLU, then a 3x3 depthwise conv stride 1 + PReLU;
* inverted-residual bottlenecks from a table of rows (t, c, n, s): n blocks of
  1x1 expand (x t) + PReLU, 3x3 depthwise (stride s in the first block of the row,
  1 afterwards) + PReLU, 1x1 linear projection to c; identity shortcut when the stride
  is 1 and the channel count is unchanged;
* 1x1 conv to 512 + PReLU;
* global depthwise conv (GDC) whose kernel covers the whole final map (8 x 20 for a
  128 x 313 input), linear;
* 1x1 conv 512 -> embedding_dim, linear; flattened to ``[B, embedding_dim]``.

Tables:

* ``paper``: the MobileFaceNet / STgram-MFN paper table;
* ``liu8``: the shallower table of Liu et al., DCASE 2022 Task 2 report (Liu_8), used by
  TASTgram, OS-SCL and later STgram-MFN code.

Parameter counts with 2 input channels, 128 x 313 input and 128-d embedding:
1,059,392 (``paper``) and 870,336 (``liu8``); only the GDC kernel depends on the input
size (128 x 63: 993,856 / 804,800).  STgram-MFN adds 280,406 for TgramNet
(1,339,798 in all with the paper table).

Initialisation follows the public code: He-normal with fan-out for every conv,
BatchNorm weight 1 and bias 0.
"""
from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

from asd_lib.models.registry import MODELS

# (t = expansion, c = output channels, n = repeats, s = stride of the first repeat)
BOTTLENECK_TABLES: Dict[str, List[Tuple[int, int, int, int]]] = {
    "paper": [(2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1)],
    "liu8": [(2, 128, 2, 2), (4, 128, 2, 2), (4, 128, 2, 2)],
}
STEM_CHANNELS = 64
FEATURE_CHANNELS = 512


class ConvBlock(nn.Sequential):
    """Conv2d (no bias) + BatchNorm, followed by PReLU unless ``linear``."""

    def __init__(self, c_in, c_out, kernel, stride=1, padding=0, depthwise=False, linear=False):
        layers = [
            nn.Conv2d(
                c_in, c_out, kernel, stride, padding, groups=c_in if depthwise else 1, bias=False
            ),
            nn.BatchNorm2d(c_out),
        ]
        if not linear:
            layers.append(nn.PReLU(c_out))
        super().__init__(*layers)


class Bottleneck(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise with stride, 1x1 linear projection."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int):
        super().__init__()
        hidden = c_in * expansion
        self.use_shortcut = stride == 1 and c_in == c_out
        self.body = nn.Sequential(
            ConvBlock(c_in, hidden, 1),
            ConvBlock(hidden, hidden, 3, stride, 1, depthwise=True),
            ConvBlock(hidden, c_out, 1, linear=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.use_shortcut else out


def _conv3x3_out(size: int, stride: int) -> int:
    """Output length of a 3-tap conv with padding 1."""
    return (size - 1) // stride + 1


def final_map_size(input_hw: Sequence[int], table: Sequence[Tuple[int, int, int, int]]):
    """Height and width of the feature map entering the GDC for an ``input_hw`` input."""
    height, width = (_conv3x3_out(v, 2) for v in input_hw)
    for _, _, _, stride in table:
        height, width = _conv3x3_out(height, stride), _conv3x3_out(width, stride)
    return height, width


@MODELS.register("mobilefacenet")
class MobileFaceNet(nn.Module):
    """Feature map ``[B, in_channels, H, W]`` -> embedding ``[B, embedding_dim]``.

    ``input_hw`` = (H, W) fixes the GDC kernel; another input size is rejected.
    """

    def __init__(
        self,
        in_channels: int = 2,
        embedding_dim: int = 128,
        table: str = "paper",
        input_hw: Sequence[int] = (128, 313),
    ):
        super().__init__()
        if table not in BOTTLENECK_TABLES:
            raise ValueError(
                f"MobileFaceNet: unknown table {table!r}; choose one of {sorted(BOTTLENECK_TABLES)}"
            )
        rows = BOTTLENECK_TABLES[table]
        self.input_hw = tuple(int(v) for v in input_hw)
        self.gdc_kernel = final_map_size(self.input_hw, rows)

        self.stem = nn.Sequential(
            ConvBlock(in_channels, STEM_CHANNELS, 3, 2, 1),
            ConvBlock(STEM_CHANNELS, STEM_CHANNELS, 3, 1, 1, depthwise=True),
        )
        blocks, channels = [], STEM_CHANNELS
        for expansion, c_out, repeats, stride in rows:
            for i in range(repeats):
                blocks.append(Bottleneck(channels, c_out, stride if i == 0 else 1, expansion))
                channels = c_out
        self.blocks = nn.Sequential(*blocks)
        self.expand = ConvBlock(channels, FEATURE_CHANNELS, 1)
        self.gdc = ConvBlock(
            FEATURE_CHANNELS, FEATURE_CHANNELS, self.gdc_kernel, depthwise=True, linear=True
        )
        self.embed = ConvBlock(FEATURE_CHANNELS, embedding_dim, 1, linear=True)
        self._init_weights()

    def _init_weights(self):
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[-2:]) != self.input_hw:
            raise ValueError(
                f"MobileFaceNet built for input [B, C, {self.input_hw[0]}, {self.input_hw[1]}]; "
                f"got shape {tuple(x.shape)} (set input_hw to the feature size)"
            )
        x = self.gdc(self.expand(self.blocks(self.stem(x))))
        return self.embed(x).flatten(1)
