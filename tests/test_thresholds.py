"""Decision thresholds: the gamma rule of the official baselines fitted to scores computed
the way test scores are (held-out clips, each left out of the back-end's memory), so that
about 10 % of unseen normal clips are flagged."""
import logging

import numpy as np
import pytest

from asd_lib.backends import BACKENDS
from asd_lib.backends.threshold import gamma_threshold
from asd_lib.inference.backend import backend_scores, fit_backends, rows_within_groups
from asd_lib.inference.thresholds import (
    MIN_HELD_OUT,
    read_thresholds,
    section_thresholds,
    write_thresholds,
)

GROUP = ("fan", "section_00")


def test_held_out_clips_set_the_threshold_and_few_fall_back_to_all(caplog, tmp_path):
    rng = np.random.default_rng(0)
    utts = [f"u{i:03d}" for i in range(40)]
    scores = rng.gamma(3.0, 1.0, 40)
    held = set(utts[:MIN_HELD_OUT])
    fitted = section_thresholds(utts, [GROUP] * 40, scores, held)[GROUP]
    assert fitted.basis == "held_out" and fitted.clips == MIN_HELD_OUT
    assert fitted.value == pytest.approx(gamma_threshold(scores[:MIN_HELD_OUT]))
    with caplog.at_level(logging.WARNING):
        fallback = section_thresholds(utts, [GROUP] * 40, scores, set(utts[:3]))[GROUP]
    assert fallback.basis == "all_training" and fallback.clips == 40
    assert fallback.value == pytest.approx(gamma_threshold(scores))
    assert "3 held-out training clip(s) < 10" in caplog.text
    write_thresholds(tmp_path / "t.csv", {GROUP: fitted})
    assert read_thresholds(tmp_path / "t.csv") == {GROUP: fitted}


@pytest.mark.parametrize("backend, conf", [
    ("knn", {"k": 1}), ("kmeans_membank", {"n_clusters": 16}), ("knn_ldn", {"k": 4}),
    ("pca_residual", {"n_components": 4, "normalise": False}),
    ("fusion", {"backends": [{"name": "knn"}, {"name": "knn_ldn"}, {"name": "mahalanobis"}]}),
])
def test_about_a_tenth_of_unseen_normal_clips_is_flagged(backend, conf):
    """Normal embeddings from one distribution: 990 source + 10 target training clips (the
    official counts), 50 of them held out. The threshold fitted on the held-out clips,
    scored as test clips would be, flags about 10 % of 4000 fresh normal clips. For kNN,
    which memorises every clip, scoring the training clips against themselves instead
    (in-sample, distance 0) would flag nearly all of them."""
    rng = np.random.default_rng(1)
    dim = 8

    def normal(n):
        return rng.normal(size=(n, dim)) + 3.0

    train = normal(1000)
    domains = ["source"] * 990 + ["target"] * 10
    groups = [GROUP] * 1000
    backends = fit_backends(backend, conf, train, groups, domains, ["c"] * 1000)
    candidates = [row[None] for row in train]
    loo = np.array([s[0] for s in backend_scores(backends, groups, candidates,
                                                 rows_within_groups(groups))])
    utts = [f"u{i:04d}" for i in range(1000)]
    held = set(utts[::20])  # 50 clips
    threshold = section_thresholds(utts, groups, loo, held)[GROUP].value
    fresh = BACKENDS.build(backend, **conf).fit(train, domains, ["c"] * 1000).score(normal(4000))
    flagged = float(np.mean(fresh > threshold))
    assert 0.05 < flagged < 0.17, flagged
    if backend == "knn":
        in_sample = backends[GROUP].score(train)
        assert float(np.mean(fresh > gamma_threshold(in_sample))) > 0.9
