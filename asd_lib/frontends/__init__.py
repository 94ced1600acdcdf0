"""Front-ends run as nn.Modules on the training device (log-mel, Tgram, ...).

Importing the package registers every front-end in ``FRONTENDS``.
"""
from asd_lib.frontends.registry import FRONTENDS
from asd_lib.frontends.mel import LogMel, to_float_waveform
from asd_lib.frontends.tgram import TgramNet

__all__ = ["FRONTENDS", "LogMel", "TgramNet", "to_float_waveform"]
