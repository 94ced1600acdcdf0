"""STgram-MFN: Liu et al., "Anomalous sound detection using spectral-temporal information
fusion", ICASSP 2022 (public code liuyoude/STgram-MFN).

The same waveform feeds a fixed log-mel front-end (Sgram) and the learnable TgramNet;
the two ``n_mels x frames`` maps are stacked as 2 channels, mel first (Eq. 1 of the
paper: S = concat(Sgram, Tgram)), and MobileFaceNet turns them into an embedding.  The
classifier head (ArcFace) lives in ``asd_lib.losses``.

Parameters at 10 s (128 x 313): 1,339,798 with the paper's MobileFaceNet table, 1,150,742
with Liu_8, plus 5,248 for the ArcFace head over 41 IDs. The public code's MobileFaceNet
also computes a Linear(128, 41) ``fc_out`` whose logits the ArcFace logits replace; it is
not built here.
"""
from typing import Optional

import torch
from torch import nn

from asd_lib.frontends.mel import LogMel, to_float_waveform
from asd_lib.frontends.tgram import TgramNet
from asd_lib.models.mobilefacenet import MobileFaceNet
from asd_lib.models.registry import MODELS


@MODELS.register("stgram_mfn")
class STgramMFN(nn.Module):
    """Waveform ``[B, num_samples]`` -> embedding ``[B, embedding_dim]``.

    ``frontend_conf`` overrides ``LogMel`` arguments (STgram defaults otherwise).  The
    TgramNet follows the mel settings: ``n_mels`` channels, the mel window and hop, so
    both maps have the same shape.
    """

    def __init__(
        self,
        num_samples: int,
        sample_rate: int = 16000,
        embedding_dim: int = 128,
        table: str = "paper",
        frontend_conf: Optional[dict] = None,
    ):
        super().__init__()
        mel_conf = dict(frontend_conf or {})
        if "sample_rate" in mel_conf:
            raise ValueError(
                "STgramMFN: set sample_rate on the model, not inside frontend_conf"
            )
        self.num_samples = num_samples
        self.embedding_dim = embedding_dim
        self.mel = LogMel(sample_rate=sample_rate, **mel_conf)
        self.tgram = TgramNet(
            num_samples,
            channels=self.mel.n_mels,
            win_length=self.mel.melspec.win_length,
            hop_length=self.mel.hop_length,
        )
        mel_frames = self.mel.num_frames(num_samples)
        if mel_frames != self.tgram.num_frames:
            raise ValueError(
                f"STgramMFN: log-mel gives {mel_frames} frames but TgramNet gives "
                f"{self.tgram.num_frames}; use centred frames with an even win_length"
            )
        self.backbone = MobileFaceNet(
            in_channels=2,
            embedding_dim=embedding_dim,
            table=table,
            input_hw=(self.mel.n_mels, mel_frames),
        )

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """The 2-channel backbone input ``[B, 2, n_mels, frames]``: log-mel, then Tgram."""
        wave = to_float_waveform(wave)
        if wave.dim() != 2 or wave.shape[1] != self.num_samples:
            raise ValueError(
                f"STgramMFN expects waveforms [B, {self.num_samples}]; got shape "
                f"{tuple(wave.shape)} (crop or pad clips to the configured length)"
            )
        return torch.stack([self.mel(wave), self.tgram(wave)], dim=1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.features(wave))
