"""Front-ends run as nn.Modules on the training device (log-mel, Tgram, ...).

Importing the package imports every module in it, which registers its front-ends in
``FRONTENDS``.
"""
from asd_lib.frontends.registry import FRONTENDS
from asd_lib.utils.plugins import import_all

import_all(__name__, __path__)

__all__ = ["FRONTENDS"]
