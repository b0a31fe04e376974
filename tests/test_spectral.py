"""Tests for lib.spectral.

Laplacians, the embedding, spectral clustering, SCORE, kNN graphs.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from scipy.sparse.csgraph import laplacian as csgraph_laplacian
from sklearn.cluster import SpectralClustering
from sklearn.datasets import make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import kneighbors_graph

from lib.spectral import (
    check_adjacency,
    knn_graph,
    laplacian,
    spectral_clustering,
    spectral_embedding,
    spectral_score,
)

# Nodes 1, 2, 3 link only to node 5; node 4 is isolated
# (0-based: 0, 1, 2 -> 4; 3 alone).
SMALL = np.zeros((5, 5))
for i in (0, 1, 2):
    SMALL[i, 4] = SMALL[4, i] = 1.0


def sbm(sizes, p_in, p_out, seed, theta=None):
    """A (degree-corrected) stochastic block model, symmetric 0/1, no loops."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    P = np.where(y[:, None] == y[None, :], p_in, p_out)
    if theta is not None:
        P = np.minimum(P * np.outer(theta, theta), 1.0)
    U = np.triu(rng.random(P.shape) < P, 1)
    return sp.csr_matrix((U | U.T).astype(float)), y


# ---------------------------------------------------------------- the small graph


def test_small_graph_laplacian_by_hand():
    L = laplacian(SMALL, "unnormalized").toarray()
    expected = np.array(
        [
            [1, 0, 0, 0, -1],
            [0, 1, 0, 0, -1],
            [0, 0, 1, 0, -1],
            [0, 0, 0, 0, 0],
            [-1, -1, -1, 0, 3],
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(L, expected)


@pytest.mark.parametrize("kind", ["unnormalized", "symmetric", "random-walk"])
def test_small_graph_null_space_is_the_components(kind):
    L = laplacian(SMALL, kind).toarray()
    vals, vecs = np.linalg.eig(L)  # L_rw is not symmetric
    assert np.sum(np.abs(vals) < 1e-10) == 2  # two components: {1,2,3,5} and {4}
    # The null space is spanned by the component indicators (L_rw) or by
    # D^{1/2} times them (L_sym); either way L kills them.
    ind = np.array([[1, 1, 1, 0, 1], [0, 0, 0, 1, 0]], dtype=float).T
    if kind == "symmetric":
        ind = (
            ind * np.sqrt(np.maximum(SMALL.sum(1), 0))[:, None]
            + ind * (SMALL.sum(1) == 0)[:, None]
        )
    np.testing.assert_allclose(L @ ind, 0, atol=1e-12)


def test_small_graph_any_basis_of_null_space_recovers_components():
    V, vals = spectral_embedding(
        SMALL, 2, laplacian="unnormalized", return_eigenvalues=True
    )
    np.testing.assert_allclose(vals, 0, atol=1e-12)
    # Mix the basis by a rotation: still a basis, and rows still coincide
    # within a component and differ across.
    c, s = np.cos(0.7), np.sin(0.7)
    W = V @ np.array([[c, -s], [s, c]])
    for B in (V, W):
        assert np.allclose(B[0], B[1]) and np.allclose(B[0], B[4])
        assert not np.allclose(B[0], B[3])
    with pytest.warns(UserWarning, match="2 connected components"):
        res = spectral_clustering(SMALL, 2, laplacian="unnormalized", seed=0)
    labels = res.labels
    assert adjusted_rand_score([0, 0, 0, 1, 0], labels) == 1.0


def test_isolated_nodes_never_divide_by_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            for kind in ("symmetric", "random-walk", "regularized"):
                L = laplacian(SMALL, kind).toarray()
                assert np.isfinite(L).all()
            E = spectral_embedding(SMALL, 3, laplacian="symmetric")
            assert np.isfinite(E).all()
    assert np.all(laplacian(SMALL, "symmetric").toarray()[3] == 0)
    np.testing.assert_array_equal(
        laplacian(SMALL, "regularized").toarray()[3], [0, 0, 0, 1, 0]
    )


# ---------------------------------------------------------------- Laplacian formulas


def test_laplacians_match_scipy_and_definitions():
    A, _ = sbm([20, 30], 0.4, 0.05, seed=1)
    assert np.all(np.asarray(A.sum(1)) > 0)
    Ad = A.toarray()
    d = Ad.sum(1)
    np.testing.assert_allclose(
        laplacian(A, "unnormalized").toarray(), csgraph_laplacian(Ad), atol=1e-12
    )
    np.testing.assert_allclose(
        laplacian(A, "symmetric").toarray(),
        csgraph_laplacian(Ad, normed=True),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        laplacian(A, "random-walk").toarray(), np.eye(50) - Ad / d[:, None], atol=1e-12
    )
    tau = d.mean()
    s = 1 / np.sqrt(d + tau)
    np.testing.assert_allclose(
        laplacian(A, "regularized").toarray(),
        np.eye(50) - s[:, None] * Ad * s[None, :],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        laplacian(A, "regularized", tau=0).toarray(),
        laplacian(A, "symmetric").toarray(),
        atol=1e-12,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 12), st.floats(0.0, 0.6), st.integers(0, 10_000))
def test_zero_multiplicity_equals_components(n, p, seed):
    rng = np.random.default_rng(seed)
    U = np.triu(rng.random((n, n)) < p, 1)
    A = (U | U.T) * rng.uniform(0.5, 2.0, (n, n))
    A = (A + A.T) / 2
    n_comp, _ = connected_components(sp.csr_matrix(A), directed=False)
    for kind in ("unnormalized", "symmetric"):
        L = laplacian(A, kind).toarray()
        vals = np.linalg.eigvalsh(L)
        assert vals.min() > -1e-9  # positive semi-definite
        assert np.sum(vals < 1e-9) == n_comp


def test_random_walk_embedding_solves_the_random_walk_problem():
    A, _ = sbm([15, 15], 0.5, 0.1, seed=2)
    V, vals = spectral_embedding(A, 3, laplacian="random-walk", return_eigenvalues=True)
    Lrw = laplacian(A, "random-walk").toarray()
    np.testing.assert_allclose(Lrw @ V, V * vals, atol=1e-10)


def test_arpack_agrees_with_dense():
    A, _ = sbm([120, 100, 80], 0.1, 0.01, seed=3)
    for lap in ("unnormalized", "symmetric", "regularized"):
        Va, la = spectral_embedding(
            A,
            4,
            laplacian=lap,
            solver="arpack",
            seed=0,
            normalize_rows=False,
            return_eigenvalues=True,
        )
        Vd, ld = spectral_embedding(
            A,
            4,
            laplacian=lap,
            solver="dense",
            normalize_rows=False,
            return_eigenvalues=True,
        )
        np.testing.assert_allclose(la, ld, atol=1e-8)
        # Same subspace: the projection of one basis onto the other is orthogonal.
        np.testing.assert_allclose(
            np.linalg.svd(Va.T @ Vd, compute_uv=False), 1, atol=1e-6
        )


def test_same_seed_same_result():
    A, _ = sbm([150, 150], 0.05, 0.02, seed=4)
    r1 = spectral_clustering(A, 3, solver="arpack", seed=7)
    r2 = spectral_clustering(A, 3, solver="arpack", seed=7)
    np.testing.assert_array_equal(r1.labels, r2.labels)


def test_rows_are_unit_length_when_normalized():
    A, _ = sbm([20, 20], 0.4, 0.05, seed=5)
    E = spectral_embedding(A, 2, laplacian="symmetric")
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0)
    E = spectral_embedding(A, 2, laplacian="unnormalized")
    assert not np.allclose(np.linalg.norm(E, axis=1), 1.0)


# ---------------------------------------------------------------- clustering


@pytest.mark.parametrize(
    "lap", ["unnormalized", "symmetric", "random-walk", "regularized"]
)
def test_agrees_with_sklearn_on_a_clean_block_graph(lap):
    A, y = sbm([40, 50, 60], 0.5, 0.01, seed=6)
    ref = SpectralClustering(
        3, affinity="precomputed", random_state=0, n_init=10, assign_labels="kmeans"
    ).fit_predict(A)
    ours = spectral_clustering(A, 3, laplacian=lap, seed=0).labels
    assert adjusted_rand_score(ref, ours) == 1.0
    assert adjusted_rand_score(y, ours) == 1.0


def test_precomputed_embedding_gives_the_same_partition():
    A, y = sbm([60, 60, 60], 0.3, 0.02, seed=8)
    V = spectral_embedding(A, 10, laplacian="regularized", normalize_rows=False)
    a = spectral_clustering(A, 3, laplacian="regularized", embedding=V, seed=0).labels
    b = spectral_clustering(A, 3, laplacian="regularized", seed=0).labels
    assert adjusted_rand_score(a, b) == 1.0 == adjusted_rand_score(y, a)


def test_regularization_ignores_a_dangling_pair():
    # Two dense blocks joined by a few edges, plus a pair hanging off by one
    # edge: plain Laplacians cut the pair off; the regularized one cuts the blocks.
    A, y = sbm([60, 60], 0.3, 0.02, seed=9)
    A = sp.lil_matrix(sp.block_diag([A, sp.csr_matrix([[0, 1], [1, 0]])]))
    A[0, 120] = A[120, 0] = 1
    A = sp.csr_matrix(A)
    plain = spectral_clustering(A, 2, laplacian="unnormalized", seed=0).labels
    reg = spectral_clustering(A, 2, laplacian="regularized", seed=0).labels
    assert min(np.bincount(plain)) <= 2
    assert adjusted_rand_score(y, reg[:120]) > 0.9


def test_score_on_degree_corrected_blocks():
    rng = np.random.default_rng(10)
    theta = rng.pareto(2.5, 300) + 0.3  # heavy-tailed degrees
    A, y = sbm([150, 150], 0.2, 0.02, seed=11, theta=theta)
    n_comp, comp = connected_components(A, directed=False)
    keep = comp == np.argmax(np.bincount(comp))
    A, y = A[keep][:, keep], y[keep]
    labels = spectral_score(A, 2, seed=0)
    assert adjusted_rand_score(y, labels) > 0.95
    # the same graph defeats the unnormalized Laplacian
    plain = spectral_clustering(A, 2, laplacian="unnormalized", seed=0).labels
    assert adjusted_rand_score(y, plain) < 0.5


@pytest.mark.skipif(
    not os.environ.get("CFS_DATA_DIR"), reason="offline polblogs copy needed"
)
def test_score_reproduces_jin_on_polblogs():
    datasets = pytest.importorskip("lib.datasets")
    g = datasets.load_polblogs(giant_component=True)
    labels = spectral_score(g.adjacency, 2, seed=0)
    errors = min(np.sum(labels != g.labels), np.sum(labels == g.labels))
    assert errors == 58  # Jin (2015), Table 2


def test_knn_graph_and_spectral_clustering_solve_two_moons():
    X, y = make_moons(300, noise=0.05, random_state=0)
    A = knn_graph(X, 10)
    labels = spectral_clustering(A, 2, seed=0).labels
    assert adjusted_rand_score(y, labels) > 0.95


# ---------------------------------------------------------------- kNN graph


def test_knn_graph_matches_sklearn():
    X = np.random.default_rng(12).normal(size=(80, 3))
    ours = knn_graph(X, 5)
    ref = kneighbors_graph(X, 5, mode="connectivity", include_self=False)
    ref = ref.maximum(ref.T)
    assert (ours != ref).nnz == 0
    assert ours.diagonal().sum() == 0


def test_knn_graph_chunked_equals_unchunked_and_weights():
    X = np.random.default_rng(13).normal(size=(200, 2))
    big = knn_graph(X, 4, bandwidth=0.5)
    small = knn_graph(X, 4, bandwidth=0.5, working_memory=0.001)
    assert (big != small).nnz == 0
    i, j = big.nonzero()
    np.testing.assert_allclose(big[i, j].A1, np.exp(-((X[i] - X[j]) ** 2).sum(1) / 0.5))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "A, match",
    [
        (np.ones((3, 4)), "must be square"),
        (np.array([[0, 1.0], [0, 0]]), "not symmetric"),
        (np.array([[0, -1.0], [-1.0, 0]]), "negative weights"),
        (np.array([[0, np.nan], [np.nan, 0]]), "NaN"),
        (sp.csr_matrix(np.array([[0, np.inf], [np.inf, 0]])), "NaN or infinite"),
        (np.ones(3), "must be 2-D"),
    ],
)
def test_bad_adjacency(A, match):
    with pytest.raises(ValueError, match=match):
        check_adjacency(A)
    with pytest.raises(ValueError, match=match):
        spectral_clustering(A, 1)


def test_bad_types():
    with pytest.raises(TypeError, match="adjacency"):
        laplacian("graph")
    with pytest.raises(TypeError, match="n_components must be an integer"):
        spectral_embedding(SMALL, 2.0)


def test_k_larger_than_nodes():
    with pytest.raises(
        ValueError, match=r"k=6 is larger than the number of nodes \(5\)"
    ):
        spectral_clustering(SMALL, 6)
    with pytest.raises(ValueError, match="n_components=6"):
        spectral_embedding(SMALL, 6)
    with pytest.raises(ValueError, match="n_components=0 is too small"):
        spectral_embedding(SMALL, 0)


def test_bad_options():
    with pytest.raises(ValueError, match="laplacian='normalized' is not supported"):
        spectral_clustering(SMALL, 2, laplacian="normalized")
    with pytest.raises(ValueError, match="kind='sym' is not supported"):
        laplacian(SMALL, "sym")
    with pytest.raises(ValueError, match="tau=1.0 only applies"):
        laplacian(SMALL, "symmetric", tau=1.0)
    with pytest.raises(ValueError, match="tau=1.0 only applies"):
        spectral_embedding(SMALL, 2, laplacian="symmetric", tau=1.0)
    with pytest.raises(ValueError, match="tau=-1.0 is invalid"):
        laplacian(SMALL, "regularized", tau=-1.0)
    with pytest.raises(
        ValueError, match="solver='arpack' needs n_components < n_nodes - 1"
    ):
        spectral_embedding(SMALL, 4, solver="arpack")
    with pytest.raises(ValueError, match="solver='eig' is not supported"):
        spectral_embedding(SMALL, 2, solver="eig")
    with pytest.raises(ValueError, match=r"embedding has shape \(5, 1\)"):
        spectral_clustering(SMALL, 2, embedding=np.ones((5, 1)))


def test_score_bad_input():
    with pytest.raises(ValueError, match="2 connected components"):
        spectral_score(SMALL, 2)
    A, _ = sbm([10, 10], 0.8, 0.2, seed=14)
    with pytest.raises(ValueError, match="k=1 is too small"):
        spectral_score(A, 1)
    with pytest.raises(ValueError, match="k=20 is larger"):
        spectral_score(A, 20)


def test_knn_graph_bad_input():
    with pytest.raises(
        ValueError, match=r"n_neighbors=4 is larger than n_samples - 1 \(3\)"
    ):
        knn_graph(np.zeros((4, 2)), 4)
    with pytest.raises(ValueError, match="bandwidth=0.0 is invalid"):
        knn_graph(np.eye(4), 1, bandwidth=0.0)
    with pytest.raises(ValueError, match="must be 2-D"):
        knn_graph(np.arange(5.0), 2)
