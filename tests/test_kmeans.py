"""Tests for lib.kmeans, lib.assign and the initializations."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.cluster import KMeans

import lib
from lib.distances import point_costs

# ---------------------------------------------------------------- fixtures by hand

SQUARE = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])


def test_hand_computed_two_clusters():
    res = lib.kmeans(SQUARE, 2, init=np.array([[0.0, 1.0], [10.0, 1.0]]))
    np.testing.assert_array_equal(res.labels, [0, 0, 1, 1])
    np.testing.assert_allclose(res.centroids, [[0.0, 1.0], [10.0, 1.0]])
    assert res.inertia == pytest.approx(4.0)  # four points, each 1 away
    assert res.converged and res.n_iter == 1


def test_one_lloyd_step_by_hand():
    # Points 0, 1, 5, 6 with centroids 0 and 1: the first assignment gives
    # {0} and {1, 5, 6} (cost 0 + 0 + 16 + 25); the means 0 and 4 give {0, 1}
    # and {5, 6} (cost 0 + 1 + 1 + 4); the means 0.5 and 5.5 cost 4 * 0.25 and
    # leave the labels unchanged, so Lloyd stops after two updates.
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    res = lib.kmeans(X, 2, init=np.array([[0.0], [1.0]]), tol=0)
    np.testing.assert_allclose(res.history.centroids[1], [[0.0], [4.0]])
    np.testing.assert_allclose(res.centroids, [[0.5], [5.5]])
    np.testing.assert_allclose(res.history.inertia, [16 + 25, 1 + 1 + 4, 1.0])
    assert res.n_iter == 2 and res.converged
    assert res.inertia == pytest.approx(1.0)


def test_kmedians_uses_the_median():
    # The outlier 100 joins the left cluster; its median stays at 2 (the mean would
    # be 21.2).
    X = np.array([[0.0], [1.0], [2.0], [3.0], [100.0], [200.0], [201.0], [202.0]])
    res = lib.kmeans(X, 2, init=np.array([[1.0], [201.0]]), metric="manhattan")
    assert sorted(res.centroids.ravel().tolist()) == [2.0, 201.0]
    assert res.inertia == pytest.approx(2 + 1 + 0 + 1 + 98 + 1 + 0 + 1)


def test_uint8_pixels_do_not_overflow():
    X = np.array(
        [[255, 255, 255], [0, 0, 0], [250, 250, 250], [5, 5, 5]], dtype=np.uint8
    )
    res = lib.kmeans(X, 2, init=np.array([[255.0] * 3, [0.0] * 3]))
    assert res.centroids.dtype == np.float64
    np.testing.assert_allclose(sorted(res.centroids[:, 0]), [2.5, 252.5])
    assert res.inertia == pytest.approx(4 * 3 * 2.5**2)


def test_assign_ties_go_to_lowest_index():
    labels = lib.assign(np.array([[1.0]]), np.array([[0.0], [2.0]]))
    assert labels.tolist() == [0]


def test_assign_clamps_rounding_below_zero():
    x = np.array([[1e8 + 1.0, 1e8]])
    _, d = lib.assign(x, x.copy(), return_distances=True)
    assert d[0] >= 0.0


def test_empty_cluster_is_relocated_not_nan():
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    # The third centroid is far from everything, so its cluster starts empty.
    res = lib.kmeans(X, 3, init=np.array([[0.0], [10.0], [1000.0]]), tol=0)
    assert np.isfinite(res.centroids).all()
    assert not np.any(
        np.all(res.centroids == 0, axis=1) & (np.bincount(res.labels, minlength=3) == 0)
    )
    assert np.bincount(res.labels, minlength=3).min() >= 1
    assert np.all(np.diff(res.history.inertia) <= 1e-12)


def test_n_init_keeps_the_best_run():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    singles = [lib.kmeans(X, 5, init="random", seed=s).inertia for s in range(5)]
    best = lib.kmeans(X, 5, init="random", n_init=5, seed=np.random.default_rng(123))
    assert best.inertia <= max(singles) + 1e-9  # sanity
    g = np.random.default_rng(7)
    runs = [lib.kmeans(X, 5, init="random", seed=g).inertia for _ in range(4)]
    assert lib.kmeans(X, 5, init="random", n_init=4, seed=7).inertia == pytest.approx(
        min(runs)
    )


@pytest.mark.parametrize("init", ["k-means++", "greedy-k-means++", "random", "sample"])
def test_every_init_runs_and_is_reproducible(init):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 0.3, size=(50, 2)) for c in (0, 5, 10)])
    a = lib.kmeans(X, 3, init=init, seed=3)
    b = lib.kmeans(X, 3, init=init, seed=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centroids, b.centroids)


def test_sample_init_gives_distinct_points_despite_duplicates():
    # An image with large white areas: 990 white pixels and 10 others.
    X = np.vstack([np.full((990, 3), 255.0), np.arange(30.0).reshape(10, 3)])
    for s in range(10):
        C = lib.init_centroids(X, 5, "sample", seed=s)
        assert len(np.unique(C, axis=0)) == 5


def test_fewer_distinct_points_than_k():
    X = np.array([[1.0, 1.0]] * 5 + [[2.0, 2.0]] * 5)
    with pytest.raises(ValueError, match=r"only 2 distinct points, fewer than k=3"):
        lib.kmeans(X, 3, seed=0)


def test_labels_match_returned_centroids_even_at_max_iter():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 2))
    res = lib.kmeans(X, 8, max_iter=1, seed=0, init="random")
    assert res.n_iter == 1 and not res.converged
    np.testing.assert_array_equal(res.labels, lib.assign(X, res.centroids))


# ------------------------------------------------- agreement with scikit-learn


@pytest.mark.parametrize("shape,k", [((2000, 2), 5), ((1000, 20), 8), ((3000, 3), 16)])
def test_agrees_with_sklearn_lloyd_from_same_init(shape, k):
    rng = np.random.default_rng(shape[0])
    centers = rng.normal(scale=10, size=(k, shape[1]))
    X = centers[rng.integers(k, size=shape[0])] + rng.normal(size=shape)
    C0 = X[rng.choice(shape[0], k, replace=False)]
    ours = lib.kmeans(X, k, init=C0, tol=0, max_iter=100)
    sk = KMeans(k, init=C0, n_init=1, algorithm="lloyd", tol=0, max_iter=100).fit(X)
    np.testing.assert_allclose(ours.centroids, sk.cluster_centers_, atol=1e-8, rtol=0)
    np.testing.assert_array_equal(ours.labels, sk.labels_)
    assert ours.inertia == pytest.approx(sk.inertia_, rel=1e-10)


# ---------------------------------------------------------------- properties

# Coordinates on a grid of 1/8: exact ties and duplicate points are common,
# which is where k-means implementations go wrong.
finite = st.integers(-800, 800).map(lambda v: v / 8)
datasets = st.integers(5, 40).flatmap(
    lambda n: arrays(np.float64, (n, 2), elements=finite)
)


def test_kmeanspp_refuses_underflowing_distances():
    # (1e-200)**2 underflows to 0 although the two points are distinct: every
    # distance would be 0, so lib refuses the data and says how to rescale it.
    X = np.array([[1e-200, 0.0], [0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"underflow to 0.*rescale it"):
        lib.init_centroids(X, 2, "k-means++", seed=0)
    C = lib.init_centroids(X / np.abs(X).max(), 2, "k-means++", seed=0)
    assert len(np.unique(C, axis=0)) == 2


def _setup(X, k):
    n_distinct = len(np.unique(X, axis=0))
    return min(k, n_distinct)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=datasets,
    k=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    metric=st.sampled_from(["sqeuclidean", "manhattan"]),
)
def test_properties_of_every_run(X, k, seed, metric):
    k = _setup(X, k)
    res = lib.kmeans(X, k, seed=seed, metric=metric, tol=0)
    J = np.asarray(res.history.inertia)
    # The objective never increases (up to float rounding).
    assert np.all(np.diff(J) <= 1e-9 * (1 + J[:-1]))
    # The labels are the argmin: no centroid is strictly closer.
    costs = point_costs(X, res.centroids, res.labels, metric)
    for j in range(k):
        other = point_costs(X, res.centroids, np.full(len(X), j), metric)
        assert np.all(costs <= other + 1e-9 * (1 + other))
    # At convergence every centroid is the mean (median for L1) of its cluster.
    if res.converged:
        for j in range(k):
            members = X[res.labels == j]
            if len(members):
                centre = (
                    np.median(members, 0) if metric == "manhattan" else members.mean(0)
                )
                if metric == "manhattan":
                    # Any point of the median set is optimal; check the L1 cost instead.
                    assert np.abs(members - res.centroids[j]).sum() <= np.abs(
                        members - centre
                    ).sum() + 1e-9 * (1 + np.abs(members).sum())
                else:
                    np.testing.assert_allclose(
                        res.centroids[j], centre, atol=1e-9 * (1 + np.abs(centre).max())
                    )
    # The same seed gives the same result.
    again = lib.kmeans(X, k, seed=seed, metric=metric, tol=0)
    np.testing.assert_array_equal(res.labels, again.labels)
    np.testing.assert_array_equal(res.centroids, again.centroids)


@settings(max_examples=40, deadline=None)
@given(
    X=datasets,
    C=arrays(np.float64, (3, 2), elements=finite),
    metric=st.sampled_from(["sqeuclidean", "manhattan"]),
    wm=st.floats(1e-5, 1e-3),
)
def test_chunked_equals_unchunked(X, C, metric, wm):
    # A tiny working memory forces one-row chunks.
    a, da = lib.assign(X, C, metric, return_distances=True)
    b, db = lib.assign(X, C, metric, working_memory=wm, return_distances=True)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(da, db)


def test_chunked_kmeans_equals_unchunked():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 4))
    a = lib.kmeans(X, 7, seed=0)
    b = lib.kmeans(X, 7, seed=0, working_memory=0.01)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.centroids, b.centroids, rtol=0, atol=1e-12)


def test_assign_matches_brute_force_l1_and_l2():
    rng = np.random.default_rng(9)
    X, C = rng.normal(size=(200, 3)), rng.normal(size=(6, 3))
    for metric, dist in [
        ("sqeuclidean", lambda x, c: np.sum((x - c) ** 2)),
        ("manhattan", lambda x, c: np.sum(np.abs(x - c))),
    ]:
        brute = [int(np.argmin([dist(x, c) for c in C])) for x in X]
        assert lib.assign(X, C, metric).tolist() == brute


# ---------------------------------------------------------------- bad input

X_OK = np.arange(20.0).reshape(10, 2)


@pytest.mark.parametrize(
    "kwargs,exc,pattern",
    [
        (
            dict(X=np.arange(5.0), k=2),
            ValueError,
            r"X must be 2-D.*shape \(5,\).*reshape",
        ),
        (dict(X=np.empty((0, 2)), k=2), ValueError, r"X is empty.*\(0, 2\)"),
        (
            dict(X=np.array([[1.0, np.nan], [2.0, 3.0]]), k=1),
            ValueError,
            r"NaN or infinity.*row 0, column 1",
        ),
        (
            dict(X=np.array([[1.0, np.inf], [2.0, 3.0]]), k=1),
            ValueError,
            r"NaN or infinity",
        ),
        (dict(X="abc", k=1), TypeError, r"X must be a 2-D array"),
        (dict(X=np.array([["a", "b"]]), k=1), TypeError, r"X must hold numbers"),
        (dict(X=X_OK, k=0), ValueError, r"k=0 is too small; choose k >= 1"),
        (dict(X=X_OK, k=2.5), TypeError, r"k must be an integer, got 2.5"),
        (dict(X=X_OK, k="3"), TypeError, r"k must be an integer"),
        (
            dict(X=X_OK, k=12),
            ValueError,
            r"k=12 is larger than the number of samples \(10\); choose k <= 10",
        ),
        (
            dict(X=X_OK, k=2, init=np.zeros((3, 2))),
            ValueError,
            r"init has shape \(3, 2\).*\(2, 2\)",
        ),
        (
            dict(X=X_OK, k=2, init="kmeans++"),
            ValueError,
            r"init='kmeans\+\+' is not supported; choose one of",
        ),
        (
            dict(X=X_OK, k=2, metric="cosine"),
            ValueError,
            (
                r"metric='cosine' is not supported; "
                r"choose one of 'sqeuclidean', 'manhattan'"
            ),
        ),
        (
            dict(X=X_OK, k=2, max_iter=0),
            ValueError,
            r"max_iter=0 is too small; choose max_iter >= 1",
        ),
        (
            dict(X=X_OK, k=2, tol=-1.0),
            ValueError,
            r"tol=-1.0 is invalid; choose a finite tol >= 0",
        ),
        (
            dict(X=X_OK, k=2, seed="zero"),
            TypeError,
            r"seed must be None, an int or a np.random.Generator, got 'zero'",
        ),
        (dict(X=X_OK, k=2, seed=1.5), TypeError, r"seed must be None"),
        (dict(X=X_OK, k=2, n_init=0), ValueError, r"n_init=0 is too small"),
    ],
)
def test_bad_input_gets_a_clear_message(kwargs, exc, pattern):
    X = kwargs.pop("X")
    k = kwargs.pop("k")
    with pytest.raises(exc, match=pattern):
        lib.kmeans(X, k, **kwargs)


def test_assign_rejects_mismatched_features():
    with pytest.raises(ValueError, match=r"centroids have 3 features but X has 2"):
        lib.assign(X_OK, np.zeros((2, 3)))


def test_packed_scores_equal_scores():
    # [x, 1] @ [-2 C^T ; ||c||^2] is the score ||c||^2 - 2 x.c in one product.
    from lib.distances import (
        packed_centroids,
        packed_scores,
        scores_chunk,
        sq_norms,
    )

    rng = np.random.default_rng(3)
    X, C = rng.normal(size=(50, 3)), rng.normal(size=(8, 3))
    np.testing.assert_allclose(
        packed_scores(X, packed_centroids(C, sq_norms(C))),
        scores_chunk(X, C, "sqeuclidean"),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("metric", ["sqeuclidean", "manhattan"])
@pytest.mark.parametrize("rows", [1, 7, 1000])
def test_point_costs_total_is_their_sum(metric, rows):
    # The objective is summed chunk by chunk; it must equal the per-point costs' sum.
    rng = np.random.default_rng(4)
    X, C = rng.normal(size=(60, 4)), rng.normal(size=(5, 4))
    labels = rng.integers(0, 5, size=60)
    each = point_costs(X, C, labels, metric, rows)
    assert each.shape == (60,)
    assert point_costs(X, C, labels, metric, rows, total=True) == pytest.approx(
        each.sum(), rel=1e-12
    )


@pytest.fixture(scope="module")
def ten_million_pixels():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(10_000_000, 3)).astype(np.float64)
    return X, X[rng.choice(len(X), 256, replace=False)]


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "k-medians", "mini-batch"])
def test_ten_million_pixels_k256_in_bounded_memory(ten_million_pixels, algorithm):
    # The laptop case: 10 million RGB pixels, k = 256. The (n, k)
    # distance matrix, or Elkan's (n, k) bounds, would be 2,048 bytes a row
    # (20 GB); every algorithm needs a few n-long vectors (labels, costs,
    # norms, Hamerly's two bounds: 8 bytes a row each) and blocks of at most
    # the 64 MiB working memory. X is float64 already, so it is not copied.
    import tracemalloc

    X, C0 = ten_million_pixels
    n, k = X.shape[0], len(C0)
    tracemalloc.start()
    try:
        if algorithm == "mini-batch":
            res = lib.minibatch_kmeans(X, k, init=C0, max_iter=2, seed=0)
        else:
            metric = "manhattan" if algorithm == "k-medians" else "sqeuclidean"
            how = "lloyd" if algorithm == "k-medians" else algorithm
            res = lib.kmeans(X, k, init=C0, metric=metric, algorithm=how, max_iter=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.centroids.shape == (k, 3) and np.isfinite(res.centroids).all()
    assert res.labels.shape == (n,) and res.labels.min() >= 0 and res.labels.max() < k
    # Measured: 45 bytes a row for Lloyd, 72 for Hamerly.
    assert peak < 100 * n, f"peak traced memory {peak / n:.0f} bytes a row"


def test_elkan_beyond_the_working_memory_says_the_size_and_the_fix():
    from lib.bounds import check_algorithm

    # 10 million pixels at k = 256: Elkan's bounds are 19,531 MiB. The check
    # comes before any work, so no data of that size is needed to see it.
    with pytest.raises(ValueError) as err:
        check_algorithm("elkan", "sqeuclidean", 10_000_000, 256, 3, 64)
    message = str(err.value)
    assert "algorithm='elkan'" in message and "19,531 MiB" in message
    assert "working_memory=64" in message and "algorithm='hamerly'" in message
    assert check_algorithm("auto", "sqeuclidean", 10_000_000, 256, 3, 64) == "lloyd"


# ------------------------------------------------- the compiled loop for few features


def _without_loop(monkeypatch):
    import importlib

    for name in ("lib.distances", "lib.init", "lib.lloyd"):
        monkeypatch.setattr(
            importlib.import_module(name), "compiled_loop", lambda name: None
        )


@pytest.mark.parametrize("d, k", [(1, 1), (2, 5), (3, 48), (8, 3), (8, 64)])
def test_compiled_loop_equals_matrix_product_path(monkeypatch, d, k):
    # d <= LOOP_MAX_FEATURES runs lib/loops.py's numba loop; the matrix
    # product path (used without numba) must give the same labels and distances.
    rng = np.random.default_rng(d * 100 + k)
    X, C = rng.normal(size=(3000, d)), rng.normal(size=(k, d))
    labels, dist = lib.assign(X, C, return_distances=True, working_memory=0.01)
    _without_loop(monkeypatch)
    labels2, dist2 = lib.assign(X, C, return_distances=True, working_memory=0.01)
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_allclose(dist, dist2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, d, k", [(1000, 3, 48), (257, 2, 1), (600, 8, 5)])
def test_compiled_loop_blocks_give_each_row_its_own_answer(n, d, k):
    # The loop scores FEW_FEATURES_BLOCK rows at a time (n here is not a multiple
    # of it). On an integer grid every score is exact and ties are everywhere:
    # each row gets the lowest index among its best centroids, the runner-up's
    # score and its distance, across the blocks' edges too.
    from lib import loops
    from lib.distances import packed_centroids, sq_norms

    assert n > loops.FEW_FEATURES_BLOCK
    rng = np.random.default_rng(n + d + k)
    X = rng.integers(0, 4, size=(n, d)).astype(float)
    C = rng.integers(0, 4, size=(k, d)).astype(float)
    labels, dist, second = np.empty(n, dtype=np.intp), np.empty(n), np.empty(n)
    loops.nearest_few_features(
        X, C, packed_centroids(C, sq_norms(C)), labels, dist, second
    )
    D = ((X[:, None, :] - C[None]) ** 2).sum(axis=2)
    S = D - sq_norms(X)[:, None]
    np.testing.assert_array_equal(labels, S.argmin(axis=1))
    np.testing.assert_array_equal(dist, D[np.arange(n), labels])
    runner_up = np.sort(S, axis=1)[:, 1] if k > 1 else np.full(n, np.inf)
    np.testing.assert_array_equal(second, runner_up)
    assert k == 1 or np.any(np.sort(S, axis=1)[:, 0] == runner_up)  # ties occurred


@pytest.mark.parametrize("d, used", [(3, True), (8, True), (9, False)])
def test_compiled_loop_is_used_only_for_few_features(monkeypatch, d, used):
    from lib import distances, loops

    calls = []

    def spy(*args):
        calls.append(len(args[0]))
        return loops.nearest_few_features(*args)

    monkeypatch.setattr(
        distances,
        "compiled_loop",
        lambda name: spy if name == "nearest_few_features" else None,
    )
    X = np.random.default_rng(0).normal(size=(500, d))
    lib.assign(X, X[:4])
    assert (sum(calls) == 500) if used else not calls


def test_compiled_loop_falls_back_without_numba(monkeypatch):
    import sys

    from lib import distances

    # `import numba` now raises ImportError.
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "lib.loops", raising=False)
    monkeypatch.delattr(lib, "loops", raising=False)
    assert distances.compiled_loop("nearest_few_features") is None
    X = np.array([[0.0, 0.0], [9.0, 9.0], [1.0, 0.0]])
    assert lib.assign(X, np.array([[0.0, 0.0], [10.0, 10.0]])).tolist() == [0, 1, 0]
    np.testing.assert_allclose(
        lib.kmeans(X, 2, init=X[:2]).centroids, [[0.5, 0.0], [9.0, 9.0]]
    )


def test_kmeans_on_pixels_is_the_same_with_and_without_the_loop(monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 256, size=(20_000, 3)).astype(np.uint8)
    res = lib.kmeans(X, 16, seed=0, max_iter=20)
    _without_loop(monkeypatch)
    res2 = lib.kmeans(X, 16, seed=0, max_iter=20)
    np.testing.assert_array_equal(res.labels, res2.labels)
    np.testing.assert_allclose(res.centroids, res2.centroids, rtol=0, atol=1e-9)
    assert res.inertia == pytest.approx(res2.inertia, rel=1e-12)


@pytest.mark.parametrize("d", [1, 3, 784])
def test_compiled_cluster_sums_equal_sparse_sums(monkeypatch, d):
    from lib.lloyd import update_centroids

    rng = np.random.default_rng(d)
    X, labels = rng.normal(size=(2000, d)), rng.integers(0, 7, size=2000)
    C = update_centroids(X, labels, 7, "sqeuclidean")
    _without_loop(monkeypatch)
    np.testing.assert_allclose(
        C, update_centroids(X, labels, 7, "sqeuclidean"), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        C[3], X[labels == 3].mean(axis=0), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("bad", [-1, 7])
def test_compiled_cluster_sums_refuse_labels_out_of_range(bad):
    from lib.loops import cluster_sums

    labels = np.array([0, bad, 1])
    with pytest.raises(ValueError, match="outside 0..k-1"):
        cluster_sums(np.ones((3, 2)), labels, 7, np.zeros(7, dtype=np.int64))


@pytest.mark.parametrize("numba", [True, False])
def test_cluster_sums_count_each_cluster_in_the_same_pass(monkeypatch, numba):
    from lib import lloyd

    if not numba:
        monkeypatch.setattr(lloyd, "compiled_loop", lambda name: None)
    rng = np.random.default_rng(5)
    X, labels = rng.normal(size=(5000, 3)), rng.integers(0, 6, size=5000)
    labels[labels == 4] = 5  # an empty cluster
    sums, counts = lloyd._cluster_sums(X, labels, 7, with_counts=True)
    np.testing.assert_array_equal(counts, np.bincount(labels, minlength=7))
    np.testing.assert_array_equal(sums, lloyd._cluster_sums(X, labels, 7))


def test_cluster_sums_round_the_same_whatever_the_thread_count(monkeypatch):
    # The blocks are fixed by the shape of X, not by the threads, so the sums
    # (and every centroid after them) are bit-identical on every machine.
    from lib import _chunks
    from lib.lloyd import _cluster_sums

    rng = np.random.default_rng(11)
    X, labels = rng.normal(size=(50_000, 5)), rng.integers(0, 9, size=50_000)
    sums = _cluster_sums(X, labels, 9)
    monkeypatch.setattr(_chunks, "workers", lambda: 1)
    np.testing.assert_array_equal(sums, _cluster_sums(X, labels, 9))


# ------------------------------------------- k-medians: the compiled L1 loops


def _l1_data():
    rng = np.random.default_rng(4)
    # Integer pixels (many exact ties in L1) and real values in 7 dimensions.
    return [
        rng.integers(0, 8, size=(3000, 3)).astype(float),
        rng.normal(size=(2000, 7)) * 100,
    ]


@pytest.mark.parametrize("which", [0, 1])
def test_l1_loop_gives_the_cdist_labels_and_distances_to_the_bit(monkeypatch, which):
    from scipy.spatial.distance import cdist

    X = _l1_data()[which]
    C = X[np.random.default_rng(which).choice(len(X), 12, replace=False)]
    C[5] = C[2]  # a duplicate centroid: every tie must go to index 2
    labels, dist = lib.assign(X, C, "manhattan", return_distances=True)
    D = cdist(X, C, "cityblock")
    np.testing.assert_array_equal(labels, np.argmin(D, axis=1))
    np.testing.assert_array_equal(dist, D.min(axis=1))
    assert 5 not in labels and 2 in labels
    _without_loop(monkeypatch)  # the fallback: SciPy's cdist blocks
    fallback = lib.assign(X, C, "manhattan", return_distances=True)
    np.testing.assert_array_equal(labels, fallback[0])
    np.testing.assert_array_equal(dist, fallback[1])


def test_compiled_medians_equal_np_median_per_cluster(monkeypatch):
    from lib.lloyd import update_centroids

    for X in _l1_data():
        labels = np.random.default_rng(1).integers(0, 9, len(X))
        labels[labels == 4] = 3  # cluster 4 is empty: NaN, as before
        fast = update_centroids(X, labels, 9, "manhattan")
        _without_loop(monkeypatch)
        slow = update_centroids(X, labels, 9, "manhattan")
        monkeypatch.undo()
        np.testing.assert_array_equal(fast, slow)  # NaN where slow has NaN
        assert np.isnan(fast[4]).all() and np.isfinite(np.delete(fast, 4, 0)).all()


def test_rgb_l1_loop_equals_the_general_one():
    from lib import loops

    rng = np.random.default_rng(5)
    # Real values of very different sizes: any change in the order of the
    # three additions would show in the last bits of the distances.
    X = rng.normal(size=(4000, 3)) * np.exp(rng.normal(size=(4000, 3)) * 4)
    C = X[rng.choice(len(X), 20, replace=False)]
    C[7] = C[3]  # a duplicate centroid: every tie must go to index 3
    CT = np.ascontiguousarray(C.T)
    out = [(np.empty(len(X), np.intp), np.empty(len(X))) for _ in range(2)]
    loops.nearest_l1(X, CT, *out[0])
    loops.nearest_l1_rgb(X, CT, *out[1])
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert 7 not in out[1][0] and 3 in out[1][0]


@pytest.mark.parametrize("d", range(1, 8))
def test_l1_kmeans_plusplus_step_gives_numpys_costs_to_the_bit(d):
    from lib.loops import closest_l1

    rng = np.random.default_rng(d)
    X = rng.normal(size=(3000, d)) * np.exp(rng.normal(size=(3000, d)) * 4)
    closest = np.abs(X - X[0]).sum(axis=1)
    new = closest_l1(X, X[7], closest)
    want = np.minimum(np.abs(X - X[7]).sum(axis=1), closest)
    np.testing.assert_array_equal(new, want)


@pytest.mark.parametrize("d, used", [(3, True), (7, True), (8, False)])
def test_l1_kmeans_plusplus_step_is_compiled_only_below_8_features(
    monkeypatch, d, used
):
    # From 8 terms NumPy's sum is pairwise, not in order: the costs would differ.
    from lib import init, loops

    calls = []

    def spy(name):
        calls.append(name)
        return getattr(loops, name)

    monkeypatch.setattr(init, "compiled_loop", spy)
    X = np.random.default_rng(0).normal(size=(300, d))
    init.init_centroids(X, 4, metric="manhattan", seed=0)
    assert (calls == ["closest_l1"] * 3) if used else not calls


def _l1_clusters(n):
    """Labels for n points in 9 clusters: 4 empty, 5 with 1 point, 6 with 2."""
    labels = np.random.default_rng(1).integers(0, 9, n)
    labels[np.isin(labels, [4, 5, 6])] = 3
    labels[[10, 20, 30]] = [5, 6, 6]  # odd and even counts
    return labels


def test_sorted_medians_equal_np_median_per_cluster(monkeypatch):
    from lib import loops
    from lib.lloyd import centroid_update, update_centroids

    for X in _l1_data():
        labels = _l1_clusters(len(X))
        order = np.argsort(X.T)
        fast = loops.sorted_medians(X, order, labels, 9)
        np.testing.assert_array_equal(
            fast, centroid_update(X, 9, "manhattan")(labels, None)
        )
        _without_loop(monkeypatch)
        slow = update_centroids(X, labels, 9, "manhattan")  # one np.median per cluster
        monkeypatch.undo()
        np.testing.assert_array_equal(fast, slow)  # NaN where slow has NaN
        assert np.isnan(fast[4]).all() and np.isfinite(np.delete(fast, 4, 0)).all()
        np.testing.assert_array_equal(fast[5], X[10])


@pytest.mark.parametrize("working_memory, sorted_once", [(None, True), (0.01, False)])
def test_medians_sort_x_only_if_it_fits(monkeypatch, working_memory, sorted_once):
    # 2000 x 7 sorted row indices take 109 KiB: more than 0.01 MiB.
    from lib import loops
    from lib.lloyd import centroid_update

    X = _l1_data()[1]
    calls, real = [], loops.sorted_medians

    def spy(*args):
        calls.append(len(args))
        return real(*args)

    monkeypatch.setattr(loops, "sorted_medians", spy)
    update = centroid_update(X, 9, "manhattan", working_memory)
    labels = _l1_clusters(len(X))
    got = update(labels, None)
    np.testing.assert_array_equal(got, loops.cluster_medians(X, labels, 9))
    assert calls == ([4] if sorted_once else [])


@pytest.mark.parametrize("init", ["k-means++", "greedy-k-means++"])
def test_kmedians_runs_are_identical_with_and_without_numba(monkeypatch, init):
    rng = np.random.default_rng(6)
    data = _l1_data() + [rng.normal(size=(1500, 3)) * np.exp(rng.normal(size=3) * 4)]
    runs = []
    for _ in range(2):
        for X in data:
            runs.append(
                lib.kmeans(
                    X, 10, init=init, metric="manhattan", n_init=2, seed=3, tol=0
                )
            )
        _without_loop(monkeypatch)
    half = len(data)
    for fast, slow in zip(runs[:half], runs[half:]):
        np.testing.assert_array_equal(fast.labels, slow.labels)
        np.testing.assert_array_equal(fast.centroids, slow.centroids)
        assert fast.n_iter == slow.n_iter and fast.inertia == slow.inertia


def test_l1_quantize_image_is_identical_with_and_without_numba(monkeypatch):
    # The colour chapter's L1 runs: fitted on a sample, then every pixel labelled.
    rng = np.random.default_rng(7)
    image = np.clip(rng.normal(128, 60, size=(90, 70, 3)), 0, 255).astype(np.uint8)
    runs = []
    for _ in range(2):
        runs.append(
            [
                lib.quantize_image(
                    image,
                    k,
                    metric="manhattan",
                    sample_size=2000,
                    sample_seed=0,
                    seed=s,
                )
                for k in (3, 12)
                for s in (0, 1)
            ]
        )
        _without_loop(monkeypatch)
    for fast, slow in zip(*runs):
        np.testing.assert_array_equal(fast.labels, slow.labels)
        np.testing.assert_array_equal(fast.palette, slow.palette)
        assert fast.n_iter == slow.n_iter and fast.inertia == slow.inertia
