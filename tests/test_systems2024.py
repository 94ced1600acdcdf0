"""DCASE 2024 systems: official AE baselines, Tian et al. Systems 1-3, Wilkinghoff's SSL model.

Hand-worked checks of sub-cluster AdaCos, feature exchange, frequency attention, the
attribute-text embedding and the AE error vector; exact parameter counts at toy size;
every conf/tuning debug config of egs/dcase24 trained briefly on CPU and scored with its
configured back-end.
"""
import csv
import math
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

from asd_lib.backends import BACKENDS
from asd_lib.data.dataset import DumpedSet
from asd_lib.data.step import Mix, Step
from asd_lib.inference import InferenceConfig
from asd_lib.losses.adacos import SubClusterAdaCosHead, adaptive_scale, fixed_scale, soft_targets
from asd_lib.losses.feature_exchange import (
    FeatureExchange,
    exchange_embedding,
    exchange_targets,
    reversed_partners,
)
from asd_lib.models import MODELS
from asd_lib.models.attr_text import AttributeTextEmbedding, describe, token_bucket, tokens
from asd_lib.models.freq_attention import FrequencyAttention
from asd_lib.models.traits import traits
from asd_lib.utils.fileio import read_kv, write_kv
from inference_helpers import copy_as_test_set, decode_config, hide_test_labels, outputs, run_stage4
from train_helpers import train_with

SR = 16000
TUNING = Path(__file__).resolve().parents[1] / "egs" / "dcase24" / "asd1" / "conf" / "tuning"
EPS = 1e-7


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- sub-cluster AdaCos
def test_subcluster_adacos_matches_hand_computation():
    head = SubClusterAdaCosHead(embedding_dim=2, num_classes=2, sub_clusters=2)
    head.centers.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]))
    x = torch.tensor([[2.0, 0.0], [-1.0, 1.0]])  # cosines: [[1, 0], [-1, 0]], [[-r, r], [r, -r]]
    labels = torch.tensor([0, 1])
    s0 = math.sqrt(2) * math.log(3)
    assert head.scale.item() == pytest.approx(s0)
    r = math.sqrt(0.5)
    # B_avg over all 4 logits of each clip; s0 * r = log 3.
    b_avg = ((math.exp(s0) + 1 + math.exp(-s0) + 1) + (1 / 3 + 3 + 3 + 1 / 3)) / 2
    # theta summed over the true class's sub-clusters: clip 0 acos(1 - eps) + pi/2,
    # clip 1 pi/4 + 3pi/4; median = lower middle value; min(pi/4, .) = pi/4.
    theta = [math.acos(1 - EPS) + math.pi / 2, math.pi]
    assert min(math.pi / 4, min(theta)) == math.pi / 4
    s = math.log(b_avg) / math.cos(math.pi / 4)
    cos = [[[1, 0], [-1, 0]], [[-r, r], [r, -r]]]
    logits = [[math.log(sum(math.exp(s * c) for c in cls)) for cls in clip] for clip in cos]
    expected = -sum(lg[y] - math.log(sum(math.exp(v) for v in lg))
                    for lg, y in zip(logits, [0, 1])) / 2
    head.train()
    loss, out = head.loss(x, soft_targets(labels, None, 2))
    assert head.scale.item() == pytest.approx(s, rel=1e-6)
    assert out.flatten().tolist() == pytest.approx(sum(logits, []), rel=1e-5)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # Inference: the head's logits at the (now fixed) scale; eval mode leaves s alone.
    head.eval()
    head.loss(x, soft_targets(labels, None, 2))
    assert head.scale.item() == pytest.approx(s, rel=1e-6)


def test_adaptive_scale_uses_small_angles_and_mixup_weights():
    # One sub-cluster per class: theta_med can fall below pi/4, so cos(theta_med) counts.
    cos = torch.tensor([[[0.9], [0.1], [0.0]], [[0.2], [0.8], [0.1]], [[0.0], [0.1], [0.95]]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.0, 0.0, 1.0]])
    s0 = fixed_scale(3)
    b_avg = sum(math.exp(s0 * v) for v in cos.flatten().tolist()) / 3
    theta = [math.acos(0.9), 2 * (0.3 * math.acos(0.2) + 0.7 * math.acos(0.8)), math.acos(0.95)]
    med = sorted(theta)[1]
    assert med < math.pi / 4
    got = adaptive_scale(torch.tensor(s0), cos, targets).item()
    assert got == pytest.approx(math.log(b_avg) / math.cos(med), rel=1e-5)


def test_fixed_scale_option_and_soft_targets_of_mixup():
    head = SubClusterAdaCosHead(4, 3, sub_clusters=2, adaptive_scale=False).train()
    head.loss(torch.randn(5, 4), soft_targets(torch.tensor([0, 1, 2, 0, 1]), None, 3))
    assert head.scale.item() == pytest.approx(math.sqrt(2) * math.log(5))
    assert "centers" not in dict(head.named_parameters())  # fixed random centres
    mix = Mix(lam=torch.tensor(0.25), perm=torch.tensor([1, 0, 2]))
    q = soft_targets(torch.tensor([0, 2, 1]), mix, 3)
    assert q.tolist() == [[0.25, 0.0, 0.75], [0.75, 0.0, 0.25], [0.0, 1.0, 0.0]]


# --------------------------------------------------------------------------- feature exchange
def test_feature_exchange_builds_expected_targets_and_embeddings():
    q = torch.tensor([[1.0, 0.0], [0.25, 0.75], [0.0, 1.0]])
    exchanged = torch.tensor([True, False, True])
    partner = reversed_partners(3)
    assert partner.tolist() == [2, 1, 0]
    assert exchange_targets(q, exchanged, partner).tolist() == [
        [0, 0, 0.5, 0, 0, 0.5],
        [0.25, 0.75, 0, 0, 0, 0],
        [0, 0, 0, 0.5, 0.5, 0],
    ]
    fft = torch.tensor([[1.0], [2.0], [3.0]])
    spec = torch.tensor([[10.0], [20.0], [30.0]])
    text = torch.tensor([[-1.0], [-2.0], [-3.0]])
    assert exchange_embedding([fft, spec, text], exchanged, partner).tolist() == [
        [1, 30, -1], [2, 20, -2], [3, 10, -3]]


def test_feature_exchange_objective_uses_the_3c_classifier():
    torch.manual_seed(0)
    head = SubClusterAdaCosHead(4, 2, sub_clusters=2, feature_exchange=True)
    parts = [torch.randn(4, 2), torch.randn(4, 2)]
    step = Step(torch.zeros(4, 8), torch.tensor([0, 1, 1, 0]))
    step.out = {"embedding": torch.cat(parts, 1), "parts": parts}
    head.eval()  # held-out: nothing exchanged, targets [q, 0, 0]
    loss, logits = FeatureExchange(prob=1.0)(step, head)
    targets = exchange_targets(soft_targets(step.labels, None, 2),
                               torch.zeros(4, dtype=torch.bool), reversed_partners(4))
    assert logits is None
    assert loss.item() == pytest.approx(head.exchange.loss(step.embedding, targets)[0].item())
    head.train()  # prob 1: every clip exchanged with the reversed batch
    loss, _ = FeatureExchange(prob=1.0)(step, head)
    every = torch.ones(4, dtype=torch.bool)
    swapped = exchange_embedding(parts, every, reversed_partners(4))
    head.exchange.eval()
    manual = head.exchange.loss(swapped, exchange_targets(soft_targets(step.labels, None, 2),
                                                           every, reversed_partners(4)))[0]
    assert loss.item() == pytest.approx(manual.item(), rel=1e-6)
    with pytest.raises(ValueError, match="feature_exchange: true"):
        FeatureExchange()(step, SubClusterAdaCosHead(4, 2))


# --------------------------------------------------------------------------- attention, text
def test_frequency_attention_equals_its_formula():
    att = FrequencyAttention(kernel_size=3)
    with torch.no_grad():
        att.conv.weight.copy_(torch.tensor([[[0.1, 0.2, 0.3], [-0.2, 0.5, 0.1]]]))
        att.conv.bias.fill_(0.05)
    x = torch.tensor([[[1.0, 3.0], [0.0, -2.0], [4.0, 2.0], [1.0, 1.0]]])  # [1, F=4, T=2]
    mean, mx = x[0].mean(1).tolist(), x[0].amax(1).tolist()
    w = att.conv.weight[0].tolist()
    expected = []
    for f in range(4):
        z = 0.05
        for j, offset in enumerate((-1, 0, 1)):
            g = f + offset
            if 0 <= g < 4:
                z += w[0][j] * mean[g] + w[1][j] * mx[g]
        expected.append(1 / (1 + math.exp(-z)))
    assert att.weights(x)[0].tolist() == pytest.approx(expected, rel=1e-6)
    assert att(x)[0].flatten().tolist() == pytest.approx(
        [v * a for row, a in zip(x[0].tolist(), expected) for v in row], rel=1e-6)
    assert n_params(att) == 2 * 3 + 1


def test_attribute_text_is_the_mean_of_hashed_token_rows(tmp_path):
    assert describe("fan", "m-n_W") == "fan with m-n W"
    assert describe("gearbox", "noAttribute") == "gearbox with unknown operating conditions"
    assert tokens("fan with m-n W") == ["fan", "with", "m-n", "w", "fan with", "with m-n", "m-n w"]
    emb = AttributeTextEmbedding(dim=3, buckets=50)
    rows = [token_bucket(t, 50) for t in tokens("fan with m-n W")]
    expected = emb.bag.weight[rows].mean(0)
    assert torch.allclose(emb(["fan with m-n W"])[0], expected)


# --------------------------------------------------------------------------- models
def test_ssl_two_branch_shapes_and_exact_parameter_count():
    conf = dict(branch_dim=8, fft_convs=[[4, 16, 8], [4, 8, 4]], fft_dense_layers=2,
                n_fft=256, hop_length=128, resnet_channels=[2, 4])
    model = MODELS.build("ssl_two_branch", num_samples=4096, sample_rate=SR, **conf)
    # FFT branch: 2048 bins -> conv 1x4x16 (256 long) -> conv 4x4x8 (64 long) -> 256 ->
    # dense 256x8 + BN, 8x8 + BN, 8x8.
    fft = 64 + 128 + (2048 + 16) + (64 + 16) + 64
    # Spectrogram: BN over 129 bins; stem conv 1x2x7x7 + BN(2); stage 1 two blocks of
    # BN(2) + conv 2x2x3x3 + BN(2) + conv; stage 2 block BN(2) + conv 2x4x9 + BN(4) +
    # conv 4x4x9 + shortcut 2x4, block BN(4) + 2 conv 4x4x9 + BN(4); 31 x 129 -> time 7
    # x freq 32 after the stem -> freq 16 -> flatten 4 x 16 = 64, BN(64), dense 64x8.
    spec = 258 + 98 + 4 + 2 * (4 + 36 + 4 + 36) + (4 + 72 + 8 + 144 + 8) + (8 + 144 + 8 + 144) \
        + 128 + 512
    assert n_params(model.fft) == fft and n_params(model.spec) == spec
    assert n_params(model) == fft + spec == 4100
    out = model(torch.zeros(3, 4096, dtype=torch.int16))
    assert out["embedding"].shape == (3, 16) and model.embedding_dim == 16
    assert [p.shape for p in out["parts"]] == [(3, 8), (3, 8)]
    full = MODELS.build("ssl_two_branch", num_samples=4096, sample_rate=SR, freq_attention=True,
                        attribute_text={"dim": 4, "buckets": 32}, **conf)
    assert n_params(full) == 4100 + 15 + 4 * 32
    assert traits(full).conditioning == "attribute_text" and traits(model).conditioning is None
    out = full(torch.randn(2, 4096), attributes=["fan with m-n W", "fan with m-n X"])
    assert out["embedding"].shape == (2, 20) and full.embedding_dim == 20
    assert torch.equal(out["parts"][2], full.text(["fan with m-n W", "fan with m-n X"]))
    assert torch.equal(full.eval()(torch.randn(2, 4096))["parts"][2], torch.zeros(2, 4))
    with pytest.raises(ValueError, match="waveforms"):
        model(torch.zeros(2, 4000))


def test_ae2024_error_vector_equals_manual_computation():
    torch.manual_seed(0)
    model = MODELS.build("ae_baseline2024", num_samples=SR, sample_rate=SR).eval()
    # 640-128x4-8-128x4-640 with BN after every layer but the output
    params = (640 * 128 + 128) + 3 * (128 * 128 + 128) + (128 * 8 + 8) \
        + (8 * 128 + 128) + 3 * (128 * 128 + 128) + (128 * 640 + 640) + 2 * (8 * 128 + 8)
    assert n_params(model) == params == 267928
    wave = torch.randn(2, SR) * 0.1
    out = model(wave)
    with torch.no_grad():
        spec = model.frontend.log(model.frontend(wave))  # [2, 128, 32]
        rows = []
        for b in range(2):
            vectors = torch.stack([torch.cat([spec[b, :, v + k] for k in range(5)])
                                   for v in range(spec.shape[2] - 4)])
            error = vectors - model.decoder(model.encoder(vectors))
            rows.append((error.mean(0), error.pow(2).mean()))
    assert out["embedding"].shape == (2, 640)
    for b, (mean_error, mse) in enumerate(rows):
        assert torch.allclose(out["embedding"][b], mean_error, atol=1e-5)
        assert out["score"][b].item() == pytest.approx(mse.item(), rel=1e-5)
    # The official MAHALA score (mean over all vector pairs of delta_v^T P delta_u) is the
    # quadratic form of this mean error vector.
    delta = torch.randn(7, 5, dtype=torch.float64)
    a = torch.randn(5, 5, dtype=torch.float64)
    precision = a @ a.T + torch.eye(5, dtype=torch.float64)
    pairwise = (delta @ precision @ delta.T).mean()
    mean = delta.mean(0)
    assert pairwise.item() == pytest.approx((mean @ precision @ mean).item(), rel=1e-10)


# --------------------------------------------------------------------------- end to end
GROUPS = {  # machine: [(domain, attribute), ...] classes of the toy set
    "fan": [("source", "m-n_W"), ("source", "m-n_X"), ("target", "m-n_Y")],
    "gearbox": [("source", "noAttribute"), ("target", "noAttribute")],
}


def make_dumped_set(path, clips_per_class=4, seed=0):
    """A 2024-style dumped dir: tones per class plus noise, with domains and attributes."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    t = np.arange(SR) / SR
    entries, rows = {}, {k: [] for k in ("wav.scp", "utt2class", "utt2machine", "utt2section",
                                         "utt2domain", "utt2attr")}
    c = 0
    for machine, classes in GROUPS.items():
        for domain, attr in classes:
            label = f"{machine}_section_00_{domain if attr == 'noAttribute' else attr}"
            for i in range(clips_per_class):
                name = f"section_00_{domain}_train_normal_{c:02d}{i:02d}_{attr}.wav"
                utt = f"{machine}-{name[:-4]}"
                wave = 0.3 * np.sin(2 * np.pi * (300 + 350 * c) * t) \
                    + 0.05 * rng.standard_normal(SR)
                entries[utt] = (wave * 32767).astype(np.int16)
                for key, value in (("wav.scp", f"/corpus/{machine}/train/{name}"),
                                   ("utt2class", label), ("utt2machine", machine),
                                   ("utt2section", "section_00"), ("utt2domain", domain),
                                   ("utt2attr", attr)):
                    rows[key].append((utt, value))
            c += 1
    kaldiio.save_ark(str(path / "feats.ark"), entries, scp=str(path / "feats.scp"),
                     write_function="numpy")
    for name, table in rows.items():
        write_kv(path / name, sorted(table))
    write_kv(path / "feats.scp", sorted(read_kv(path / "feats.scp").items()))
    (path / "sample_rate").write_text(f"{SR}\n")
    return path


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    return make_dumped_set(tmp_path_factory.mktemp("dump2024") / "train")


def histories(exp):
    files = sorted(Path(exp).glob("**/train_history.csv"))
    assert files, f"no train_history.csv under {exp}"
    return [list(csv.DictReader(open(f))) for f in files]


def embeddings_of(out_dir, utts):
    table = read_kv(Path(out_dir) / "embeddings.scp")
    return np.stack([kaldiio.load_mat(table[u]) for u in utts])


SYSTEMS = ["stgram_mfn", "ae_mse", "ae_mahalanobis", "system1_cluster_supcon", "system2_attr_supcon",
           "ssl_wilkinghoff", "system3_ssl_freqatt"]


def debug_config(system: str) -> Path:
    """The CI-sized config of a system: conf/tuning/, or the recipe default in conf/."""
    path = TUNING / f"train_{system}.debug.yaml"
    return path if path.is_file() else TUNING.parent / f"train_{system}.debug.yaml"


def scoring_config(system: str) -> str:
    """The inference config a training config's header names."""
    header = debug_config(system).read_text()
    line = next(x for x in header.splitlines() if x.startswith("# Scoring (stage 4):"))
    return Path(line.split("--inference_config ")[1]).stem


@pytest.mark.parametrize("system", SYSTEMS)
def test_debug_config_trains_lowers_loss_and_scores_with_its_backend(system, tmp_path, dumped):
    exp = tmp_path / "exp"
    train_with(debug_config(system), train_dir=dumped, exp_dir=exp, seed=1, verbose=0,
               num_threads=1)
    for history in histories(exp):
        assert float(history[-1]["train_loss"]) < float(history[0]["train_loss"])
    decode = decode_config("dcase24", scoring_config(system))
    test_set = copy_as_test_set(dumped, tmp_path / "test_set")
    out = run_stage4(exp, dumped, tmp_path / "out", {"test": test_set},
                     args=["--config", str(decode)], dataset="dcase2024")
    test_out = out / "test"
    data = DumpedSet(dumped)
    scores = read_kv(test_out / "utt2score")
    assert len(scores) == len(data.utts)
    assert all(np.isfinite(float(v)) for v in scores.values())
    for machine in GROUPS:
        assert (test_out / f"anomaly_score_{machine}_section_00_test.csv").is_file()
        assert (test_out / f"decision_result_{machine}_section_00_test.csv").is_file()
    # No score may use what the evaluation data hides: with the test set's class, domain
    # and attribute files shuffled and its labels emptied, stage 4 writes the same bytes.
    before = outputs(test_out)
    hide_test_labels(test_set)
    run_stage4(exp, dumped, out, {"test": test_set}, args=["--config", str(decode)],
               dataset="dcase2024")
    assert outputs(test_out) == before
    config = InferenceConfig.from_yaml(decode)
    if config.is_forward_score or system == "system3_ssl_freqatt":
        return  # a text-conditioned model's test embeddings are its best-matching text's
    # Embedding back-end: refit it per (machine, section) on the training embeddings; the
    # test set holds the same clips, scored without leaving any out.
    emb = embeddings_of(out / "train", data.utts)
    assert np.array_equal(embeddings_of(test_out, data.utts), emb)
    machines, domains, classes = (np.array(data.column(k)) for k in
                                  ("utt2machine", "utt2domain", "utt2class"))
    for machine in GROUPS:
        idx = np.flatnonzero(machines == machine)
        scorer = BACKENDS.build(config.backend, **config.backend_conf).fit(
            emb[idx], list(domains[idx]), list(classes[idx]))
        expected = scorer.score(emb[idx])
        got = np.array([float(scores[data.utts[i]]) for i in idx])
        assert np.allclose(got, expected, rtol=1e-6, atol=1e-9)
