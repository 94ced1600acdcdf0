"""Log-mel spectrogram front-end, computed on the training device from the waveform.

Two published log compressions are supported:

* ``log="clamp"``: ``10 * log10(max(S, 1e-10))``, torchaudio's ``AmplitudeToDB`` (power,
  ``amin`` 1e-10, reference 1, no ``top_db``), so digital silence is -100 dB -- STgram-MFN
  (Liu et al., ICASSP 2022, public code liuyoude/STgram-MFN) and OS-SCL (Huang, Fang, He,
  public code huangswt/OS-SCL), no normalisation afterwards.
* ``log="offset"``: ``10 * log10(S + eps)``, ``eps`` = the ``offset`` argument, by default
  ``torch.finfo(float32).eps`` -- TASTgram / Noisy-ArcMix (Choi & Choi, ICASSP 2024), whose
  public code adds Python's float epsilon (``sys.float_info.epsilon``, 2.22e-16, so
  silence is about -156.5 dB), which ``offset`` reproduces.

``S`` is the power mel spectrogram of torchaudio's ``MelSpectrogram``, computed from that
module's window and filterbank by :func:`power_mel` in plain tensor operations: one graph
for ``torch.compile`` (torchaudio's wrapper breaks it), and ``|X|^2`` formed as
``re^2 + im^2`` in one pass rather than as the square of a complex magnitude. The two
agree to float rounding (3.4e-7 relative with the STgram settings; a test holds them
to 2e-6). The STgram defaults (16 kHz, n_fft = win = 1024, hop 512, 128 HTK mels, no
filter norm, centred frames with reflect padding) turn a 10 s clip into 128 x 313.
"""
from typing import Optional

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

CLAMP_FLOOR = 1e-10
LOG_MODES = ("clamp", "offset")


def to_float_waveform(wave: torch.Tensor) -> torch.Tensor:
    """Return ``wave`` as a float waveform.

    int16 PCM (as dumped by kaldiio) is scaled by 1 / 32768 into [-1, 1); floating-point
    input is returned unchanged.  Other dtypes raise a ValueError.
    """
    if wave.dtype == torch.int16:
        return wave.to(torch.float32) / 32768.0
    if wave.is_floating_point():
        return wave
    raise ValueError(
        f"waveform has dtype {wave.dtype}; expected int16 PCM or a floating-point tensor "
        "(convert the audio to 16-bit PCM or float before feeding the front-end)"
    )


def power_spectrogram(spec: torchaudio.transforms.Spectrogram, wave: torch.Tensor) -> torch.Tensor:
    """``spec(wave)`` for a power spectrogram without normalisation and ``wave``
    ``[..., T]``: STFT with its window, ``|X|^p`` from the real and imaginary parts;
    ``[..., n_freq, frames]``. While the ONNX exporter traces it, the STFT returns the
    (re, im) pairs directly, as the exporter follows no complex tensor."""
    if spec.pad > 0:
        wave = F.pad(wave, (spec.pad, spec.pad))
    exporting = torch.onnx.is_in_onnx_export()
    frames = torch.stft(wave.reshape(-1, wave.shape[-1]), spec.n_fft, spec.hop_length,
                        spec.win_length, spec.window, center=spec.center,
                        pad_mode=spec.pad_mode, normalized=False, onesided=spec.onesided,
                        return_complex=not exporting)
    parts = frames if exporting else torch.view_as_real(frames)
    energy = parts.square().sum(-1)  # |X|^2
    power = energy if spec.power == 2.0 else energy.pow(spec.power / 2)
    return power.reshape(wave.shape[:-1] + power.shape[-2:])


def power_mel(melspec: torchaudio.transforms.MelSpectrogram, wave: torch.Tensor) -> torch.Tensor:
    """``melspec(wave)`` for ``wave`` ``[B, T]``: :func:`power_spectrogram`, then the mel
    filterbank (``melspec.mel_scale``); ``[B, n_mels, frames]``."""
    return melspec.mel_scale(power_spectrogram(melspec.spectrogram, wave))


class LogMel(nn.Module):
    """Waveform ``[B, T]`` -> log-mel ``[B, n_mels, frames]`` in dB.

    Args mirror ``torchaudio.transforms.MelSpectrogram``; ``log`` picks the compression
    and ``offset`` the ``eps`` of ``log="offset"`` (see the module docstring).
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        win_length: int = 1024,
        hop_length: int = 512,
        n_mels: int = 128,
        power: float = 2.0,
        center: bool = True,
        pad_mode: str = "reflect",
        mel_scale: str = "htk",
        norm=None,
        log: str = "clamp",
        offset: Optional[float] = None,
    ):
        super().__init__()
        if log not in LOG_MODES:
            raise ValueError(f"LogMel: unknown log={log!r}; choose one of {LOG_MODES}")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.center = center
        self.log = log
        self.offset = torch.finfo(torch.float32).eps if offset is None else float(offset)
        if self.offset <= 0:
            raise ValueError(f"LogMel: offset must be > 0 (log of zero), got {offset}")
        self.melspec = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            n_mels=n_mels,
            power=power,
            center=center,
            pad_mode=pad_mode,
            mel_scale=mel_scale,
            norm=norm,
        )

    def num_frames(self, num_samples: int) -> int:
        """Number of frames the front-end yields for a clip of ``num_samples`` samples."""
        if self.center:
            return 1 + num_samples // self.hop_length
        if num_samples < self.n_fft:
            raise ValueError(
                f"LogMel: a clip of {num_samples} samples is shorter than n_fft={self.n_fft}"
            )
        return 1 + (num_samples - self.n_fft) // self.hop_length

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.dim() != 2:
            raise ValueError(
                f"LogMel expects a batch of waveforms [B, T]; got shape {tuple(wave.shape)}"
            )
        mel = power_mel(self.melspec, to_float_waveform(wave))
        if self.log == "clamp":
            return 10.0 * torch.log10(torch.clamp(mel, min=CLAMP_FLOOR))
        return 10.0 * torch.log10(mel + self.offset)
