"""Tests for lib.init: Gaussian, sampled, k-means++ and greedy k-means++ seeding."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import kmeans_plusplus

from lib.init import count_distinct, init_centroids


def _potential(X, C):
    return ((X[:, None, :] - C[None]) ** 2).sum(-1).min(1).sum()


def _rows_of(C, X):
    return all((np.abs(X - c).sum(1) == 0).any() for c in C)


# ---------------------------------------------------------------- random and sample


def test_random_draws_use_per_feature_mean_and_std():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(5, 1, 500), rng.normal(-3, 10, 500)])
    C = init_centroids(X, 400, "random", seed=1)
    assert (np.abs(C.mean(0) - X.mean(0)) < 0.2 * X.std(0)).all()
    np.testing.assert_allclose(C.std(0), X.std(0), rtol=0.15)
    assert not _rows_of(C[:5], X)  # not data points


def test_sample_returns_distinct_rows_of_X_uniformly():
    X = np.arange(10.0).reshape(5, 2)
    C = init_centroids(X, 5, "sample", seed=0)
    assert _rows_of(C, X) and len(np.unique(C, axis=0)) == 5
    firsts = [init_centroids(X, 1, "sample", seed=s)[0, 0] for s in range(500)]
    counts = np.unique(firsts, return_counts=True)[1]
    assert len(counts) == 5 and counts.min() > 60  # ~100 each


def test_sample_skips_duplicates_in_a_mostly_white_image():
    X = np.vstack([np.full((5000, 3), 255.0), np.arange(12.0).reshape(4, 3)])
    for s in range(5):
        C = init_centroids(X, 5, "sample", seed=s)
        assert len(np.unique(C, axis=0)) == 5 and _rows_of(C, X)


# ---------------------------------------------------------------- k-means++


def test_kmeanspp_picks_with_probability_proportional_to_d2():
    # X = 0, 1, 3 and k = 2: first pick uniform, second ∝ D^2 from it.
    X = np.array([[0.0], [1.0], [3.0]])
    d2 = (X - X.T) ** 2
    expected = {}
    for i, j in itertools.permutations(range(3), 2):
        expected[(i, j)] = (1 / 3) * d2[i, j] / d2[i].sum()
    n = 3000
    seen = {}
    for s in range(n):
        C = init_centroids(X, 2, "k-means++", seed=s).ravel()
        key = (
            int(np.flatnonzero(X.ravel() == C[0])[0]),
            int(np.flatnonzero(X.ravel() == C[1])[0]),
        )
        seen[key] = seen.get(key, 0) + 1
    for key, p in expected.items():
        freq = seen.get(key, 0) / n
        assert abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-3, (key, freq, p)


def test_kmeanspp_never_picks_a_duplicate_of_a_chosen_center():
    X = np.vstack([np.zeros((2000, 2)), [[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    for s in range(20):
        for init in ("k-means++", "greedy-k-means++"):
            C = init_centroids(X, 4, init, seed=s)
            assert len(np.unique(C, axis=0)) == 4


def test_kmeanspp_fewer_distinct_points_than_k():
    X = np.repeat(np.array([[0.0], [1.0]]), 10, axis=0)
    with pytest.raises(ValueError, match="only 2 distinct points, fewer than k=3"):
        init_centroids(X, 3, "k-means++", seed=0)


def test_greedy_with_one_trial_is_plain_kmeanspp():
    X = np.random.default_rng(0).normal(size=(300, 4))
    for s in range(5):
        np.testing.assert_array_equal(
            init_centroids(X, 6, "greedy-k-means++", n_local_trials=1, seed=s),
            init_centroids(X, 6, "k-means++", seed=s),
        )


def _blobs(seed=0, k=10):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-20, 20, (k, 2))
    return np.vstack([rng.normal(c, 1.0, (50, 2)) for c in centers])


def test_greedy_lowers_the_potential_on_average():
    X = _blobs()
    plain = [
        _potential(X, init_centroids(X, 10, "k-means++", seed=s)) for s in range(40)
    ]
    greedy = [
        _potential(X, init_centroids(X, 10, "greedy-k-means++", seed=s))
        for s in range(40)
    ]
    assert np.mean(greedy) < 0.8 * np.mean(plain)
    assert np.std(greedy) < np.std(plain)


def test_greedy_matches_sklearn_kmeans_plusplus_in_distribution():
    # scikit-learn's kmeans_plusplus is greedy with 2 + floor(log k) trials.
    X = _blobs(1)
    ours = [
        _potential(X, init_centroids(X, 10, "greedy-k-means++", seed=s))
        for s in range(40)
    ]
    theirs = [
        _potential(X, kmeans_plusplus(X, 10, random_state=s)[0]) for s in range(40)
    ]
    assert np.median(ours) == pytest.approx(np.median(theirs), rel=0.25)


def test_greedy_default_number_of_trials_is_two_plus_log_k(monkeypatch):
    import lib.init as init_mod

    seen = []
    real = init_mod.kmeans_plusplus

    def spy(X, k, rng, n_local_trials, metric):
        seen.append(n_local_trials)
        return real(X, k, rng, n_local_trials, metric)

    monkeypatch.setattr(init_mod, "kmeans_plusplus", spy)
    X = np.random.default_rng(0).normal(size=(100, 2))
    for k in (1, 2, 3, 8, 20):
        init_centroids(X, k, "greedy-k-means++", seed=0)
    init_centroids(X, 8, "k-means++", seed=0)
    assert seen == [2, 2 + 0, 2 + 1, 2 + 2, 2 + 2, 1]  # floor(ln k): 0, 0, 1, 2, 2


def test_greedy_keeps_the_best_candidate_by_hand():
    # Two far pairs; with many trials the second center must land in the far pair.
    X = np.array([[0.0], [0.1], [100.0], [100.1]])
    for s in range(20):
        C = init_centroids(X, 2, "greedy-k-means++", n_local_trials=20, seed=s)
        assert abs(C[0, 0] - C[1, 0]) > 50


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 40),
    d=st.integers(1, 3),
    k=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    init=st.sampled_from(["k-means++", "greedy-k-means++", "sample", "random"]),
    metric=st.sampled_from(["sqeuclidean", "manhattan"]),
)
def test_init_properties(n, d, k, seed, init, metric):
    X = np.random.default_rng(seed).integers(0, 4, size=(n, d)).astype(float)
    k = min(k, count_distinct(X))
    C = init_centroids(X, k, init, metric=metric, seed=seed)
    assert C.shape == (k, d) and np.isfinite(C).all()
    np.testing.assert_array_equal(
        C, init_centroids(X, k, init, metric=metric, seed=seed)
    )
    if init != "random":
        assert _rows_of(C, X) and len(np.unique(C, axis=0)) == k


def test_count_distinct():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 3.0], [0.0, 1.0]])
    assert count_distinct(X) == 2
    assert count_distinct(np.repeat(X, 50_000, axis=0)) == 2
    # Scans everything.
    assert count_distinct(np.repeat(X, 50_000, axis=0), at_least=3) == 2
    assert count_distinct(np.arange(100.0).reshape(-1, 1), at_least=3) >= 3


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, kwargs, exc, pattern",
    [
        ((np.zeros((3, 2)), 4), {}, ValueError, "k=4 is larger"),
        ((np.zeros((3, 2)), 0), {}, ValueError, "k=0"),
        (
            (np.zeros((3, 2)), 2, "kmeans++"),
            {},
            ValueError,
            "init='kmeans\\+\\+' is not supported",
        ),
        ((np.zeros((3, 2)), 2), {"seed": -1}, ValueError, "seed=-1"),
        ((np.zeros(3), 2), {}, ValueError, "2-D"),
    ],
)
def test_bad_input_gets_a_clear_message(args, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        init_centroids(*args, **kwargs)


def test_n_local_trials_is_validated():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="n_local_trials=0"):
        init_centroids(X, 3, "greedy-k-means++", n_local_trials=0, seed=0)


def test_metric_is_validated():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="metric='cosine'"):
        init_centroids(X, 3, "k-means++", metric="cosine", seed=0)
