"""Embedding back-ends: hand-worked 2-D values, library references, outlier ranking."""
import logging
import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from asd_lib.backends import BACKENDS, KMeansMemoryBank, SelectiveMahalanobis

R2 = math.sqrt(2.0)


def _fit(name, x, domains=None, classes=None, **conf):
    domains = ["source"] * len(x) if domains is None else domains
    classes = ["c"] * len(x) if classes is None else classes
    return BACKENDS.build(name, **conf).fit(np.asarray(x, float), domains, classes)


def test_registry_names_and_unknown_name():
    assert BACKENDS.names() == ["fusion", "gmm", "kmeans_membank", "knn", "knn_ldn", "lof",
                                "mahalanobis", "pca_residual"]
    with pytest.raises(KeyError, match="unknown backend 'svm'.*knn"):
        BACKENDS.get("svm")


# ---- knn -----------------------------------------------------------------------------

SOURCE = [[1, 0], [0, 1], [-1, 0]]


@pytest.mark.parametrize("k, expected", [
    # query (1, 1): cos distances 1 - 1/r2, 1 - 1/r2, 1 + 1/r2; query (2, 0): 0, 1, 2
    (1, [1 - 1 / R2, 0.0]),
    (2, [1 - 1 / R2, 0.5]),
    (3, [(3 - 1 / R2) / 3, 1.0]),
    (5, [(3 - 1 / R2) / 3, 1.0]),  # k above the bank size: all 3 neighbours
])
def test_knn_single_domain_by_hand(k, expected):
    scores = _fit("knn", SOURCE, k=k).score([[1, 1], [2, 0]])
    assert scores.dtype == np.float64 and scores.shape == (2,)
    np.testing.assert_allclose(scores, expected, atol=1e-12)


def test_knn_min_over_domains_by_hand():
    x = SOURCE + [[0, -1]]
    domains = ["source"] * 3 + ["target"]
    scores = _fit("knn", x, domains, k=2).score([[0, -3], [2, 0]])
    # (0, -3): source distances 1, 2, 1 -> mean of 2 nearest 1; target (1 clip) 0 -> 0
    # (2, 0): source 0, 1, 2 -> 0.5; target 1 -> 0.5
    np.testing.assert_allclose(scores, [0.0, 0.5], atol=1e-12)


# ---- kmeans_membank ------------------------------------------------------------------

def test_kmeans_membank_target_bank_is_nearest():
    # two symmetric source pairs: their normalised centres are exactly (1, 0) and (0, 1)
    source = [[1, 0.1], [1, -0.1], [0.1, 1], [-0.1, 1]]
    backend = _fit("kmeans_membank", source + [[-2, 0]], ["source"] * 4 + ["target"],
                   n_clusters=2)
    centres = backend.centres[np.lexsort(backend.centres.T)]
    np.testing.assert_allclose(centres, [[-1, 0], [1, 0], [0, 1]], atol=1e-12)
    n = math.sqrt(1.01)
    scores = backend.score([[-1, 0.1], [3, 3]])
    # (-1, .1): to (1,0) 1 + 1/n, to (0,1) 1 - .1/n, to the target (-1,0) 1 - 1/n (nearest)
    np.testing.assert_allclose(scores, [1 - 1 / n, 1 - 1 / R2], atol=1e-12)


def test_kmeans_membank_caps_clusters_at_source_clips():
    source = [[1, 0], [0, 1], [1, 1]]
    backend = _fit("kmeans_membank", source + [[-1, -1]], ["source"] * 3 + ["target"])
    assert backend.centres.shape == (4, 2)  # 16 capped to 3, plus the target clip
    np.testing.assert_allclose(backend.score(source + [[-1, -1]]), 0.0, atol=1e-12)


def test_kmeans_membank_per_class_centres_by_hand():
    x = [[1, 0], [0, 2], [0, 1], [-3, 0], [0, -1]]
    domains = ["source"] * 4 + ["target"]
    classes = ["a", "a", "b", "b", "t"]
    backend = _fit("kmeans_membank", x, domains, classes, centres="per_class")
    # a: mean of (1,0), (0,1) -> (1,1)/r2; b: mean of (0,1), (-1,0) -> (-1,1)/r2; target (0,-1)
    np.testing.assert_allclose(backend.centres, [[1 / R2, 1 / R2], [-1 / R2, 1 / R2], [0, -1]],
                               atol=1e-12)
    np.testing.assert_allclose(backend.score([[2, 2], [1, 0], [1, -1]]),
                               [0.0, 1 - 1 / R2, 1 - 1 / R2], atol=1e-12)


def test_kmeans_membank_bad_centres_kind():
    with pytest.raises(ValueError, match="centres must be one of"):
        KMeansMemoryBank(centres="medoids")


# ---- gmm -----------------------------------------------------------------------------

def test_gmm_one_component_equals_gaussian_logpdf():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2)) @ np.array([[2.0, 0.5], [0.0, 0.3]]) + [4.0, -1.0]
    query = rng.normal(size=(7, 2)) * 3
    scores = _fit("gmm", x).score(query)
    z = (x - x.mean(0)) / x.std(0)
    cov = np.cov(z, rowvar=False, ddof=0) + 1e-6 * np.eye(2)
    expected = -scipy.stats.multivariate_normal(z.mean(0), cov).logpdf(
        (query - x.mean(0)) / x.std(0))
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_gmm_caps_components_and_rejects_bad_conf():
    backend = _fit("gmm", [[0, 0], [1, 0], [0, 1]], n_components=8, covariance_type="diag")
    assert backend.mixture.n_components == 3
    with pytest.raises(ValueError, match="covariance_type"):
        BACKENDS.build("gmm", covariance_type="block")
    with pytest.raises(ValueError, match="n_components must be an integer >= 1"):
        BACKENDS.build("gmm", n_components=0)


# ---- lof -----------------------------------------------------------------------------

def test_lof_equals_sklearn_on_standardised_embeddings():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2)) * [5.0, 0.2]
    query = rng.normal(size=(6, 2)) * [10.0, 0.4]
    scaler = StandardScaler().fit(x)
    lof = LocalOutlierFactor(n_neighbors=4, novelty=True).fit(scaler.transform(x))
    expected = -lof.score_samples(scaler.transform(query))
    np.testing.assert_allclose(_fit("lof", x, n_neighbors=4).score(query), expected,
                               rtol=1e-12)
    assert _fit("lof", x[:3], n_neighbors=20).lof.n_neighbors_ == 2


# ---- mahalanobis ---------------------------------------------------------------------

def _two_domains():
    rng = np.random.default_rng(2)
    source = rng.normal(size=(30, 2)) @ np.array([[1.0, 0.8], [0.0, 0.5]])
    target = rng.normal(size=(10, 2)) * [0.3, 2.0] + [6.0, 0.0]
    return source, target


def test_mahalanobis_min_over_domains_equals_scipy():
    source, target = _two_domains()
    backend = _fit("mahalanobis", np.r_[source, target], ["source"] * 30 + ["target"] * 10,
                   ridge=0.0)
    query = np.array([[0.0, 0.0], [6.0, 1.0], [3.0, -2.0], [10.0, 10.0]])
    expected = []
    for q in query:
        d = [scipy.spatial.distance.mahalanobis(q, rows.mean(0), np.linalg.inv(np.cov(rows.T)))
             for rows in (source, target)]
        expected.append(min(d) ** 2)  # the baseline scores the squared distance
    np.testing.assert_allclose(backend.score(query), expected, rtol=1e-10)
    source_only = _fit("mahalanobis", source, ridge=0.0)
    mean, vi = source.mean(0), np.linalg.inv(np.cov(source.T))
    np.testing.assert_allclose(
        source_only.score(query),
        [scipy.spatial.distance.mahalanobis(q, mean, vi) ** 2 for q in query], rtol=1e-10)


def test_mahalanobis_singular_target_covariance_uses_ridge():
    source, _ = _two_domains()
    target = np.array([[5.0, 5.0], [7.0, 5.0]])  # 2 clips: rank-1 covariance
    backend = _fit("mahalanobis", np.r_[source, target], ["source"] * 30 + ["target"] * 2)
    cov = np.cov(target.T) + 1e-6 * np.trace(np.cov(target.T)) / 2 * np.eye(2)
    query = np.array([[6.5, 5.0], [6.0, 5.1]])
    d_target = [(q - [6, 5]) @ np.linalg.inv(cov) @ (q - [6, 5]) for q in query]
    assert d_target[0] == pytest.approx(0.125)  # 0.5^2 / variance 2 along the line
    d_source = [(q - source.mean(0)) @ np.linalg.inv(np.cov(source.T)) @ (q - source.mean(0))
                for q in query]
    scores = backend.score(query)
    np.testing.assert_allclose(scores, np.minimum(d_target, d_source), rtol=1e-6)
    assert scores[0] == pytest.approx(0.125, rel=1e-6) and np.isfinite(scores).all()
    assert scores[1] == pytest.approx(d_source[1], rel=1e-6)  # off the target line


def test_mahalanobis_ledoit_wolf_and_lone_clip(caplog):
    source, _ = _two_domains()
    lone = np.array([[9.0, 9.0]])
    with caplog.at_level(logging.WARNING):
        backend = _fit("mahalanobis", np.r_[source, lone], ["source"] * 30 + ["target"],
                       covariance="ledoit_wolf", ridge=0.0)
    assert "target domain is left out" in caplog.text
    assert list(backend.means) == ["source"]
    precision = np.linalg.inv(LedoitWolf().fit(source).covariance_)
    diff = lone[0] - source.mean(0)
    np.testing.assert_allclose(backend.score(lone), [diff @ precision @ diff], rtol=1e-10)
    with pytest.raises(ValueError, match="covariance must be one of"):
        SelectiveMahalanobis(covariance="oas")


# ---- all back-ends -------------------------------------------------------------------

def _inliers_and_outliers():
    """8-D: source and target inliers near two directions, outliers in other directions."""
    rng = np.random.default_rng(3)
    dim = 8
    source_dir, target_dir = np.eye(dim)[0] * 5, np.eye(dim)[1] * 5
    source = source_dir + 0.3 * rng.normal(size=(80, dim))
    target = target_dir + 0.3 * rng.normal(size=(10, dim))
    train = np.r_[source, target]
    domains = ["source"] * 80 + ["target"] * 10
    classes = ["a", "b"] * 40 + ["t"] * 10
    inliers = np.r_[source_dir + 0.3 * rng.normal(size=(20, dim)),
                    target_dir + 0.3 * rng.normal(size=(5, dim))]
    outliers = np.eye(dim)[2:6].repeat(3, axis=0) * 5 + 0.3 * rng.normal(size=(12, dim))
    return train, domains, classes, inliers, outliers


CONFS = [("knn", {"k": 1}), ("knn", {"k": 4}), ("kmeans_membank", {}),
         ("kmeans_membank", {"centres": "per_class"}), ("gmm", {"n_components": 2}),
         ("lof", {"n_neighbors": 8}), ("mahalanobis", {}),
         ("mahalanobis", {"covariance": "ledoit_wolf"}), ("knn_ldn", {"k": 4}),
         ("pca_residual", {"n_components": 4}),
         ("fusion", {"backends": [{"name": "knn"}, {"name": "knn_ldn"},
                                  {"name": "mahalanobis", "conf": {"covariance": "ledoit_wolf"}}]})]


@pytest.mark.parametrize("name, conf", CONFS)
def test_outliers_rank_above_inliers_and_fit_is_deterministic(name, conf):
    train, domains, classes, inliers, outliers = _inliers_and_outliers()
    query = np.r_[inliers, outliers]
    scores = _fit(name, train, domains, classes, **conf).score(query)
    assert scores.shape == (len(query),) and scores.dtype == np.float64
    labels = np.r_[np.zeros(len(inliers)), np.ones(len(outliers))]
    assert roc_auc_score(labels, scores) == 1.0
    again = _fit(name, train, domains, classes, **conf).score(query)
    np.testing.assert_array_equal(scores, again)


def test_bad_input_is_a_clear_error():
    backend = BACKENDS.build("knn")
    with pytest.raises(ValueError, match="score called before fit"):
        backend.score([[1.0, 0.0]])
    with pytest.raises(ValueError, match="3 embeddings but 2 domains"):
        backend.fit(np.ones((3, 2)), ["source"] * 2, ["c"] * 3)
    with pytest.raises(ValueError, match=r"unknown domains \['dev'\]"):
        backend.fit(np.ones((2, 2)), ["source", "dev"], ["c"] * 2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        backend.fit(np.array([[1.0, np.nan]]), ["source"], ["c"])
    backend.fit(np.ones((2, 2)), ["source"] * 2, ["c"] * 2)
    with pytest.raises(ValueError, match="size 3, but the back-end was fitted on size 2"):
        backend.score(np.ones((1, 3)))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        BACKENDS.build("knn", k=1.5)
