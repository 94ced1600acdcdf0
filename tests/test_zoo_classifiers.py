"""ID-classifier zoo (DCASE 2020): CLP-SCF, TASTgram + Noisy-ArcMix, OS-SCL.

Exact shapes and parameter counts at 1 s clips (128 x 32 maps), the losses against hand
computations, the front-ends against their formulas, the sampler and EMA, and short CPU
runs of every method's debug config on the toy set of tests/test_train.py.
"""
import csv
from collections import Counter
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from sklearn.metrics import roc_auc_score

from asd_lib.data.samplers import SAMPLERS
from asd_lib.data.step import Mix, Step, as_output, forward
from asd_lib.frontends.tagram import TemporalAttention
from asd_lib.frontends.tfgram import TFgramNet
from asd_lib.inference.scores import FORWARD_SCORES
from asd_lib.losses import HEADS, OBJECTIVES
from asd_lib.losses.supcon import supcon_loss
from asd_lib.models import MODELS
from asd_lib.models.fph import FeaturePerturbationHead
from asd_lib.train import trainer as trainer_module
from asd_lib.train.ema import WeightEma
from asd_lib.train.optim import OPTIMIZERS
from asd_lib.utils.fileio import read_kv, write_kv
from inference_helpers import run_stage4
from test_train import NUM_SAMPLES, SR, make_dumped_set
from train_helpers import train_with

CONF = Path(__file__).resolve().parents[1] / "egs" / "dcase20" / "asd1" / "conf" / "tuning"
CLASSES = ("fan_id_00", "fan_id_02", "pump_id_00")


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# Hand counts at 128 x 32 (1 s): MobileFaceNet Liu_8 with 2 input channels is 796,608
# (tests/test_models.py); every further input channel adds one 3x3 stem kernel of 64 filters.
# The paper table at 128 x 63 is 993,856 with an 8 x 4 GDC; at 128 x 32 the GDC is 8 x 2.
def mfn_liu8(channels):
    return 796_608 + (channels - 2) * 64 * 3 * 3


MFN_PAPER_2CH = 993_856 - 512 * 8 * (4 - 2)
TGRAM = 128 * 1024 + 3 * (2 * 32 + 128 * 128 * 3)  # extractor + 3 x (LayerNorm(32) + conv)
TFGRAM = (
    64 * 11 + 2 * 64  # stem conv + BN
    + (64 * 64 * 3 + 2 * 64) * 2  # block 64 -> 64: conv + BN, dilated conv + BN
    + (64 * 128 * 3 + 2 * 128) + (128 * 128 * 3 + 2 * 128)  # block 64 -> 128
    + (128 * 128 * 3 + 2 * 128) * 2  # block 128 -> 128
)
PROJECTOR = 2 * (128 * 128 + 128)
CLASSIFIER = 128 * 128 + 128  # CLP-SCF's C: Linear(128, 128)
FPH = (128 * 64 + 64) + 2 * 64 + (64 * 128 + 128) + 2 * 128


# ---------------------------------------------------------------- front-ends and models

def test_temporal_attention_matches_formula():
    log_mel = torch.tensor([[[1.0, -2.0], [3.0, 0.0], [-1.0, 4.0]]])  # [1, 3 mels, 2 frames]
    # frame 0: max 3 + mean 1 = 4; frame 1: max 4 + mean 2/3
    weights = torch.tensor([1 / (1 + np.exp(-4.0)), 1 / (1 + np.exp(-(4 + 2 / 3)))])
    expected = log_mel * weights.float()
    assert torch.allclose(TemporalAttention()(log_mel), expected, atol=1e-7)
    assert n_params(TemporalAttention()) == 0
    with pytest.raises(ValueError, match="n_mels, frames"):
        TemporalAttention()(torch.zeros(3, 2))


def test_tfgram_layers_shapes_and_count():
    net = TFgramNet(NUM_SAMPLES, num_frames=32)
    assert n_params(net) == TFGRAM == 198_720
    lengths = []
    hooks = [m.register_forward_hook(lambda m, i, o: lengths.append(o.shape[1:]))
             for m in (net.stem, *net.blocks)]
    assert net(torch.randn(2, NUM_SAMPLES)).shape == (2, 128, 32)
    for h in hooks:
        h.remove()
    # stem (16000 + 10 - 11) / 5 + 1 = 3200, max-pool 4 -> 800, adaptive -> 64, -> 32
    assert lengths == [(64, 3200), (64, 3200), (64, 800), (128, 800), (128, 64), (128, 64),
                       (128, 32)]
    assert TFgramNet(160_000, num_frames=313)(torch.randn(1, 160_000)).shape == (1, 128, 313)
    with pytest.raises(ValueError, match="adaptive pooling"):
        TFgramNet(1600, num_frames=313)


@pytest.mark.parametrize("name, conf, count", [
    ("clp_scf", {}, TGRAM + MFN_PAPER_2CH + PROJECTOR + CLASSIFIER),
    ("tastgram", {}, TGRAM + mfn_liu8(3)),
    ("osscl", {}, TGRAM + TFGRAM + mfn_liu8(3) + FPH),
    ("osscl", {"perturbation_head": None}, TGRAM + TFGRAM + mfn_liu8(3)),
    ("osscl", {"inputs": ["mel"], "perturbation_head": None}, mfn_liu8(1)),
    ("osscl", {"inputs": ["mel"], "perturbation_head": "leaky_relu"}, mfn_liu8(1) + FPH),
])
def test_model_parameter_counts_and_shapes(name, conf, count):
    model = MODELS.build(name, num_samples=NUM_SAMPLES, **conf)
    assert n_params(model) == count
    assert model.embedding_dim == 128
    with torch.no_grad():
        assert as_output(model.eval()(torch.randn(2, NUM_SAMPLES)))["embedding"].shape == (2, 128)


def test_clp_scf_classifier_follows_the_projector():
    """Fig. 1(b): backbone -> projector P (z_i) -> classifier C (h_i); ArcFace and the score
    read h_i, the pretraining SupCon z_i."""
    torch.manual_seed(0)
    model = MODELS.build("clp_scf", num_samples=NUM_SAMPLES).eval()
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()
              if n.startswith(("projector.", "classifier."))}
    assert shapes == {"projector.0.weight": (128, 128), "projector.0.bias": (128,),
                      "projector.2.weight": (128, 128), "projector.2.bias": (128,),
                      "classifier.weight": (128, 128), "classifier.bias": (128,)}
    wave = torch.randn(3, NUM_SAMPLES)
    with torch.no_grad():
        out = model(wave)
        z = model.projector(model.backbone(wave))
        assert torch.allclose(out["projection"], z)
        assert torch.allclose(out["embedding"], model.classifier(z))
        assert not torch.allclose(out["embedding"], z, atol=1e-2)
    step = forward(model, Step(wave, torch.tensor([0, 1, 1])))
    pretrain = OBJECTIVES.build("supcon", temperature=0.05, output="projection")
    expected = supcon_loss(F.normalize(step.out["projection"], dim=1), step.labels, 0.05)
    assert pretrain(step, None)[0].item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="no output 'projected'"):
        OBJECTIVES.build("supcon", output="projected")(step, None)


def test_stacked_inputs_order_and_shared_mixing():
    torch.manual_seed(0)
    model = MODELS.build("tastgram", num_samples=NUM_SAMPLES).eval()
    wave = (1000 * torch.randn(3, NUM_SAMPLES)).to(torch.int16)
    mix = Mix(lam=torch.tensor(0.3), perm=torch.tensor([2, 0, 1]))
    with torch.no_grad():
        feats = model.features(wave, mix)
        floats = wave.float() / 32768
        mel = mix.apply(model.mel(floats))  # log-mel of the clean clips, then mixed
        assert feats.shape == (3, 3, 128, 32)
        assert torch.allclose(feats[:, 0], model.tgram(mix.apply(floats)), atol=1e-5)
        assert torch.allclose(feats[:, 1], mel, atol=1e-4)
        assert not torch.allclose(feats[:, 1], model.mel(mix.apply(floats)), atol=1e-1)
        assert torch.allclose(feats[:, 2], TemporalAttention()(mel), atol=1e-4)
    # Slaney mel front-end: n_fft 2048, constant padding, Slaney scale and norm, log offset
    melspec = model.mel.melspec
    assert (melspec.n_fft, melspec.win_length, melspec.hop_length) == (2048, 2048, 512)
    assert melspec.spectrogram.pad_mode == "constant"
    assert (melspec.mel_scale.mel_scale, melspec.mel_scale.norm) == ("slaney", "slaney")
    assert model.tgram.extractor.kernel_size == (1024,)
    assert (model.mel.log, model.mel.offset) == ("offset", 2.0 ** -52)
    osscl = MODELS.build("osscl", num_samples=NUM_SAMPLES, inputs=["mel", "tgram", "tfgram"])
    with torch.no_grad():
        feats = osscl.eval().features(wave)
        assert torch.allclose(feats[:, 2], osscl.tfgram(floats), atol=1e-6)
    with pytest.raises(ValueError, match="inputs must be"):
        MODELS.build("osscl", num_samples=NUM_SAMPLES, inputs=["mel", "mel"])
    with pytest.raises(ValueError, match="inputs must be"):
        MODELS.build("osscl", num_samples=NUM_SAMPLES, inputs=["sgram"])


@pytest.mark.parametrize("name, floor_db", [
    ("osscl", -100.0),                        # the code's AmplitudeToDB: max(S, 1e-10)
    ("tastgram", 10 * np.log10(2.0 ** -52)),  # the Noisy-ArcMix code's S + 2.2e-16
])
def test_log_mel_of_digital_silence(name, floor_db):
    model = MODELS.build(name, num_samples=NUM_SAMPLES)
    log_mel = model.mel(torch.zeros(2, NUM_SAMPLES, dtype=torch.int16))
    assert log_mel.shape == (2, 128, 32)
    assert torch.allclose(log_mel, torch.full_like(log_mel, floor_db), atol=1e-4)
    assert floor_db == -100.0 or floor_db == pytest.approx(-156.536, abs=1e-3)


def test_osscl_fph_feeds_arcface_and_the_score():
    """The FPH output is the model's embedding: ArcFace and -log p(true ID) read it, so
    changing only the FPH's weights changes every clip's anomaly score."""
    torch.manual_seed(0)
    model = MODELS.build("osscl", num_samples=NUM_SAMPLES).eval()
    head = HEADS.build("arcface", embedding_dim=128, num_classes=3, margin=0.4).eval()
    wave = (3000 * torch.randn(4, NUM_SAMPLES)).to(torch.int16)
    labels = torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        embedding = model(wave)
        plain = model.backbone(model.features(wave))
        assert torch.allclose(embedding, model.perturbation(plain))
        assert torch.allclose(embedding.norm(dim=1), torch.ones(4), atol=1e-6)
        neg_log_prob = FORWARD_SCORES["neg_log_prob"].per_class
        before = neg_log_prob(head(embedding, labels), labels)
        model.perturbation.layers[3].weight.mul_(-0.5)  # Linear(64, 128) of the FPH
        after = neg_log_prob(head(model(wave), labels), labels)
    assert (before - after).abs().min() > 1e-3
    step = forward(model.train(), Step(wave, labels))  # what Noisy-ArcMix and SupCon read
    assert torch.allclose(step.embedding.norm(dim=1), torch.ones(4), atol=1e-6)


def test_osscl_configs_follow_the_paper():
    for name, activation, margin in (("osscl_tfstgram", "relu", 0.4),
                                     ("osscl_mel", "leaky_relu", 0.7)):
        config = yaml.safe_load((CONF / f"train_{name}.yaml").read_text())
        assert config["model_conf"]["perturbation_head"] == activation
        assert config["model_conf"]["perturbation_dim"] == 64
        assert config["head_conf"] == {"margin": margin, "scale": 30.0}
        losses_ = config["stages"][0]["losses"]
        assert [term["name"] for term in losses_] == ["supcon", "noisy_arcmix"]
        assert losses_[0]["conf"] == {"temperature": 0.02, "held_out": False}


# ---------------------------------------------------------------- losses

def supcon_by_hand(z, labels, tau, base):
    """Khosla et al. Eq. 2 written out anchor by anchor."""
    per_anchor = []
    for i in range(len(z)):
        others = [a for a in range(len(z)) if a != i]
        positives = [p for p in others if labels[p] == labels[i]]
        denominator = sum(np.exp(z[i] @ z[a] / tau) for a in others)
        terms = [np.log(np.exp(z[i] @ z[p] / tau) / denominator) for p in positives]
        per_anchor.append(-np.mean(terms) if terms else 0.0)
    return tau / base * np.mean(per_anchor)


def test_supcon_matches_hand_computation():
    z = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.8, 0.6]])
    features = torch.tensor(z)
    # tau = 1: anchors 0 and 3 give log(e^.6 + 1 + e^-.8) - .6, anchors 1 and 2
    # log(e^.6 + e^.8 + 1) - .6; the mean is 0.802079
    loss = supcon_loss(features, torch.tensor([0, 0, 1, 1]), temperature=1.0)
    assert loss.item() == pytest.approx(0.802078672109807, abs=1e-12)
    for labels, tau, base in (([0, 0, 1, 1], 0.05, 0.05), ([0, 0, 1, 2], 0.02, 0.07),
                              ([1, 1, 1, 0], 0.5, 0.07)):
        ours = supcon_loss(features, torch.tensor(labels), tau, base).item()
        assert ours == pytest.approx(supcon_by_hand(z, labels, tau, base), rel=1e-10)
    single = F.normalize(torch.randn(1, 4), dim=1).requires_grad_()
    loss = supcon_loss(single, torch.tensor([0]), temperature=0.05)
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(single.grad, torch.zeros(1, 4))


def test_supcon_objective_normalises_and_uses_labels_a():
    torch.manual_seed(0)
    embedding = torch.randn(4, 8)
    labels = torch.tensor([0, 1, 0, 1])
    step = Step(wave=torch.zeros(4, 1), labels=labels,
                mix=Mix(torch.tensor(0.2), torch.tensor([1, 0, 3, 2])),
                out={"embedding": 3 * embedding})
    loss, logits = OBJECTIVES.build("supcon", temperature=0.05)(step, None)
    expected = supcon_by_hand(F.normalize(embedding, dim=1).double().numpy(), [0, 1, 0, 1],
                              0.05, 0.05)
    assert logits is None and loss.item() == pytest.approx(expected, rel=1e-5)
    objective = OBJECTIVES.build("supcon", held_out=False).eval()
    assert objective(step, None)[0].item() == 0.0


class FixedLogits:
    """A head stub returning set logits and recording the labels it was given."""

    def __init__(self, logits):
        self.logits = logits
        self.labels = None

    def __call__(self, embedding, labels=None):
        self.labels = labels
        return self.logits


def test_noisy_arcmix_matches_hand_value():
    z = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [0.0, 0.0, 3.0], [1.0, -1.0, 0.0]])
    y_a, perm, lam = np.array([0, 1, 2, 0]), np.array([1, 0, 3, 2]), 0.3
    y_b = y_a[perm]  # [1, 0, 0, 2]
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    rows = np.arange(4)
    expected = np.mean(lam * -log_p[rows, y_a] + (1 - lam) * -log_p[rows, y_b])
    head = FixedLogits(torch.tensor(z))
    step = Step(wave=torch.zeros(4, 1), labels=torch.tensor(y_a),
                mix=Mix(torch.tensor(lam, dtype=torch.float64), torch.tensor(perm)),
                out={"embedding": torch.zeros(4, 2)})
    loss, logits = OBJECTIVES.build("noisy_arcmix")(step, head)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert head.labels.tolist() == y_a.tolist()  # the margin goes to y_a only
    assert logits is head.logits
    step.mix = None  # held-out batches: plain margin cross-entropy
    loss, _ = OBJECTIVES.build("noisy_arcmix")(step, head)
    assert loss.item() == pytest.approx(np.mean(-log_p[rows, y_a]), rel=1e-12)


def test_fph_matches_formula():
    torch.manual_seed(0)
    for activation, act in (("relu", F.relu), ("leaky_relu", lambda v: F.leaky_relu(v, 0.01))):
        fph = FeaturePerturbationHead(8, 4, activation=activation).train()
        lin1, _, bn1, lin2, _, bn2 = fph.layers
        for bn in (bn1, bn2):
            torch.nn.init.uniform_(bn.weight, 0.5, 1.5)
            torch.nn.init.uniform_(bn.bias, -0.5, 0.5)
        x = torch.randn(6, 8)

        def batch_norm(h, bn):
            mean, var = h.mean(0), h.var(0, unbiased=False)
            return (h - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias

        h = batch_norm(act(x @ lin1.weight.T + lin1.bias), bn1)
        h = batch_norm(act(h @ lin2.weight.T + lin2.bias), bn2)
        expected = h / h.norm(dim=1, keepdim=True)
        assert torch.allclose(fph(x), expected, atol=1e-5)
    assert n_params(FeaturePerturbationHead()) == FPH == 16_960
    with pytest.raises(ValueError, match="activation"):
        FeaturePerturbationHead(activation="gelu")


def test_fph_supcon_owns_head_and_skips_held_out():
    objective = OBJECTIVES.build("fph_supcon", activation="leaky_relu")
    assert n_params(objective) == FPH
    assert isinstance(objective.head.layers[1], torch.nn.LeakyReLU)
    torch.manual_seed(0)
    step = Step(wave=torch.zeros(6, 1), labels=torch.tensor([0, 0, 1, 1, 2, 2]),
                out={"embedding": torch.randn(6, 128)})
    loss, _ = objective.train()(step, None)
    expected = supcon_loss(objective.head(step.embedding), step.labels, 0.02)  # Eq. 1
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5) and loss.item() > 0
    coded = OBJECTIVES.build("fph_supcon", activation="leaky_relu", base_temperature=0.07)
    coded.train()
    coded.head.load_state_dict(objective.head.state_dict())
    assert coded(step, None)[0].item() == pytest.approx(loss.item() * 0.02 / 0.07, rel=1e-5)
    assert objective.eval()(step, None)[0].item() == 0.0  # best epoch by the CE alone


# ---------------------------------------------------------------- sampler and EMA

def test_class_balanced_sampler_gives_k_per_class():
    labels = [0, 1, 0, 2, 0, 1, 2, 0, 1, 0]  # class sizes 5, 3, 2
    sampler = SAMPLERS.build("class_balanced", labels=labels, batch_size=999,
                             generator=torch.Generator().manual_seed(0), per_class=2)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 3  # ceil(5 / 2)
    for batch in batches:
        assert Counter(labels[i] for i in batch) == {0: 2, 1: 2, 2: 2}
    seen = {i for batch in batches for i in batch}
    assert seen == set(range(10))  # the largest class (and every other) fully seen


def test_ema_update_matches_formula():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = WeightEma([module], decay=0.9)
    old = {k: v.clone() for k, v in ema.state_dicts()[0].items()}
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p))
    module.train()(torch.randn(4, 3))  # moves running stats and the batch counter
    ema.update()
    new = module.state_dict()
    shadow = ema.state_dicts()[0]
    for key, value in new.items():
        if value.dtype.is_floating_point:
            assert torch.allclose(shadow[key], 0.9 * old[key] + 0.1 * value, atol=1e-7), key
        else:
            assert torch.equal(shadow[key], value), key


# ---------------------------------------------------------------- end-to-end CPU runs

def make_anomaly_set(path, per_class=4, seed=1):
    """Test clips labelled by class: normal = the class's training tone, anomalous = the
    tone 200 Hz higher (between the classes); returns (dir, {utt: is_anomaly})."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    t = np.arange(NUM_SAMPLES) / SR
    entries, truth = {}, {}
    tables = {k: [] for k in ("wav.scp", "utt2class", "utt2machine", "utt2section")}
    for c, name in enumerate(CLASSES):
        machine, section = name.split("_", 1)
        for kind, shift in (("normal", 0), ("anomaly", 200)):
            for i in range(per_class):
                utt = f"{machine}-{kind}_{section}_{i:08d}"
                wave = (0.3 * np.sin(2 * np.pi * (300 + 400 * c + shift) * t)
                        + 0.05 * rng.standard_normal(NUM_SAMPLES))
                entries[utt] = (wave * 32767).astype(np.int16)
                wav = f"/corpus/{machine}/test/{kind}_{section}_{i:08d}.wav"
                tables["wav.scp"].append((utt, wav))
                tables["utt2class"].append((utt, name))
                tables["utt2machine"].append((utt, machine))
                tables["utt2section"].append((utt, section))
                truth[utt] = int(kind == "anomaly")
    kaldiio.save_ark(str(path / "feats.ark"), entries, scp=str(path / "feats.scp"),
                     write_function="numpy")
    for name, rows in tables.items():
        write_kv(path / name, rows)
    write_kv(path / "feats.scp", sorted(read_kv(path / "feats.scp").items()))
    (path / "sample_rate").write_text(f"{SR}\n")
    return path, truth


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_dumped_set(tmp_path_factory.mktemp("zoo") / "train", classes=CLASSES)


def run_train(method, train_dir, exp_dir):
    train_with(CONF / f"train_{method}.debug.yaml", train_dir=train_dir, exp_dir=exp_dir,
               num_threads=1, verbose=0)


def history(exp_dir):
    with open(exp_dir / "train_history.csv", newline="") as f:
        return list(csv.DictReader(f))


def losses(rows, stage=None):
    return [float(r["train_loss"]) for r in rows if stage is None or r["stage"] == stage]


def load(path):
    return torch.load(path, weights_only=True)


def score(exp_dir, train_dir, out_dir, test_dir=None):
    """Stage 4 scores of the training set, or of ``test_dir``."""
    run_stage4(exp_dir, train_dir, out_dir, {"test": test_dir} if test_dir else {},
               checkpoint="latest")
    scored = out_dir / ("test" if test_dir else "train")
    return {u: float(s) for u, s in read_kv(scored / "utt2score").items()}


def test_clp_scf_stage_two_starts_from_stage_one_and_resumes_bit_exact(tmp_path, toy,
                                                                       monkeypatch):
    """Stages: pretrain (SupCon, 2 epochs) then finetune (ArcFace, 2 epochs). A run killed
    after epoch 1 (inside stage 1) and again after epoch 3 (inside stage 2) and resumed
    each time ends with the same weights as the uninterrupted run."""
    starts = []
    build = OPTIMIZERS.build

    def recording_build(name, params, **conf):
        params = list(params)
        starts.append([p.detach().clone() for p in params])
        return build(name, params=params, **conf)

    monkeypatch.setattr(OPTIMIZERS, "build", recording_build)
    full = tmp_path / "full"
    run_train("clp_scf", toy, full)
    rows = history(full)
    assert [r["stage"] for r in rows] == ["pretrain"] * 2 + ["finetune"] * 2
    for stage in ("pretrain", "finetune"):
        assert losses(rows, stage)[-1] < losses(rows, stage)[0], stage

    # The stage-2 optimiser starts from the weights that ended stage 1 (epoch 2 snapshot).
    conf = yaml.safe_load((CONF / "train_clp_scf.debug.yaml").read_text())
    names = [n for n, _ in MODELS.build("clp_scf", num_samples=NUM_SAMPLES,
                                        **conf["model_conf"]).named_parameters()]
    stage1_end = load(full / "snapshots" / "epoch2.pth")["model"]
    assert len(starts) == 2
    assert all(torch.equal(starts[1][i], stage1_end[n]) for i, n in enumerate(names))
    assert not all(torch.equal(starts[0][i], stage1_end[n]) for i, n in enumerate(names))
    # Pretraining moves backbone and projector but never reaches the classifier C, which
    # fine-tuning then trains.
    moved = {n for i, n in enumerate(names) if not torch.equal(starts[0][i], stage1_end[n])}
    assert "projector.2.weight" in moved and "backbone.tgram.extractor.weight" in moved
    assert not moved & {"classifier.weight", "classifier.bias"}
    final = load(full / "latest.pth")["model"]
    assert final["classifier.weight"].shape == (128, 128)
    assert not torch.equal(final["classifier.weight"], stage1_end["classifier.weight"])

    stops = {1, 3}
    save = trainer_module.Trainer._save
    resumed = tmp_path / "resumed"

    def save_then_stop(self, *args, **kwargs):
        save(self, *args, **kwargs)
        done = len(history(resumed))
        if done in stops:
            stops.discard(done)
            raise KeyboardInterrupt  # killed right after epoch `done` was saved

    monkeypatch.setattr(trainer_module.Trainer, "_save", save_then_stop)
    for last in ("epoch1.pth", "epoch3.pth"):
        with pytest.raises(KeyboardInterrupt):
            run_train("clp_scf", toy, resumed)
        assert (resumed / "latest.pth").resolve().name == last
    run_train("clp_scf", toy, resumed)
    a, b = load(full / "latest.pth"), load(resumed / "latest.pth")
    for part in ("model", "head"):
        assert a[part].keys() == b[part].keys()
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), f"{part}.{key}"
    assert losses(history(resumed)) == losses(rows)

    scores = score(full, toy, tmp_path / "scores")
    assert len(scores) == 24 and all(np.isfinite(list(scores.values())))


def test_tastgram_noisy_arcmix_debug_run_lowers_loss(tmp_path, toy):
    exp = tmp_path / "exp"
    run_train("tastgram_noisy_arcmix", toy, exp)
    train_losses = losses(history(exp))
    assert len(train_losses) == 4 and train_losses[-1] < train_losses[0]
    saved = yaml.safe_load((exp / "config.yaml").read_text())
    assert saved["stages"][0]["augments"] == [{"name": "mixup", "conf": {"alpha": 0.5}}]


def test_osscl_tfstgram_debug_run_saves_ema_weights(tmp_path, toy):
    exp = tmp_path / "exp"
    run_train("osscl_tfstgram", toy, exp)
    train_losses = losses(history(exp))
    assert len(train_losses) == 3 and train_losses[-1] < train_losses[0]
    checkpoint = load(exp / "checkpoint.pth")
    snapshot = load(exp / "latest.pth")
    for key, value in snapshot["model"].items():  # the averaged weights are what is saved
        assert torch.equal(value, checkpoint["ema"][0][key]), key
    assert not all(torch.equal(v, checkpoint["model"][k]) for k, v in snapshot["model"].items())
    assert "tfgram.stem.0.weight" in snapshot["model"]
    # The FPH is part of the model: trained, averaged, saved and used for scoring.
    assert "perturbation.layers.0.weight" in snapshot["model"] and not checkpoint["losses"]
    assert snapshot["model"]["perturbation.layers.5.running_mean"].abs().sum() > 0


def test_osscl_mel_debug_run_detects_toy_anomalies(tmp_path):
    """About 70 steps on 36 clips: the EMA model's -log p(true ID) ranks the off-pitch
    clips above the normal ones."""
    data = make_dumped_set(tmp_path / "train", classes=CLASSES, per_class=16)
    exp = tmp_path / "exp"
    run_train("osscl_mel", data, exp)
    train_losses = losses(history(exp))
    assert len(train_losses) == 24 and train_losses[-1] < train_losses[0]
    test_dir, truth = make_anomaly_set(tmp_path / "test")
    scores = score(exp, data, tmp_path / "scores", test_dir)
    utts = sorted(truth)
    auc = roc_auc_score([truth[u] for u in utts], [scores[u] for u in utts])
    assert auc > 0.9
