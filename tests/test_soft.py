"""Tests for lib.soft: soft assignment, soft k-means and spherical GMM EM."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

import lib
from lib.soft import _sq_dist, soft_assign, soft_kmeans, spherical_gmm


def test_soft_assign_by_hand():
    # x = 1 is 1 from both centroids: 1/2 each; x = 0: 1 / (1 + e^-4).
    R = soft_assign(np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]]), beta=1.0)
    np.testing.assert_allclose(
        R, [[1 / (1 + np.exp(-4)), np.exp(-4) / (1 + np.exp(-4))], [0.5, 0.5]]
    )


def test_soft_assign_is_stable_for_huge_beta_and_far_points():
    X = np.array([[1e6, 0.0], [0.0, 0.0]])
    C = np.array([[0.0, 0.0], [1.0, 0.0]])
    R = soft_assign(X, C, beta=1e12)
    assert np.isfinite(R).all()
    np.testing.assert_array_equal(R, [[0.0, 1.0], [1.0, 0.0]])


def test_large_beta_is_hard_kmeans_and_small_beta_is_uniform():
    rng = np.random.default_rng(0)
    X, C = rng.normal(size=(200, 3)), rng.normal(size=(4, 3))
    R = soft_assign(X, C, beta=1e8)
    np.testing.assert_array_equal(R.argmax(1), lib.assign(X, C))
    np.testing.assert_allclose(R.max(1), 1.0)
    np.testing.assert_allclose(soft_assign(X, C, beta=1e-12), 0.25, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 3)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    k=st.integers(1, 4),
    beta=st.floats(1e-6, 1e6),
    seed=st.integers(0, 99),
)
def test_soft_assign_rows_are_distributions_ordered_by_distance(X, k, beta, seed):
    # lib's range: all zeros, or a largest |x| of at least 1e-150 (below that lib
    # refuses the data, tests/test_reliability.py).
    assume(np.abs(X).max() == 0 or np.abs(X).max() >= 1e-150)
    C = np.random.default_rng(seed).normal(scale=100, size=(k, X.shape[1]))
    R = soft_assign(X, C, beta)
    assert np.isfinite(R).all() and (R >= 0).all()
    np.testing.assert_allclose(R.sum(1), 1.0, rtol=1e-12)
    # Nearer centroid, larger responsibility (compare to exact distances).
    D = ((X[:, None] - C[None]) ** 2).sum(-1)
    i = np.arange(len(X))
    near = D.argmin(1)
    Ds = np.sort(D, axis=1)
    clear = (
        (Ds[:, 1] - Ds[:, 0] > 1e-6 * (1 + Ds[:, 0]))
        if k > 1
        else np.ones(len(X), bool)
    )
    assert (R[i, near] >= R.max(1))[clear].all()


def test_soft_kmeans_large_beta_matches_lloyd_from_same_init():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 0.5, (60, 2)) for c in (0, 4, 8)])
    C0 = X[[0, 60, 120]]
    hard = lib.kmeans(X, 3, init=C0, tol=0)
    soft = soft_kmeans(X, 3, beta=1e4, init=C0, tol=0, max_iter=100)
    np.testing.assert_allclose(soft.centroids, hard.centroids, atol=1e-8)
    assert adjusted_rand_score(hard.labels, soft.labels) == 1.0
    assert soft.inertia == pytest.approx(hard.inertia)


def test_soft_kmeans_tiny_beta_collapses_to_the_mean():
    X = np.random.default_rng(2).normal(size=(100, 2))
    res = soft_kmeans(X, 3, beta=1e-9, seed=0)
    np.testing.assert_allclose(
        res.centroids, np.repeat(X.mean(0)[None], 3, 0), atol=1e-6
    )
    assert res.converged
    np.testing.assert_allclose(res.responsibilities.sum(1), 1.0)


def test_soft_kmeans_is_reproducible_and_validates():
    X = np.random.default_rng(3).normal(size=(50, 2))
    a = soft_kmeans(X, 2, beta=1.0, seed=0)
    b = soft_kmeans(X, 2, beta=1.0, seed=0)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    Xd = np.zeros((5, 2))
    with pytest.raises(ValueError, match="only 1 distinct"):
        soft_kmeans(Xd, 2, beta=1.0)


def _mixture(seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack(
        [
            rng.normal(0, 1.0, (300, 2)),
            rng.normal(4, 2.0, (300, 2)),
            rng.normal([0, 6], 0.5, (200, 2)),
        ]
    )


def _hard_init(X, M):
    lab = np.argmin(_sq_dist(X, M), 1)
    k = len(M)
    nk = np.bincount(lab, minlength=k)
    w0 = nk / len(X)
    v0 = (
        np.array(
            [
                ((X[lab == j] - X[lab == j].mean(0)) ** 2).sum() / (nk[j] * X.shape[1])
                for j in range(k)
            ]
        )
        + 1e-6
    )
    return w0, v0


def test_spherical_gmm_matches_sklearn_spherical_from_same_init():
    X = _mixture()
    M = X[[0, 300, 600]] + 0.5
    w0, v0 = _hard_init(X, M)
    ours = spherical_gmm(X, 3, means_init=M, tol=1e-8, max_iter=500)
    sk = GaussianMixture(
        3,
        covariance_type="spherical",
        means_init=M,
        weights_init=w0,
        precisions_init=1 / v0,
        tol=1e-8,
        max_iter=500,
        random_state=0,
    ).fit(X)
    assert ours.n_iter == sk.n_iter_ and ours.converged
    np.testing.assert_allclose(ours.means, sk.means_, atol=1e-10)
    np.testing.assert_allclose(ours.variances, sk.covariances_, rtol=1e-10)
    np.testing.assert_allclose(ours.weights, sk.weights_, atol=1e-12)
    assert ours.log_likelihood == pytest.approx(sk.score(X), abs=1e-10)
    np.testing.assert_allclose(ours.responsibilities, sk.predict_proba(X), atol=1e-10)


def test_spherical_gmm_default_init_recovers_components():
    X = _mixture(1)
    res = spherical_gmm(X, 3, seed=0)
    sds = np.sort(np.sqrt(res.variances))
    np.testing.assert_allclose(sds, [0.5, 1.0, 2.0], rtol=0.15)
    np.testing.assert_allclose(np.sort(res.weights), [0.25, 0.375, 0.375], atol=0.05)
    truth = np.repeat([0, 1, 2], [300, 300, 200])
    assert adjusted_rand_score(truth, res.labels) > 0.8


def test_shared_variance_e_step_is_soft_assign():
    # With equal weights and one shared sigma^2, the E-step is soft_assign with
    # beta = 1 / (2 sigma^2).
    X = _mixture(2)
    res = spherical_gmm(X, 3, shared=True, seed=0, max_iter=200, tol=1e-10)
    assert np.ptp(res.variances) == 0
    from lib.soft import e_step

    _, R = e_step(X, res.means, res.variances, np.full(3, 1 / 3))
    np.testing.assert_allclose(
        R, soft_assign(X, res.means, 1 / (2 * res.variances[0])), atol=1e-12
    )


def test_em_never_decreases_the_log_likelihood():
    X = _mixture(3)
    lls = [
        spherical_gmm(X, 3, seed=0, tol=0, max_iter=t).log_likelihood
        for t in range(1, 15)
    ]
    assert np.all(np.diff(lls) >= -1e-10)


@pytest.mark.parametrize(
    "fn, kwargs, exc, pattern",
    [
        (
            soft_assign,
            dict(centroids=np.zeros((2, 3)), beta=1.0),
            ValueError,
            "centroids have 3",
        ),
        (
            soft_assign,
            dict(centroids=np.zeros((2, 2)), beta=0.0),
            ValueError,
            "beta=0.0",
        ),
        (
            soft_assign,
            dict(centroids=np.zeros((2, 2)), beta=-1.0),
            ValueError,
            "beta=-1.0",
        ),
        (
            soft_assign,
            dict(centroids=np.zeros((2, 2)), beta="1"),
            TypeError,
            "beta must be",
        ),
        (soft_kmeans, dict(k=0, beta=1.0), ValueError, "k=0"),
        (soft_kmeans, dict(k=2, beta=0.0), ValueError, "beta=0.0"),
        (soft_kmeans, dict(k=2, beta=1.0, init="kpp"), ValueError, "init='kpp'"),
        (
            soft_kmeans,
            dict(k=2, beta=1.0, init=np.zeros((3, 2))),
            ValueError,
            "init has shape",
        ),
        (soft_kmeans, dict(k=2, beta=1.0, max_iter=0), ValueError, "max_iter=0"),
        (spherical_gmm, dict(k=20), ValueError, "k=20 is larger"),
        (spherical_gmm, dict(k=2, shared="yes"), TypeError, "shared must be"),
        (
            spherical_gmm,
            dict(k=2, means_init=np.zeros((3, 2))),
            ValueError,
            "means_init has shape",
        ),
        (spherical_gmm, dict(k=2, reg_covar=-1.0), ValueError, "reg_covar=-1.0"),
        (spherical_gmm, dict(k=2, tol=-1.0), ValueError, "tol=-1.0"),
    ],
)
def test_bad_input_gets_a_clear_message(fn, kwargs, exc, pattern):
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(exc, match=pattern):
        fn(X, **kwargs)
