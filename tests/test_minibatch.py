"""Tests for lib.minibatch.minibatch_kmeans (Sculley 2010)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import lib
from lib.lloyd import KMeansResult
from lib.minibatch import minibatch_kmeans, minibatch_step


def _blobs(n=3000, k=4, seed=0):
    return make_blobs(n_samples=n, centers=k, cluster_std=0.6, random_state=seed)


def test_batch_update_equals_pointwise_running_means():
    # Sculley's per-point rule c <- (1 - 1/v) c + (1/v) x, applied one point at
    # a time, must equal the vectorized batch update.
    rng = np.random.default_rng(1)
    C = rng.normal(size=(3, 2))
    counts = np.array([0.0, 4.0, 7.0])
    Xb = rng.normal(size=(50, 2))
    C_seq, v = C.copy(), counts.copy()
    labels = np.argmin(((Xb[:, None] - C[None]) ** 2).sum(-1), axis=1)
    for x, c in zip(Xb, labels):
        v[c] += 1
        C_seq[c] += (x - C_seq[c]) / v[c]
    C_vec, v_vec = C.copy(), counts.copy()
    lab, cost = minibatch_step(Xb, C_vec, v_vec, np.einsum("ij,ij->i", Xb, Xb))
    np.testing.assert_array_equal(lab, labels)
    np.testing.assert_allclose(C_vec, C_seq, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(v_vec, v)
    np.testing.assert_allclose(cost, ((Xb - C[labels]) ** 2).sum(1))


def test_first_step_moves_a_fresh_centroid_to_its_batch_mean():
    # With v_c = 0 the learning rate is 1: the centroid jumps to the batch mean.
    C = np.array([[0.0], [10.0]])
    Xb = np.array([[1.0], [2.0], [9.0]])
    counts = np.zeros(2)
    minibatch_step(Xb, C, counts, Xb[:, 0] ** 2)
    np.testing.assert_allclose(C, [[1.5], [9.0]])
    np.testing.assert_array_equal(counts, [2, 1])


def test_returns_the_kmeans_result_object():
    X, _ = _blobs()
    res = minibatch_kmeans(X, 4, batch_size=100, max_iter=30, seed=0)
    assert isinstance(res, KMeansResult)
    assert res.centroids.shape == (4, 2) and res.labels.shape == (3000,)
    assert len(res.history.centroids) == len(res.history.inertia) == res.n_iter + 1
    np.testing.assert_array_equal(res.labels, lib.assign(X, res.centroids))
    d = ((X - res.centroids[res.labels]) ** 2).sum()
    assert res.inertia == pytest.approx(d)


def test_close_to_full_lloyd_on_blobs():
    X, y = _blobs(n=5000, k=5, seed=3)
    full = lib.kmeans(X, 5, n_init=3, seed=0)
    mb = minibatch_kmeans(X, 5, batch_size=256, max_iter=200, n_init=3, seed=0)
    assert adjusted_rand_score(full.labels, mb.labels) > 0.95
    assert mb.inertia <= 1.05 * full.inertia
    assert (
        mb.inertia >= full.inertia * (1 - 1e-9)
        or adjusted_rand_score(y, mb.labels) > 0.95
    )


def test_reproducible_with_seed_and_different_across_seeds():
    X, _ = _blobs()
    a = minibatch_kmeans(
        X, 4, batch_size=64, max_iter=20, seed=5, max_no_improvement=None
    )
    b = minibatch_kmeans(
        X, 4, batch_size=64, max_iter=20, seed=5, max_no_improvement=None
    )
    c = minibatch_kmeans(
        X, 4, batch_size=64, max_iter=20, seed=6, max_no_improvement=None
    )
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert not np.array_equal(a.centroids, c.centroids)


def test_full_history_is_exact_and_callback_sees_every_step():
    X, _ = _blobs(n=800)
    seen = []
    res = minibatch_kmeans(
        X,
        4,
        batch_size=50,
        max_iter=15,
        full_history=True,
        max_no_improvement=None,
        seed=0,
        callback=lambda t, C: seen.append((t, C.copy())),
    )
    assert [t for t, _ in seen] == list(range(1, 16)) and res.n_iter == 15
    assert not res.converged
    for t, C in seen:
        np.testing.assert_array_equal(C, res.history.centroids[t])
        lab = lib.assign(X, C)
        assert res.history.inertia[t] == pytest.approx(((X - C[lab]) ** 2).sum())


def test_init_array_is_used_and_early_stopping_fires():
    X, _ = _blobs()
    C0 = X[:4].copy()
    res = minibatch_kmeans(X, 4, init=C0, batch_size=500, max_iter=1000, seed=0)
    np.testing.assert_array_equal(res.history.centroids[0], C0)
    assert res.converged and res.n_iter < 1000


def test_tol_rule_stops():
    X, _ = _blobs()
    res = minibatch_kmeans(
        X, 4, batch_size=2000, max_iter=500, tol=1e-2, max_no_improvement=None, seed=0
    )
    assert res.converged and res.n_iter < 500


def test_duplicates_and_few_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 100, axis=0)
    res = minibatch_kmeans(X, 3, batch_size=10, max_iter=20, seed=0)
    assert sorted(res.centroids[:, 0].round(9).tolist()) == [0.0, 1.0, 5.0]
    with pytest.raises(ValueError, match="only 3 distinct points"):
        minibatch_kmeans(X, 4, seed=0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(5, 60),
    k=st.integers(1, 5),
    b=st.integers(1, 40),
    seed=st.integers(0, 1000),
)
def test_properties(n, k, b, seed):
    X = np.random.default_rng(seed).normal(size=(n, 3))
    k = min(k, n)
    res = minibatch_kmeans(X, k, batch_size=b, max_iter=10, seed=seed)
    assert np.isfinite(res.centroids).all()
    assert res.labels.min() >= 0 and res.labels.max() < k
    assert res.inertia >= 0
    # Labels are always the exact nearest-centroid assignment.
    np.testing.assert_array_equal(res.labels, lib.assign(X, res.centroids))
    # Every centroid stays inside the bounding box of the data (running means).
    assert (res.centroids >= X.min(0) - 1e-9).all() and (
        res.centroids <= X.max(0) + 1e-9
    ).all()


X4 = np.arange(20.0).reshape(10, 2)


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        (dict(k=0), ValueError, "k=0"),
        (dict(k=11), ValueError, "k=11 is larger"),
        (dict(k=2, batch_size=0), ValueError, "batch_size=0"),
        (dict(k=2, batch_size=2.5), TypeError, "batch_size must be an integer"),
        (dict(k=2, max_iter=0), ValueError, "max_iter=0"),
        (dict(k=2, n_init=0), ValueError, "n_init=0"),
        (dict(k=2, tol=-1.0), ValueError, "tol=-1.0"),
        (dict(k=2, max_no_improvement=0), ValueError, "max_no_improvement=0"),
        (dict(k=3, init_size=2), ValueError, "init_size=2"),
        (dict(k=2, init_size=11), ValueError, "init_size=11"),
        (
            dict(k=2, init="kmeans++"),
            ValueError,
            "init='kmeans\\+\\+' is not supported",
        ),
        (dict(k=2, init=np.zeros((3, 2))), ValueError, "init has shape"),
        (dict(k=2, callback=3), TypeError, "callback must be callable"),
        (dict(k=2, seed="zero"), TypeError, "seed must be"),
        (dict(k=2, working_memory=0.0), ValueError, "working_memory"),
    ],
)
def test_bad_input_gets_a_clear_message(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        minibatch_kmeans(X4, **kwargs)


def test_rejects_bad_X():
    with pytest.raises(ValueError, match="NaN"):
        minibatch_kmeans(np.array([[0.0], [np.nan]]), 1)
    with pytest.raises(ValueError, match="2-D"):
        minibatch_kmeans(np.zeros(5), 1)
