"""TASTgram-MFN: Choi & Choi, "Noisy-ArcMix: Additive noisy angular margin loss combined
with mixup for anomalous sound detection", ICASSP 2024 (public code soonhyeon/Noisy-ArcMix).

Three stacked maps, in the order of the paper and code: the Tgram of the (mixed) waveform,
the Slaney log-mel (``10 log10(S + 2.2e-16)``, the code's Python float epsilon) and its
parameter-free temporal attention (TAgram), embedded by the Liu_8 MobileFaceNet.  Trained
with the ``noisy_arcmix`` objective and waveform + log-mel mixup
(``conf/tuning/train_tastgram_noisy_arcmix.yaml``).

Parameters at 10 s (128 x 313): 1,151,318, the ArcFace head apart; the code's MobileFaceNet
``fc_out`` (Linear(128, 41), computed and replaced by the ArcFace logits) is not built here.
"""
import sys
from typing import Optional, Sequence

from asd_lib.models.feature_stack import FeatureStackMFN
from asd_lib.models.registry import MODELS

TASTGRAM_INPUTS = ("tgram", "mel", "tagram")


@MODELS.register("tastgram")
class TASTgramMFN(FeatureStackMFN):
    """Waveform ``[B, num_samples]`` (+ ``mix``) -> embedding ``[B, embedding_dim]``."""

    # The Noisy-ArcMix code's log: 20 / power * log10(S + sys.float_info.epsilon), power 2.
    log_compression = {"log": "offset", "offset": sys.float_info.epsilon}

    def __init__(
        self,
        num_samples: int,
        sample_rate: int = 16000,
        inputs: Sequence[str] = TASTGRAM_INPUTS,
        embedding_dim: int = 128,
        table: str = "liu8",
        mel_conf: Optional[dict] = None,
        tgram_conf: Optional[dict] = None,
    ):
        super().__init__(num_samples, sample_rate, inputs, embedding_dim, table, mel_conf,
                         tgram_conf)
