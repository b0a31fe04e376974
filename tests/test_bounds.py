"""Hamerly's, Elkan's and Yinyang's k-means are Lloyd's, iteration by iteration."""

import numpy as np
import pytest

import lib
from lib.bounds import (
    BoundedAssign,
    centroid_groups,
    check_algorithm,
    elkan_fits,
    yinyang_fits,
)
from lib.distances import CACHE_BLOCK_MB, chunk_rows, nearest_centroid, sq_norms
from lib.lloyd import lloyd_loop, update_centroids

KINDS = ("hamerly", "elkan", "yinyang")


def _blobs(seed, n=2000, d=4, k=12, spread=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, d))
    return centres[rng.integers(k, size=n)] + rng.normal(0, spread, (n, d))


def _run(X, C0, assign, max_iter=100):
    """Lloyd's loop with `assign`, recording the labels of every assignment."""
    seen = []

    def recording(C):
        labels, costs = assign(C)
        seen.append(labels.copy())
        return labels, costs

    k = len(C0)
    res = lloyd_loop(
        C0,
        recording,
        lambda labels, C: update_centroids(X, labels, k),
        max_iter=max_iter,
        tol_abs=0.0,
    )
    return res, seen


def _lloyd_and(kind, X, C0, rows=None):
    rows = rows or chunk_rows(len(C0), X.shape[1])
    xx = sq_norms(X)
    ref = _run(X, C0, lambda C: nearest_centroid(X, C, "sqeuclidean", rows, xx))
    fast = BoundedAssign(X, rows, kind, xx)
    return ref, _run(X, C0, fast), fast


def _assert_same(ref, got):
    (r, r_labels), (g, g_labels) = ref, got
    assert len(r_labels) == len(g_labels)
    for t, (a, b) in enumerate(zip(r_labels, g_labels)):
        np.testing.assert_array_equal(a, b, err_msg=f"labels differ at iteration {t}")
    for a, b in zip(r.history.centroids, g.history.centroids):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(r.labels, g.labels)
    assert r.n_iter == g.n_iter and r.converged == g.converged


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
def test_same_labels_at_every_iteration_as_lloyd(kind, seed):
    X = _blobs(seed, spread=1.5 + seed)
    C0 = X[np.random.default_rng(seed).choice(len(X), 12, replace=False)]
    ref, got, fast = _lloyd_and(kind, X, C0, rows=256)  # several chunks
    _assert_same(ref, got)
    # It is not Lloyd in disguise: late iterations skip most distances.
    assert fast.skipped[0] == 0.0 and max(fast.skipped) > 0.5, fast.skipped


@pytest.mark.parametrize("kind", KINDS)
def test_ties_go_to_the_lowest_index_as_in_lloyd(kind):
    # Integer points on a grid, centroids on data points: many exact ties.
    rng = np.random.default_rng(1)
    X = rng.integers(0, 6, size=(600, 2)).astype(float)
    X = np.vstack([X, np.repeat(X[:5], 20, axis=0)])  # duplicates too
    C0 = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0], [4.0, 4.0]])
    _assert_same(*_lloyd_and(kind, X, C0)[:2])


@pytest.mark.parametrize("kind", KINDS)
def test_empty_clusters_are_filled_as_in_lloyd(kind):
    X = _blobs(3, n=500, k=3)
    C0 = np.vstack([X[:3], [[1e3, 1e3, 1e3, 1e3]], X[3:4] + 1e-9])  # one far away
    ref, got, _ = _lloyd_and(kind, X, C0)
    _assert_same(ref, got)
    counts = np.bincount(ref[1][0], minlength=5)
    assert counts[3] == 0, "the far centroid should start empty"


@pytest.mark.parametrize("kind", KINDS)
def test_pixels_give_lloyds_result(kind):
    # uint8 colours, the colour-quantization chapter's kind of data.
    rng = np.random.default_rng(0)
    pixels = np.clip(_blobs(0, n=5000, d=3, k=8, spread=12) * 20 + 128, 0, 255)
    pixels = pixels.astype(np.uint8)
    a = lib.kmeans(pixels, 16, init="sample", seed=rng.integers(99), tol=0)
    b = lib.kmeans(pixels, 16, init=a.history.centroids[0], tol=0, algorithm=kind)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=0, atol=1e-10)
    assert a.n_iter == b.n_iter and a.inertia == pytest.approx(b.inertia, rel=1e-12)


def test_kmeans_algorithms_agree_with_restarts_and_tolerance():
    X = _blobs(5, n=3000, d=6, k=8)
    results = [
        lib.kmeans(X, 8, n_init=3, seed=7, algorithm=a)
        for a in ("lloyd", "hamerly", "elkan", "yinyang", "auto")
    ]
    for res in results[1:]:
        np.testing.assert_array_equal(res.labels, results[0].labels)
        np.testing.assert_allclose(res.centroids, results[0].centroids, atol=1e-10)


def test_elkan_must_fit_the_working_memory():
    assert elkan_fits(1000, 10, 1.0) and not elkan_fits(10**6, 256, 64)
    X = _blobs(0, n=20_000, d=2, k=4)
    with pytest.raises(ValueError, match=r"20,000 x 64 bounds.*algorithm='hamerly'"):
        lib.kmeans(X, 64, algorithm="elkan", working_memory=1, seed=0)
    # "auto" never picks an Elkan that does not fit.
    assert check_algorithm("auto", "sqeuclidean", 10**7, 256, 3, 64) == "lloyd"


def test_yinyang_must_fit_the_working_memory():
    # t = k / 10 group bounds per point: 64 clusters, 6 groups.
    assert yinyang_fits(20_000, 64, 1.0) and not yinyang_fits(10**6, 256, 64)
    X = _blobs(0, n=40_000, d=2, k=4)
    with pytest.raises(ValueError, match=r"40,000 x 6 group bounds.*'hamerly'"):
        lib.kmeans(X, 64, algorithm="yinyang", working_memory=1, seed=0)


@pytest.mark.parametrize("kind", KINDS)
def test_only_squared_euclidean_has_bounds(kind):
    X = _blobs(0, n=50)
    with pytest.raises(ValueError, match="needs metric='sqeuclidean'.*'lloyd'"):
        lib.kmeans(X, 3, metric="manhattan", algorithm=kind, seed=0)
    assert check_algorithm("auto", "manhattan", 50, 3, 4, 64) == "lloyd"
    with pytest.raises(ValueError, match="algorithm='fast' is not supported"):
        lib.kmeans(X, 3, algorithm="fast", seed=0)


def _peak_memory(algorithm, working_memory):
    """Peak traced bytes of 3 updates on 200,000 3-D points, k = 64."""
    import tracemalloc

    X = _blobs(0, n=200_000, d=3, k=64)
    C0 = X[:64].copy()
    # Once untraced, so that one-time costs (loading the compiled loops, the
    # thread pool) are not counted: the test then passes alone too.
    lib.kmeans(X[:1000], 64, init=C0, algorithm=algorithm, max_iter=2)
    tracemalloc.start()
    lib.kmeans(
        X, 64, init=C0, algorithm=algorithm, max_iter=3, working_memory=working_memory
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, len(X)


def test_hamerly_memory_is_of_order_n():
    peak, n = _peak_memory("hamerly", working_memory=1)
    # A handful of n-long vectors (labels, bounds, costs, norms), never n x k.
    assert peak < 12 * 8 * n, peak


def test_yinyang_memory_is_n_times_the_groups():
    # 16 MiB: the 200,000 x 6 group bounds (9 MiB) must fit.
    peak, n = _peak_memory("yinyang", working_memory=16)
    # Hamerly's n-long vectors plus t = 6 group bounds a point, never n x k;
    # the first assignment's distance block is reordered by group (a copy).
    assert peak < (12 + 6) * 8 * n + 2 * CACHE_BLOCK_MB * 2**20, peak


def test_the_compiled_pass_and_numpy_give_the_same_run(monkeypatch):
    import lib.bounds as bounds

    X = _blobs(2, n=3000)
    C0 = X[:12].copy()
    fast = lib.kmeans(X, 12, init=C0, tol=0, algorithm="hamerly")
    monkeypatch.setattr(bounds, "compiled_loop", lambda name: None)
    slow = lib.kmeans(X, 12, init=C0, tol=0, algorithm="hamerly")
    np.testing.assert_array_equal(fast.labels, slow.labels)
    np.testing.assert_array_equal(fast.centroids, slow.centroids)
    one = lib.kmeans(X, 1, init=C0[:1], tol=0, algorithm="hamerly")
    np.testing.assert_allclose(one.centroids[0], X.mean(axis=0), atol=1e-12)


def test_auto_picks_lloyd_on_every_measured_workload():
    assert check_algorithm("auto", "sqeuclidean", 273_280, 48, 3, 64) == "lloyd"
    assert check_algorithm("auto", "sqeuclidean", 1_000_000, 32, 2, 64) == "lloyd"
    assert check_algorithm("auto", "sqeuclidean", 10_000, 10, 784, 64) == "lloyd"
    assert check_algorithm("auto", "sqeuclidean", 200_000, 256, 32, 64) == "lloyd"


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_yinyang_with_many_groups_is_lloyd(compiled, seed, monkeypatch):
    # k = 60: six groups, so the group filter (not only the global one) runs;
    # the compiled loop and its NumPy twin are each held to Lloyd's run.
    if not compiled:
        import lib.bounds as bounds

        monkeypatch.setattr(bounds, "compiled_loop", lambda name: None)
    X = _blobs(seed, n=3000, d=3 + 7 * seed, k=60, spread=1.0 + seed)
    C0 = X[np.random.default_rng(seed).choice(len(X), 60, replace=False)]
    ref, got, fast = _lloyd_and("yinyang", X, C0, rows=500)
    _assert_same(ref, got)
    assert fast.group.max() + 1 == 6 and fast.lower.shape == (3000, 6)
    assert fast.skipped[0] == 0.0 and max(fast.skipped) > 0.5, fast.skipped
    # The group filter compares a doubtful point with a few groups only:
    # more is skipped than Hamerly's one bound allows.
    hamerly = _lloyd_and("hamerly", X, C0, rows=500)[2]
    assert sum(fast.skipped) > sum(hamerly.skipped)


@pytest.mark.parametrize("compiled", [True, False])
def test_yinyang_ties_and_empty_clusters_with_many_groups(compiled, monkeypatch):
    if not compiled:
        import lib.bounds as bounds

        monkeypatch.setattr(bounds, "compiled_loop", lambda name: None)
    # Integer points on a grid, centroids on grid points: exact ties; two
    # duplicated centroids and two far away start empty.
    rng = np.random.default_rng(4)
    X = rng.integers(0, 9, size=(1500, 2)).astype(float)
    C0 = np.vstack([X[:26], X[:2], [[100.0, 100.0], [-90.0, 50.0]]])
    ref, got, _ = _lloyd_and("yinyang", X, C0, rows=300)
    _assert_same(ref, got)
    counts = np.bincount(ref[1][0], minlength=30)
    assert counts[26:].max() == 0, "the duplicates and the far centroids start empty"


def test_centroid_groups_are_deterministic_and_numbered_without_gaps():
    C = _blobs(0, n=200, d=3, k=8)
    a, b = centroid_groups(C, 20), centroid_groups(C.copy(), 20)
    np.testing.assert_array_equal(a, b)
    assert set(a.tolist()) == set(range(20))
    # Fewer distinct centroids than groups: fewer groups.
    assert centroid_groups(np.repeat(C[:3], 4, axis=0), 5).max() == 2
    assert centroid_groups(C[:1], 1).tolist() == [0]
