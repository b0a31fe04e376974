"""Tests for lib.spherical: cosine helpers, exact cosine k-NN and spherical k-means."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from lib.pq import recall_at_k
from lib.spherical import (
    cosine_knn,
    cosine_similarities,
    mean_cosine_similarity,
    normalize_rows,
    spherical_kmeans,
)


def blobs(n=400, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32)


# ------------------------------------------------------------- cosine helpers


def test_cosine_similarities_agree_with_a_loop():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    loop = [x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(X, Y)]
    np.testing.assert_allclose(cosine_similarities(X, Y), loop)
    assert mean_cosine_similarity(X, 3.0 * X) == pytest.approx(1.0)


def test_normalize_rows_in_place_float32():
    X = blobs(100, 4) * 7
    normalize_rows(X, out=X)
    assert X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-6)


def test_cosine_knn_agrees_with_sklearn():
    rng = np.random.default_rng(4)
    X, Q = rng.normal(size=(300, 6)), rng.normal(size=(20, 6))
    ref = NearestNeighbors(n_neighbors=5, metric="cosine", algorithm="brute").fit(X)
    _, want = ref.kneighbors(Q)
    rows_37 = 37 * 8 * (6 + 20) / 2**20  # 37 database rows a chunk
    np.testing.assert_array_equal(
        cosine_knn(Q, X, n_neighbors=5, working_memory=rows_37), want
    )


# ------------------------------------------------------------- spherical k-means


def test_spherical_kmeans_ignores_norms():
    rng = np.random.default_rng(5)
    dirs = normalize_rows(rng.normal(size=(4, 10)))
    labels = rng.integers(0, 4, size=400)
    X = normalize_rows(dirs[labels] + 0.2 * rng.normal(size=(400, 10)) / np.sqrt(10))
    res = spherical_kmeans(X, 4, seed=0, n_init=3)
    scaled = X * rng.lognormal(0, 2, size=(400, 1))  # heavy-tailed lengths
    res2 = spherical_kmeans(scaled, 4, seed=0, n_init=3)
    np.testing.assert_array_equal(res2.labels, res.labels)
    assert adjusted_rand_score(labels, res.labels) == pytest.approx(1.0)
    np.testing.assert_allclose(np.linalg.norm(res.centroids, axis=1), 1.0)
    assert np.all(np.diff(res.history.inertia) <= 1e-9)  # monotone in cosine
    cos = (X * res.centroids[res.labels]).sum(1)
    assert res.inertia == pytest.approx(np.sum(1 - cos))


def test_spherical_centroid_is_the_best_direction():
    # For one cluster the optimal unit centroid is the normalized mean direction.
    rng = np.random.default_rng(6)
    X = normalize_rows(rng.normal(size=(50, 3)) + [3, 0, 0])
    res = spherical_kmeans(X, 1, seed=0)
    mean = X.mean(0) / np.linalg.norm(X.mean(0))
    np.testing.assert_allclose(res.centroids[0], mean, atol=1e-12)


# ------------------------------------------------------------- bad inputs


def test_bad_cosine_inputs():
    X = blobs(20, 3)
    Z = X.copy()
    Z[4] = 0
    with pytest.raises(ValueError, match="row 4 of X has norm 0.0"):
        normalize_rows(Z)
    with pytest.raises(ValueError, match="row 4 of X has norm"):
        spherical_kmeans(Z, 2, seed=0)
    with pytest.raises(
        ValueError, match=r"X has shape \(20, 3\) but Y has shape \(19, 3\)"
    ):
        cosine_similarities(X, X[:19])
    with pytest.raises(ValueError, match="k=21 is larger than the number of samples"):
        spherical_kmeans(X, 21, seed=0)
    with pytest.raises(ValueError, match="init='kmeans' is not supported"):
        spherical_kmeans(X, 2, init="kmeans")
    with pytest.raises(ValueError, match="init has shape"):
        spherical_kmeans(X, 2, init=np.ones((3, 3)))
    with pytest.raises(ValueError, match="found has shape"):
        recall_at_k(np.zeros((2, 3), int), np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="X has 2 features but queries have 3"):
        cosine_knn(X, X[:, :2])
