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


def test_float32_is_used_without_copying_X():
    import tracemalloc

    from lib._validation import check_array

    X = np.random.default_rng(0).standard_normal((400_000, 64), dtype=np.float32)
    assert check_array(X, keep_float32=True) is X
    kw = dict(batch_size=1024, max_iter=5, max_no_improvement=None, seed=0)
    minibatch_kmeans(X[:5000], 8, **kw)  # compile the float32 loops first

    def peak(data):
        tracemalloc.start()
        res = minibatch_kmeans(data, 8, **kw)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return res, top

    half, half_peak = peak(X[:200_000])
    res, full_peak = peak(X)
    # A float64 copy would be twice X. What grows with n is the n-long labels
    # and distances (16 bytes a row against X's 256); the rest is a batch and
    # the distance blocks, bounded by working_memory.
    assert full_peak < 0.5 * X.nbytes, full_peak / X.nbytes
    assert full_peak - half_peak < 0.15 * X.nbytes / 2, full_peak - half_peak
    # Each batch is converted on its own: the arithmetic is float64's.
    ref = minibatch_kmeans(X.astype(np.float64), 8, **kw)
    np.testing.assert_array_equal(res.centroids, ref.centroids)
    np.testing.assert_array_equal(res.labels, ref.labels)
    assert res.inertia == ref.inertia


def _dead_centroid_run(**kw):
    # Two blobs and a third centroid far from both: it never wins a point.
    X, _ = _blobs(n=2000, k=2, seed=1)
    C0 = np.vstack([X[:2], [[1000.0, 1000.0]]])
    return X, minibatch_kmeans(
        X, 3, init=C0, batch_size=64, max_iter=30, max_no_improvement=None, **kw
    )


def test_a_centroid_that_wins_no_point_is_relocated():
    X, res = _dead_centroid_run(seed=0)
    # Moved onto a data point after the first step, it then wins points.
    assert not np.array_equal(res.history.centroids[1][2], [1000.0, 1000.0])
    assert (res.centroids >= X.min(0)).all() and (res.centroids <= X.max(0)).all()
    assert np.bincount(res.labels, minlength=3).min() > 0
    _, again = _dead_centroid_run(seed=0)
    np.testing.assert_array_equal(res.centroids, again.centroids)


def test_reassignment_ratio_zero_is_sculleys_algorithm():
    X, off = _dead_centroid_run(seed=0, reassignment_ratio=0.0)
    np.testing.assert_array_equal(off.centroids[2], [1000.0, 1000.0])
    assert np.bincount(off.labels, minlength=3)[2] == 0
    _, on = _dead_centroid_run(seed=0)
    assert on.inertia < off.inertia


def test_relocation_moves_small_counts_at_most_half_the_batch():
    from lib.minibatch import relocate_small

    C = np.arange(10.0).reshape(5, 2)
    counts = np.array([100.0, 0.0, 0.5, 0.2, 50.0])
    Xb = np.full((4, 2), -7.0)
    moved = relocate_small(C, counts, Xb, 0.01, np.random.default_rng(0))
    # Three are below 1 % of 100, but a batch of 4 gives at most 2: the lowest.
    assert sorted(moved.tolist()) == [1, 3]
    np.testing.assert_array_equal(C[[1, 3]], -7.0)
    kept = np.arange(10.0).reshape(5, 2)[[0, 2, 4]]
    np.testing.assert_array_equal(C[[0, 2, 4]], kept)
    np.testing.assert_array_equal(counts, [100.0, 0.5, 0.5, 0.5, 50.0])


@pytest.mark.parametrize(
    "ratio, exc, pattern",
    [
        (-0.1, ValueError, "reassignment_ratio=-0.1"),
        (1.5, ValueError, "reassignment_ratio=1.5 is larger than 1"),
        ("0.01", TypeError, "reassignment_ratio must be a real number"),
    ],
)
def test_reassignment_ratio_is_checked(ratio, exc, pattern):
    with pytest.raises(exc, match=pattern):
        minibatch_kmeans(X4, 2, reassignment_ratio=ratio)
