"""Tests for lib.mahalanobis: direct Mahalanobis assignment and k-means."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_rand_score

import lib
from lib.init import init_centroids
from lib.mahalanobis import (
    mahalanobis_assign,
    mahalanobis_distances,
    mahalanobis_kmeans,
    sqrtm_spd,
)


def random_spd(rng, d):
    A = rng.normal(size=(d, d))
    return A @ A.T + 0.5 * np.eye(d)


def test_counterexample_differs_from_euclidean():
    x, C = np.array([[0.0, 0.0]]), np.array([[3.0, 0.0], [0.0, 1.0]])
    S = np.diag([1.0, 100.0])
    np.testing.assert_array_equal(mahalanobis_distances(x, C, S), [[9.0, 100.0]])
    assert mahalanobis_assign(x, C, S).tolist() == [0]
    assert lib.assign(x, C).tolist() == [1]


def test_distances_match_scipy():
    rng = np.random.default_rng(1)
    X, C, S = rng.normal(size=(50, 4)), rng.normal(size=(6, 4)), random_spd(rng, 4)
    np.testing.assert_allclose(
        mahalanobis_distances(X, C, S),
        cdist(X, C, "mahalanobis", VI=S) ** 2,
        rtol=1e-10,
    )


def test_identity_precision_is_euclidean():
    rng = np.random.default_rng(2)
    X, C = rng.normal(size=(200, 3)), rng.normal(size=(5, 3))
    lab, d = mahalanobis_assign(X, C, np.eye(3), return_distances=True)
    np.testing.assert_array_equal(lab, lib.assign(X, C))
    np.testing.assert_allclose(d, ((X - C[lab]) ** 2).sum(axis=1))


def test_chunked_equals_unchunked():
    rng = np.random.default_rng(3)
    X, C, S = rng.normal(size=(301, 3)), rng.normal(size=(4, 3)), random_spd(rng, 3)
    full = mahalanobis_distances(X, C, S)
    tiny = mahalanobis_distances(X, C, S, working_memory=1e-4)  # a few rows per chunk
    np.testing.assert_array_equal(full, tiny)
    np.testing.assert_array_equal(
        mahalanobis_assign(X, C, S, working_memory=1e-4), full.argmin(axis=1)
    )


def test_ties_go_to_lowest_index():
    assert mahalanobis_assign(
        [[0.0, 0.0]], [[1.0, 0.0], [-1.0, 0.0]], np.diag([2.0, 1.0])
    ) == [0]


def test_sqrtm_spd_squares_back():
    S = random_spd(np.random.default_rng(4), 5)
    R = sqrtm_spd(S)
    np.testing.assert_allclose(R @ R, S, atol=1e-10)
    np.testing.assert_allclose(R, R.T)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 4), k=st.integers(1, 5))
def test_equals_euclidean_kmeans_on_whitened_data(seed, d, k):
    # The theorem of the chapter, checked on random problems: the direct
    # Mahalanobis run and lib.kmeans on X @ precision^(1/2) take the same steps.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, d)) + 3 * rng.integers(0, 3, size=(60, 1))
    S = random_spd(rng, d)
    R = sqrtm_spd(S)
    C0 = init_centroids(X, k, "sample", seed=seed)
    # tol=0: only the label rule stops, so no rounding at a tolerance boundary.
    m = mahalanobis_kmeans(X, k, S, init=C0, tol=0)
    e = lib.kmeans(X @ R, k, init=C0 @ R, tol=0)
    assert adjusted_rand_score(m.labels, e.labels) == pytest.approx(1.0)
    np.testing.assert_array_equal(m.labels, e.labels)
    np.testing.assert_allclose(m.centroids @ R, e.centroids, rtol=1e-7, atol=1e-7)
    assert m.inertia == pytest.approx(e.inertia, rel=1e-9, abs=1e-9)
    assert m.n_iter == e.n_iter


def test_relative_tol_is_the_whitened_one():
    # A loose tol makes the shift rule fire; it must fire on the same step as
    # lib.kmeans on the whitened data.
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 3))
    S = random_spd(rng, 3)
    R = sqrtm_spd(S)
    C0 = init_centroids(X, 6, "sample", seed=1)
    for tol in (1e-1, 1e-2, 1e-3):
        m = mahalanobis_kmeans(X, 6, S, init=C0, tol=tol)
        e = lib.kmeans(X @ R, 6, init=C0 @ R, tol=tol)
        assert m.n_iter == e.n_iter
        assert m.inertia == pytest.approx(e.inertia, rel=1e-9)


def test_sample_init_matches_lib_kmeans_sample_init():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 2))
    a = mahalanobis_kmeans(X, 3, np.eye(2), init="sample", seed=7, max_iter=1)
    b = lib.kmeans(X, 3, init="sample", seed=7, max_iter=1)
    np.testing.assert_array_equal(a.history.centroids[0], b.history.centroids[0])


def test_result_is_consistent_and_monotone():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 3))
    S = random_spd(rng, 3)
    res = mahalanobis_kmeans(X, 6, S, seed=0, tol=0)
    assert res.converged
    np.testing.assert_array_equal(res.labels, mahalanobis_assign(X, res.centroids, S))
    for j in range(6):  # centroids are the plain means of their clusters
        np.testing.assert_allclose(res.centroids[j], X[res.labels == j].mean(axis=0))
    assert np.all(np.diff(res.history.inertia) <= 1e-9 * res.history.inertia[0])
    diff = X - res.centroids[res.labels]
    assert res.inertia == pytest.approx(np.einsum("ij,jk,ik->", diff, S, diff))


def test_errors():
    X = np.zeros((4, 2)) + np.arange(4)[:, None]
    with pytest.raises(
        ValueError, match=r"precision has shape \(3, 3\) but X has 2 features"
    ):
        mahalanobis_assign(X, X[:2], np.eye(3))
    with pytest.raises(ValueError, match=r"precision is not symmetric"):
        mahalanobis_assign(X, X[:2], np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"precision is not positive definite"):
        mahalanobis_assign(X, X[:2], np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"centroids have 3 features but X has 2"):
        mahalanobis_distances(X, np.zeros((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match=r"k=5 is larger than the number of samples"):
        mahalanobis_kmeans(X, 5, np.eye(2))
    with pytest.raises(ValueError, match=r"init='k-means\+\+' is not supported"):
        mahalanobis_kmeans(X, 2, np.eye(2), init="k-means++")
    with pytest.raises(ValueError, match=r"init has shape \(3, 2\) but k=2"):
        mahalanobis_kmeans(X, 2, np.eye(2), init=X[:3])
    with pytest.raises(ValueError, match=r"only 1 distinct points, fewer than k=2"):
        mahalanobis_kmeans(np.ones((4, 2)), 2, np.eye(2))
    with pytest.raises(ValueError, match=r"working_memory=0.0 is invalid"):
        mahalanobis_assign(X, X[:2], np.eye(2), working_memory=0)
    with pytest.raises(TypeError, match=r"precision must hold numbers"):
        mahalanobis_assign(X, X[:2], [["a", "b"], ["c", "d"]])
