"""knn_ldn, pca_residual and fusion: hand-worked values on points of the unit circle and
axis-aligned clouds, leave-one-out against refitting, scikit-learn's PCA, bad options and
the recipes' decode configs."""
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA

from asd_lib.backends import BACKENDS
from asd_lib.inference import InferenceConfig
from asd_lib.inference.config import InferenceRecord, read_inference_record
from asd_lib.utils.config import ConfigError

REPO = Path(__file__).resolve().parents[1]
R2, R3 = math.sqrt(2.0), math.sqrt(3.0)
Q = 1 - 1 / R2  # cosine distance at 45 degrees


def at(*degrees):
    """Unit vectors at the given angles."""
    return [[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in degrees]


def _fit(name, x, domains=None, **conf):
    domains = ["source"] * len(x) if domains is None else domains
    return BACKENDS.build(name, **conf).fit(np.asarray(x, float), domains, ["c"] * len(x))


# ---- knn_ldn ---------------------------------------------------------------------------
# bank at 0, 60, 90, 180 degrees; cosine distances:
#   0-60 0.5, 0-90 1, 0-180 2, 60-90 1 - r3/2, 60-180 1.5, 90-180 1

BANK = at(0, 60, 90, 180)


@pytest.mark.parametrize("k, expected", [
    # (1, -1): nearest 0 deg at Q; density of 0 deg: k=1 {60} 0.5, k=2 {60, 90} 0.75
    (1, [Q / 0.5, 0.0]),
    (2, [Q / 0.75, 0.0]),
    # k=5: all 3 others (0.5 + 1 + 2) / 3
    (5, [Q / (3.5 / 3), 0.0]),
])
def test_knn_ldn_by_hand(k, expected):
    scores = _fit("knn_ldn", BANK, k=k).score([[1, -1], [0, 4]])
    assert scores.dtype == np.float64 and scores.shape == (2,)
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_knn_ldn_left_out_row_is_neither_neighbour_nor_density():
    backend = _fit("knn_ldn", BANK, k=2)
    # (3, 0) without the 0-deg row: nearest 60 deg at 0.5; 60 deg's two nearest others are
    # 90 (1 - r3/2) and 0 (0.5), but 0 is left out, so 90 and 180 (1.5)
    expected = 0.5 / ((1 - R3 / 2 + 1.5) / 2)
    np.testing.assert_allclose(backend.score([[3, 0], [3, 0]], exclude=[0, -1]),
                               [expected, 0.0], atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_knn_ldn_leave_one_out_equals_refitting_without_the_clip(k):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(14, 5))
    domains = ["source"] * 10 + ["target"] * 4
    loo = _fit("knn_ldn", x, domains, k=k).score(x, exclude=np.arange(len(x)))
    refit = [_fit("knn_ldn", np.delete(x, i, axis=0), np.delete(domains, i), k=k)
             .score(x[i:i + 1])[0] for i in range(len(x))]
    np.testing.assert_allclose(loo, refit, rtol=1e-12)


def test_knn_ldn_min_over_domains_with_densities_per_domain():
    x = at(0, 60, 90) + at(180, 270)
    domains = ["source"] * 3 + ["target"] * 2
    # (1, -1) at 315 deg: source nearest 0 deg at Q, density 0.5 -> 2Q; target nearest
    # 270 deg at Q, density (its one other, 180 deg) 1 -> Q
    np.testing.assert_allclose(_fit("knn_ldn", x, domains, k=1).score([[1, -1]]), [Q],
                               atol=1e-12)
    # a target bank emptied by leaving a clip out gives no score: the source's is kept
    np.testing.assert_allclose(
        _fit("knn_ldn", x, domains, k=1).score([[1, -1]], exclude=[3]), [2 * Q], atol=1e-12)


def test_knn_ldn_floor_and_lone_domain(caplog):
    # two clips at 0 deg: density 0, divided by the floor; (2, 1): 1 - 2/r5 from 0 deg
    scores = _fit("knn_ldn", [[1, 0], [2, 0], [0, 1]], k=1, floor=0.5).score([[2, 1]])
    np.testing.assert_allclose(scores, [(1 - 2 / math.sqrt(5)) / 0.5], atol=1e-12)
    with caplog.at_level(logging.WARNING):
        backend = _fit("knn_ldn", BANK + at(270), ["source"] * 4 + ["target"], k=1)
    assert "1 target clip has no local density; the target domain is left out" in caplog.text
    assert list(backend.banks) == ["source"]
    with pytest.raises(ValueError, match="knn_ldn: needs at least 2 training clips of one "
                                         "domain, got 2"):
        _fit("knn_ldn", at(0, 90), ["source", "target"])


@pytest.mark.parametrize("conf, message", [
    ({"k": 0}, "knn_ldn: backend_conf k must be an integer >= 1, got 0"),
    ({"floor": 0}, "knn_ldn: backend_conf floor must be a number > 0, got 0"),
    ({"floor": True}, "floor must be a number > 0, got True"),
])
def test_knn_ldn_bad_options(conf, message):
    with pytest.raises(ValueError, match=message):
        BACKENDS.build("knn_ldn", **conf)


# ---- pca_residual ----------------------------------------------------------------------
# clips (10 +- 2, 10, 10) and (10, 10 +- 1, 10): mean (10, 10, 10); axes x (variance share
# 8/10), then y (2/10); the query (11, 12, 13) is (1, 2, 3) from the mean

CLOUD = [[12, 10, 10], [8, 10, 10], [10, 11, 10], [10, 9, 10]]


@pytest.mark.parametrize("n_components, expected", [
    (1, 2 ** 2 + 3 ** 2),
    (2, 3 ** 2),
    (0.5, 2 ** 2 + 3 ** 2),  # x alone explains 0.8 > 0.5
    (0.85, 3 ** 2),          # x and y are needed to exceed 0.85
])
def test_pca_residual_by_hand(n_components, expected):
    backend = _fit("pca_residual", CLOUD, n_components=n_components, normalise=False)
    np.testing.assert_allclose(backend.score([[11, 12, 13], [10, 10, 10]]), [expected, 0.0],
                               atol=1e-9)


def test_pca_residual_caps_components(caplog):
    with caplog.at_level(logging.INFO):
        backend = _fit("pca_residual", CLOUD, n_components=5, normalise=False)
    assert "4 training clips of size 3; n_components capped from 5 to 2" in caplog.text
    np.testing.assert_allclose(backend.score([[11, 12, 13]]), [9.0], atol=1e-9)


@pytest.mark.parametrize("normalise", [False, True])
def test_pca_residual_equals_sklearn_reconstruction_error(normalise):
    rng = np.random.default_rng(1)
    x, query = rng.normal(size=(30, 8)) + 2.0, rng.normal(size=(6, 8)) + 2.0
    backend = _fit("pca_residual", x, n_components=3, normalise=normalise)
    if normalise:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        query = query / np.linalg.norm(query, axis=1, keepdims=True)
    pca = PCA(n_components=3).fit(x)
    expected = ((query - pca.inverse_transform(pca.transform(query))) ** 2).sum(axis=1)
    np.testing.assert_allclose(backend.score(query), expected, rtol=1e-9)
    # training clips are scored as fitted: leaving one out changes nothing
    np.testing.assert_array_equal(backend.score(query, exclude=np.arange(6)),
                                  backend.score(query))


@pytest.mark.parametrize("conf, message", [
    ({"n_components": 0}, "n_components must be an integer >= 1 \\(axes kept\\) or a number "
                          "in \\(0, 1\\) \\(share of the variance\\), got 0"),
    ({"n_components": 1.5}, "got 1.5"),
    ({"n_components": True}, "got True"),
    ({"normalise": "yes"}, "pca_residual: backend_conf normalise must be true or false, "
                           "got 'yes'"),
])
def test_pca_residual_bad_options(conf, message):
    with pytest.raises(ValueError, match=message):
        BACKENDS.build("pca_residual", **conf)


# ---- fusion ----------------------------------------------------------------------------
# members knn k=1 and knn k=2 on clips at 0, 60, 90 deg (distances 0-60 0.5, 0-90 1,
# 60-90 r := 1 - r3/2); leave-one-out self-scores:
#   k=1: 0 -> 0.5, 60 -> r, 90 -> r;   k=2: 0 -> 0.75, 60 -> (r + 0.5)/2, 90 -> (r + 1)/2
# query (1, -1) at 315 deg: distances Q (0), 1 - cos 105 (60), 1 + 1/r2 (90)

KNN12 = [{"name": "knn", "conf": {"k": 1}}, {"name": "knn", "conf": {"k": 2}}]


def _z(value, self_scores):
    self_scores = np.asarray(self_scores)
    return (value - self_scores.mean()) / self_scores.std()


@pytest.mark.parametrize("combine", ["min", "mean"])
def test_fusion_by_hand(combine):
    r = 1 - R3 / 2
    z1 = _z(Q, [0.5, r, r])
    z2 = _z((Q + 1 - math.cos(math.radians(105))) / 2, [0.75, (r + 0.5) / 2, (r + 1) / 2])
    expected = min(z1, z2) if combine == "min" else (z1 + z2) / 2
    backend = _fit("fusion", at(0, 60, 90), backends=KNN12, combine=combine)
    np.testing.assert_allclose(backend.score([[1, -1]]), [expected], rtol=1e-12)
    # a training clip scored without itself: its own standardised self-scores
    np.testing.assert_allclose(
        backend.score(at(0), exclude=[0]),
        [min(_z(0.5, [0.5, r, r]), _z(0.75, [0.75, (r + 0.5) / 2, (r + 1) / 2]))
         if combine == "min" else
         (_z(0.5, [0.5, r, r]) + _z(0.75, [0.75, (r + 0.5) / 2, (r + 1) / 2])) / 2],
        rtol=1e-12)


def test_fusion_mean_of_standardised_self_scores_is_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(20, 6))
    domains = ["source"] * 16 + ["target"] * 4
    members = [{"name": "knn", "conf": {"k": 1}}, {"name": "knn_ldn", "conf": {"k": 2}},
               {"name": "mahalanobis", "conf": {"covariance": "ledoit_wolf"}}]
    backend = _fit("fusion", x, domains, backends=members, combine="mean")
    own = backend.score(x, exclude=np.arange(len(x)))
    assert abs(own.mean()) < 1e-12 and own.std() > 0


def test_fusion_member_with_equal_self_scores_is_centred_only(caplog):
    # the four axis directions: every clip's two nearest others are at distance 1 (k=1
    # and k=2); (1, 1) is Q from both nearest clips
    with caplog.at_level(logging.WARNING):
        backend = _fit("fusion", [[1, 0], [0, 1], [-1, 0], [0, -1]], backends=KNN12)
    assert "member 'knn' scores every training clip 1; its scores are centred but not " \
           "scaled" in caplog.text
    np.testing.assert_allclose(backend.score([[1, 1]]), [Q - 1], atol=1e-12)


@pytest.mark.parametrize("conf, message", [
    ({"backends": KNN12, "combine": "max"}, "fusion: backend_conf combine must be one of "
                                            "\\('min', 'mean'\\), got 'max'"),
    ({"backends": KNN12[:1]}, "backends names 1 back-end\\(s\\); fuse at least 2"),
    ({"backends": {"name": "knn"}}, "backends must be a list of"),
    ({"backends": [{"name": "knn"}, {"name": "fusion", "conf": {"backends": KNN12}}]},
     "backend_conf.backends\\[1\\].name: a fusion cannot be a member of a fusion"),
    ({"backends": [{"name": "knn"}, {"name": "knnn"}]},
     "backend_conf.backends\\[1\\].name: unknown backend 'knnn'; did you mean 'knn'"),
    ({"backends": [{"name": "knn", "conf": {"kk": 1}}, {"name": "lof"}]},
     "backend_conf.backends\\[0\\].conf: unknown key 'kk' of backend 'knn'"),
    ({"backends": [{"name": "knn", "conf": {"k": 0}}, {"name": "lof"}]},
     "backend_conf.backends\\[0\\].conf: knn: backend_conf k must be an integer >= 1, got 0"),
    ({"backends": [{"name": "knn", "k": 1}, {"name": "lof"}]},
     "backend_conf.backends\\[0\\]: unknown key\\(s\\) \\['k'\\]; a member has name and conf"),
    ({"backends": ["knn", "lof"]}, "backend_conf.backends\\[0\\]: expected \\{name"),
])
def test_fusion_bad_options(conf, message):
    with pytest.raises(ValueError, match=message):
        BACKENDS.build("fusion", **conf)


def test_inference_config_checks_fusion_members(tmp_path):
    path = tmp_path / "fusion.yaml"
    path.write_text("backend: fusion\nbackend_conf:\n  backends:\n    - {name: knn}\n"
                    "    - {name: fusion, conf: {}}\n")
    with pytest.raises(ConfigError, match=f"{path}: backend_conf.backends\\[1\\].name: a "
                                          "fusion cannot be a member"):
        InferenceConfig.from_yaml(path)
    path.write_text("backend: fusion\nbackend_conf: {combine: min}\n")
    with pytest.raises(ConfigError, match="backend 'fusion' needs 'backends'; add it to "
                                          "backend_conf"):
        InferenceConfig.from_yaml(path)
    path.write_text("backend: knn_ldn\nbackend_conf: {k: 0}\n")
    with pytest.raises(ConfigError, match="k must be an integer >= 1, got 0"):
        InferenceConfig.from_yaml(path)


def test_fusion_config_survives_the_inference_record(tmp_path):
    config = InferenceConfig(backend="fusion", backend_conf={
        "backends": [{"name": "knn", "conf": {"k": 2}}, {"name": "pca_residual"}],
        "combine": "mean"})
    InferenceRecord(config, "best.pth", "dcase2023", "dump/train").write(tmp_path)
    assert read_inference_record(tmp_path).config == config


# ---- the recipes' decode configs -------------------------------------------------------

NEW_CONFIGS = sorted(p for p in (REPO / "egs").glob("*/asd1/conf/decode/*.yaml")
                     if p.stem in ("knn_ldn", "pca_residual", "fusion"))


def test_every_recipe_has_the_new_decode_configs():
    recipes = [p.parents[2].name for p in (REPO / "egs").glob("*/asd1/conf/decode")]
    assert len(recipes) == 6
    assert len(NEW_CONFIGS) == 3 * len(recipes)


@pytest.mark.parametrize("path", NEW_CONFIGS, ids=lambda p: str(p.relative_to(REPO / "egs")))
def test_new_decode_config_loads_and_builds(path):
    config = InferenceConfig.from_yaml(path)
    assert config.backend == path.stem
    assert path.read_text().startswith("# ")
    backend = BACKENDS.build(config.backend, **config.backend_conf)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 4))
    scores = backend.fit(x, ["source"] * 20 + ["target"] * 4, ["c"] * 24).score(x + 0.1)
    assert np.isfinite(scores).all()
