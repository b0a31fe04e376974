"""Tests for lib.reference: the slow, readable code agrees with the fast lib.

``lloyd`` must give the labels and centroids of ``lib.kmeans`` from the same
initial centroids (with ``tol=0``, so that both stop when the labels repeat),
and ``assign_naive`` the labels and distances of ``lib.assign``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lib
from lib.reference import assign_naive, lloyd, lloyd_zero_fill


def assert_same_as_kmeans(X, C0, max_iter=300):
    """lloyd and lib.kmeans from C0: equal labels, centroids equal to rounding."""
    C, labels = lloyd(X, C0, max_iter=max_iter)
    res = lib.kmeans(X, len(C0), init=np.asarray(C0), tol=0, max_iter=max_iter)
    np.testing.assert_array_equal(labels, res.labels)
    np.testing.assert_allclose(C, res.centroids, rtol=1e-10, atol=1e-10)
    return C, labels, res


# ---------------------------------------------------------------- lloyd


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "n, d, k",
    [
        (50, 1, 4),  # one feature
        (600, 2, 3),  # the chapter's blobs
        (500, 3, 16),  # pixels: the compiled loop for few features
        (400, 12, 20),  # d < k: the packed product
        (300, 40, 5),  # d > k: the plain matrix product
    ],
)
def test_lloyd_same_as_kmeans_on_random_data(seed, n, d, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.integers(-3, 4, size=(n, 1))
    # Half the starts are data points, half Gaussian draws (which can be far).
    if seed % 2:
        C0 = rng.normal(size=(k, d))
    else:
        C0 = X[rng.choice(n, k, replace=False)]
    C, labels, res = assert_same_as_kmeans(X, C0)
    assert res.converged
    np.testing.assert_array_equal(labels, lib.assign(X, C))  # a final assignment


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 120),
    d=st.integers(1, 12),
    k=st.integers(1, 8),
    max_iter=st.sampled_from([1, 2, 5, 300]),
)
def test_lloyd_same_as_kmeans_any_shape(seed, n, d, k, max_iter):
    rng = np.random.default_rng(seed)
    k = min(k, n)
    X = rng.normal(size=(n, d))
    C0 = rng.normal(scale=2.0, size=(k, d))  # far draws leave clusters empty
    assert_same_as_kmeans(X, C0, max_iter)


def test_lloyd_empty_cluster_takes_the_worst_served_point():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 8.0])
    C0 = np.array([[0.0, 0.0], [8.0, 8.0], [100.0, 100.0], [-100.0, 50.0]])
    D = ((X[:, None, :] - C0[None]) ** 2).sum(axis=2)
    assert np.bincount(D.argmin(axis=1), minlength=4)[2:].tolist() == [0, 0]
    C, labels, _ = assert_same_as_kmeans(X, C0)
    assert np.bincount(labels, minlength=4).min() > 0  # never empty at the end
    assert np.abs(C).max() < 20  # both far centroids moved onto the data


def test_lloyd_by_hand_with_exact_ties():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    # 2 is as close to 1 as to 3: the lower index wins, at every assignment.
    C, labels, _ = assert_same_as_kmeans(X, [[1.0], [3.0]])
    assert C.ravel().tolist() == [1.0, 3.0] and labels.tolist() == [0, 0, 0, 1]
    # Centroid 2 starts empty and takes 6.0, the worst-served point. Then centroid
    # 1 is empty, and 1.0 and 5.0 are equally badly served: the lower index wins.
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    C, labels, res = assert_same_as_kmeans(X, [[0.0], [1.0], [99.0]])
    assert C.ravel().tolist() == [0.0, 1.0, 5.5] and labels.tolist() == [0, 1, 2, 2]
    assert res.n_iter == 2


def test_lloyd_on_a_grid_with_ties():
    g = np.arange(4.0)
    X = np.array([[a, b] for a in g for b in g])  # 16 points, many equidistant
    assert_same_as_kmeans(X, [[0.0, 0.0], [3.0, 3.0], [0.0, 3.0]])
    assert_same_as_kmeans(X, [[1.0, 1.0], [2.0, 2.0]])


@settings(max_examples=60, deadline=None)
@given(
    X=arrays(
        np.int64,
        st.tuples(st.integers(2, 30), st.integers(1, 4)),
        elements=st.integers(-4, 4),
    ),
    k=st.integers(1, 5),
    data=st.data(),
)
def test_lloyd_first_step_exact_on_small_integers(X, k, data):
    # Integers are exact in float64: the first assignment, its ties and the
    # empty-cluster choice must be identical, and so the first means, bit for bit.
    # (Later ties between non-integer means may round either way.)
    k = min(k, len(np.unique(X, axis=0)))
    C0 = data.draw(arrays(np.int64, (k, X.shape[1]), elements=st.integers(-4, 4)))
    _, labels = lloyd(X, C0, max_iter=0)  # only the first assignment
    np.testing.assert_array_equal(labels, lib.assign(X, C0))
    C, _ = lloyd(X, C0, max_iter=1)
    res = lib.kmeans(X, k, init=C0.astype(float), tol=0, max_iter=1)
    np.testing.assert_array_equal(C, res.centroids)


def test_lloyd_stops_when_the_labels_repeat():
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    C, labels = lloyd(X, [[0.0], [1.0]], max_iter=1)  # not yet at the fixed point
    assert C.ravel().tolist() == [0.0, 4.0] and labels.tolist() == [0, 0, 1, 1]
    C, labels = lloyd(X, [[0.0], [1.0]])
    assert C.ravel().tolist() == [0.5, 5.5]


# ---------------------------------------------------------------- lloyd_zero_fill


def test_zero_fill_leaves_a_far_centroid_empty_for_good():
    X = np.array([[10.0, 10.0], [11.0, 10.0], [20.0, 20.0], [21.0, 20.0]])
    C, labels = lloyd_zero_fill(X, [[10.0, 10.0], [20.0, 20.0], [99.0, 99.0]])
    assert C[2].tolist() == [0.0, 0.0] and 2 not in labels.tolist()
    _, good = lloyd(X, [[10.0, 10.0], [20.0, 20.0], [99.0, 99.0]])
    assert sorted(np.bincount(good).tolist()) == [1, 1, 2]


# ---------------------------------------------------------------- assign_naive


def test_hand_computed():
    X = [[0.0, 0.0], [9.0, 9.0], [1.0, 0.0], [5.0, 5.0]]
    C = [[0.0, 0.0], [10.0, 10.0]]
    labels, dist = assign_naive(X, C, return_distances=True)
    assert labels == [0, 1, 0, 0]  # (5, 5) is equidistant: the tie goes to 0
    assert dist == [0.0, 2.0, 1.0, 50.0]


def test_manhattan_by_hand():
    labels, dist = assign_naive(
        [[0.0, 3.0]], [[2.0, 2.0], [0.0, 0.0]], "manhattan", return_distances=True
    )
    assert labels == [0] and dist == [3.0]


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(
        np.int64,
        st.tuples(st.integers(1, 30), st.integers(1, 4)),
        elements=st.integers(-5, 5),
    ),
    k=st.integers(1, 5),
    metric=st.sampled_from(["sqeuclidean", "manhattan"]),
    data=st.data(),
)
def test_agrees_with_fast_assign_exactly_on_small_integers(X, k, metric, data):
    # Small integers are exact in float64, so even ties must be broken identically.
    C = data.draw(arrays(np.int64, (k, X.shape[1]), elements=st.integers(-5, 5)))
    fast, fast_d = lib.assign(X, C, metric, return_distances=True)
    slow, slow_d = assign_naive(X, C, metric, return_distances=True)
    assert slow == fast.tolist()
    np.testing.assert_array_equal(slow_d, fast_d)


def test_agrees_with_fast_assign_on_floats():
    rng = np.random.default_rng(0)
    X, C = rng.normal(size=(500, 3)), rng.normal(size=(7, 3))
    labels, dist = assign_naive(X, C, return_distances=True)
    np.testing.assert_array_equal(labels, lib.assign(X, C))
    np.testing.assert_allclose(dist, ((X - C[labels]) ** 2).sum(axis=1), rtol=1e-12)


def test_uint8_pixels_do_not_wrap():
    X = np.array([[255, 255, 255], [0, 0, 0]], dtype=np.uint8)
    _, dist = assign_naive(
        X, np.array([[0, 0, 0]], dtype=np.uint8), return_distances=True
    )
    assert dist == [3 * 255.0**2, 0.0]


def test_errors():
    with pytest.raises(ValueError, match=r"centroids have 3 features but X has 2"):
        assign_naive([[0.0, 1.0]], [[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"metric='cosine' is not supported"):
        assign_naive([[0.0]], [[0.0]], "cosine")
    with pytest.raises(ValueError, match=r"X contains NaN"):
        assign_naive([[np.nan]], [[0.0]])
    with pytest.raises(ValueError, match=r"centroids must be 2-D"):
        assign_naive([[0.0]], [0.0])
    with pytest.raises(TypeError, match=r"X must be a 2-D array"):
        assign_naive("abc", [[0.0]])
