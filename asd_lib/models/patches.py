"""Overlapping time patches of a spectrogram.

Giri et al. (DCASE 2020 Task 2) classify 64-frame log-mel patches, successive patches
overlapping by 56 frames (a stride of 8 frames): a 313-frame clip gives
``1 + (313 - 64) // 8 = 32`` patches, patch ``i`` being frames ``[8 i, 8 i + 64)``.
"""
import torch


def num_patches(frames: int, length: int, stride: int) -> int:
    """``1 + (frames - length) // stride``; a ValueError when the clip is shorter than a patch."""
    if length < 1 or stride < 1:
        raise ValueError(f"patches: length and stride must be >= 1, got {length}, {stride}")
    if frames < length:
        raise ValueError(f"patches: {frames} frames are fewer than one patch of {length}; "
                         "use longer clips or a shorter patch_frames")
    return 1 + (frames - length) // stride


def extract_patches(spec: torch.Tensor, length: int, stride: int) -> torch.Tensor:
    """``[B, n_mels, frames]`` -> ``[B, P, n_mels, length]``, patch ``i`` = frames
    ``[stride * i, stride * i + length)`` (trailing frames that fill no patch are dropped)."""
    num_patches(spec.shape[-1], length, stride)
    return spec.unfold(-1, length, stride).permute(0, 2, 1, 3)
