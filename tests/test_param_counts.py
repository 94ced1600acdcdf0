"""Paper-size models have the parameter counts of the authors' public code, less the layers
that code builds and never uses, or computes and throws away.

Every count below is for 10 s clips at 16 kHz (128 x 313 maps) and the 41 machine IDs of
DCASE 2020, taken as the sum of ``numel`` over the public model's parameters, minus:

* MobileFaceNet's ``fc_out`` (Linear(128, 41), 5,289 parameters), which every one of these
  codes computes and then replaces by the ArcFace logits;
* the ArcFace head (41 x 128 = 5,248), which asd_lib keeps apart from the model
  (``head: arcface``) and counts separately;
* in OS-SCL's TFgram module, the rest of the PANNs Wavegram-Logmel network that it builds
  and never calls (79,797,225 parameters), and for its mel-only model the TgramNet and
  TFgram that its forward computes and discards.
"""
import pytest

from asd_lib.losses import HEADS
from asd_lib.models import MODELS

CLIP = 160_000  # 10 s at 16 kHz
NUM_IDS = 41


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name, conf, count", [
    # liuyoude/STgram-MFN net.py, STGramMFN(41, use_arcface=True) with the MobileFaceNet table
    # of the paper (kept commented out in that file): 1,350,335 - fc_out - ArcFace.
    ("stgram_mfn", {"table": "paper"}, 1_339_798),
    # The same code with its current Liu_8 table: 1,161,279 - fc_out - ArcFace.
    ("stgram_mfn", {"table": "liu8"}, 1_150_742),
    # soonhyeon/Noisy-ArcMix model/net.py, TASTgramMFN (3 input channels, Liu_8; the
    # temporal attention has no parameters): 1,161,855 - fc_out - ArcFace.
    ("tastgram", {}, 1_151_318),
    # huangswt/OS-SCL model/net.py, SCLTFSTgramMFN --fussion 1 --ht basic: 81,174,760 -
    # unused TFgram layers - fc_out - ArcFace; the FPH (BasicHead) is 16,960 of it.
    ("osscl", {}, 1_366_998),
    ("osscl", {"perturbation_head": None}, 1_350_038),
    # The same with --fussion 2 --ht leaky_relu (mel only): 81,173,608 - unused TFgram
    # layers - fc_out - ArcFace - the discarded TgramNet (280,406) and TFgram (198,720).
    ("osscl", {"inputs": ["mel"], "perturbation_head": "leaky_relu"}, 886_720),
    ("osscl", {"inputs": ["mel"], "perturbation_head": None}, 869_760),
])
def test_paper_size_models_match_the_public_code(name, conf, count):
    model = MODELS.build(name, num_samples=CLIP, **conf)
    assert model.backbone.input_hw == (128, 313)
    assert n_params(model) == count


def test_arcface_head_size():
    # ArcMarginProduct(128, 41) of the same codes: one 128-d weight row per machine ID.
    head = HEADS.build("arcface", embedding_dim=128, num_classes=NUM_IDS, margin=0.7, scale=30.0)
    assert n_params(head) == 5_248
    stgram = MODELS.build("stgram_mfn", num_samples=CLIP, table="paper")
    assert n_params(stgram) + n_params(head) == 1_345_046
