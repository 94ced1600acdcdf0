"""Front-ends run as nn.Modules on the training device: log-mel variants, Tgram, TFgram,
temporal attention, spectral warping. Models build the ones they need directly."""
