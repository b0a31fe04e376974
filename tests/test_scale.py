"""lib.scale: Lloyd over row blocks (dask or memmap) equals lib.kmeans in memory."""

import threading
import tracemalloc

import numpy as np
import pytest

import lib
from lib import scale
from lib._chunks import map_chunks, one_thread, rows_for_budget
from lib.init import kmeans_plusplus

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def blobs(n=3000, d=4, k=5, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6.0, size=(k, d))
    return centers[rng.integers(k, size=n)] + rng.standard_normal((n, d))


def memmap_of(X, tmp_path, dtype=np.float64):
    path = tmp_path / "X.npy"
    np.save(path, X.astype(dtype))
    return np.load(path, mmap_mode="r")


def assert_same_run(res, ref):
    np.testing.assert_allclose(res.centroids, ref.centroids, rtol=0, atol=1e-10)
    labels = res.labels.compute() if hasattr(res.labels, "compute") else res.labels
    np.testing.assert_array_equal(labels, ref.labels)
    assert res.n_iter == ref.n_iter and res.converged == ref.converged
    assert res.inertia == pytest.approx(ref.inertia, rel=1e-12)
    np.testing.assert_allclose(res.history.inertia, ref.history.inertia, rtol=1e-12)


# Uneven blocks: 1000, 1, 999 and the rest; one block holds a single row.
UNEVEN = (1000, 1, 999, 1000)


@pytest.mark.parametrize("empty", [0, 1, 2])
def test_blocks_give_lib_kmeans_answer(tmp_path, empty):
    X = blobs()
    C0 = X[[0, 10, 20, 30, 40, 50]].copy()
    C0[len(C0) - empty :] += 1e3  # far away: no point is nearest, the cluster is empty
    if empty:
        assert len(np.unique(lib.assign(X, C0))) == len(C0) - empty
    ref = lib.kmeans(X, len(C0), init=C0)
    on_disk = scale.distributed_kmeans(
        memmap_of(X, tmp_path), len(C0), init=C0, working_memory=0.05
    )
    assert_same_run(on_disk, ref)
    with dask.config.set(scheduler="sync"):
        res = scale.distributed_kmeans(
            da.from_array(X, chunks=(UNEVEN, 2)), len(C0), init=C0
        )
    assert_same_run(res, ref)


def test_float32_on_disk_is_lib_kmeans_of_the_same_numbers(tmp_path):
    X = blobs(seed=1).astype(np.float32)
    C0 = X[:4].astype(float)
    ref = lib.kmeans(X, 4, init=C0)
    assert_same_run(
        scale.distributed_kmeans(memmap_of(X, tmp_path, np.float32), 4, init=C0), ref
    )


def test_tol_stops_where_lib_stops():
    X = blobs(seed=2)
    C0 = X[:5].copy()
    ref = lib.kmeans(X, 5, init=C0, tol=0.5)
    with dask.config.set(scheduler="sync"):
        res = scale.distributed_kmeans(
            da.from_array(X, chunks=700), 5, init=C0, tol=0.5
        )
    assert_same_run(res, ref)


def test_kmeans_parallel_same_on_disk_and_on_dask_blocks(tmp_path):
    X = blobs(n=5000, seed=3)
    wm = 0.01  # 8 (d + 4) bytes a row: 873 rows a block
    rows = rows_for_budget(8 * (X.shape[1] + 4), wm)
    on_disk = scale.kmeans_parallel(
        memmap_of(X, tmp_path), 5, seed=7, working_memory=wm
    )
    with dask.config.set(scheduler="sync"):
        blocked = scale.kmeans_parallel(da.from_array(X, chunks=(rows, 4)), 5, seed=7)
    np.testing.assert_array_equal(on_disk, blocked)


def test_kmeans_parallel_rounds_and_candidates():
    X = blobs(n=4000, k=5, seed=4)
    C, cand, weights, rounds = scale.kmeans_parallel(
        X, 5, rounds=3, seed=0, return_candidates=True
    )
    assert rounds == 3 and C.shape == (5, 4)
    assert weights.sum() == len(X) and len(weights) == len(cand)
    # Every centre is a candidate; about l = 2k join per round, plus the first.
    assert all((cand == c).all(1).any() for c in C)
    assert 1 + 3 <= len(cand) <= 1 + 3 * 2 * 5 * 3


def test_kmeans_parallel_in_lib_kmeans_is_reproducible_and_good():
    X = blobs(n=4000, k=5, seed=5)
    a = lib.kmeans(X, 5, init="k-means||", seed=3)
    b = lib.kmeans(X, 5, init="k-means||", seed=3)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    best = min(lib.kmeans(X, 5, seed=s, n_init=1).inertia for s in range(5))
    assert a.inertia <= 1.05 * best


def test_weighted_kmeans_plusplus_never_picks_a_weightless_point():
    X = np.arange(20.0).reshape(-1, 1)
    w = np.where(np.arange(20) % 2 == 0, 1.0, 0.0)
    for s in range(10):
        C = kmeans_plusplus(X, 5, np.random.default_rng(s), 1, "sqeuclidean", w)
        assert (C[:, 0] % 2 == 0).all()


def test_kmeans_parallel_refuses_fewer_distinct_points_than_k():
    X = np.repeat(np.array([[0.0], [1.0], [2.0]]), 10, axis=0)
    with pytest.raises(ValueError, match="only 3 distinct points, fewer than k=4"):
        scale.kmeans_parallel(X, 4, seed=0)


def test_bad_input_gets_a_clear_error(tmp_path):
    X = blobs(n=100)
    with pytest.raises(ValueError, match="k=101 is larger than the number of samples"):
        scale.distributed_kmeans(X, 101)
    with pytest.raises(TypeError, match="dtype int64.*astype"):
        scale.distributed_kmeans(X.astype(np.int64), 2)
    with pytest.raises(TypeError, match="dtype int32"):
        scale.distributed_kmeans(da.from_array(X.astype(np.int32)), 2)
    with pytest.raises(ValueError, match="init has shape"):
        scale.distributed_kmeans(X, 3, init=X[:2])
    with pytest.raises(ValueError, match="init='k-means\\+\\+' is not supported"):
        scale.distributed_kmeans(X, 3, init="k-means++")
    unknown = da.from_array(X, chunks=30)
    unknown = unknown[unknown[:, 0] > -100]
    with pytest.raises(ValueError, match="unknown chunk sizes.*compute_chunk_sizes"):
        scale.distributed_kmeans(unknown, 2)


def test_nan_in_a_block_names_the_block_and_the_row(tmp_path):
    X = blobs(n=100)
    X[57, 2] = np.nan
    with pytest.raises(ValueError, match="rows 50 to 74 \\(first at row 57, column 2"):
        wm = 25 * 8 * (4 + 4) / 2**20  # 25 rows a block
        scale.distributed_kmeans(
            memmap_of(X, tmp_path), 2, init=X[:2], working_memory=wm
        )
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="row 57"):
        scale.distributed_kmeans(da.from_array(X, chunks=25), 2, init=X[:2])


def test_one_thread_keeps_map_chunks_in_the_calling_thread():
    seen = set()

    def work(sl):
        seen.add(threading.get_ident())

    with one_thread():
        map_chunks(work, 100, 10)
    assert seen == {threading.get_ident()}


def test_out_of_core_memory_is_bounded(tmp_path):
    n, d, k = 200_000, 32, 8
    X = blobs(n=n, d=d, k=k, seed=6)
    Xm = memmap_of(X, tmp_path)
    C0 = X[:k].copy()
    del X
    budget = 1.0  # MiB
    # Compile lib's numba loops first: compiling allocates, running does not.
    scale.distributed_kmeans(Xm[:100], k, init=C0, max_iter=1)
    tracemalloc.start()
    try:
        res = scale.distributed_kmeans(
            Xm, k, init=C0, max_iter=5, working_memory=budget
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    data = n * d * 8
    # A few budgets for a block and its temporaries, and 8 bytes a row for
    # the labels, twice (a pass's old and new ones, or the blocks' and the
    # result's).
    assert data == 51_200_000
    assert peak < 8 * budget * 2**20 + 2 * 8 * n
    assert peak < data / 4
    assert res.labels.shape == (n,)


@pytest.mark.slow
def test_local_cluster_gives_lib_kmeans_answer_and_always_closes():
    X = blobs(seed=8)
    C0 = X[:5].copy()
    C0[4] += 1e3
    ref = lib.kmeans(X, 5, init=C0)
    with scale.local_cluster(2) as client:
        cluster = client.cluster
        res = scale.distributed_kmeans(da.from_array(X, chunks=(UNEVEN, 4)), 5, init=C0)
        assert_same_run(res, ref)
        bad = X.copy()
        bad[2500, 0] = np.inf
        with pytest.raises(ValueError, match="first at row 2500"):
            scale.distributed_kmeans(da.from_array(bad, chunks=1000), 5, init=C0)
    assert cluster.status.name == "closed"
    with pytest.raises(RuntimeError, match="a failing cell"):
        with scale.local_cluster(1) as client:
            cluster = client.cluster
            raise RuntimeError("a failing cell")
    assert cluster.status.name == "closed"


def test_lloyd_block_statistics_add_up_to_the_whole():
    X = blobs(n=1000, seed=9)
    C = X[:5]
    whole = scale.lloyd_block(X, 0, None, C, (), "sqeuclidean")[1]
    halves = [
        scale.lloyd_block(X[s], s.start, None, C, (), "sqeuclidean")[1]
        for s in (slice(0, 400), slice(400, 1000))
    ]
    added = scale.add_stats(*halves)
    np.testing.assert_allclose(added[0], whole[0], rtol=1e-12)
    np.testing.assert_array_equal(added[1], whole[1])
    assert added[2] == pytest.approx(whole[2], rel=1e-12)
    # A block with the previous labels counts the points that changed cluster,
    # after the driver's moves.
    labels = scale.lloyd_block(X, 0, None, C, (), "sqeuclidean")[0]
    prev = labels.copy()
    prev[:3] = (prev[:3] + 1) % 5
    assert scale.lloyd_block(X, 0, prev, C, (), "sqeuclidean")[1][4] == 3
    moves = ((0, labels[0]),)
    assert scale.lloyd_block(X, 0, prev, C, moves, "sqeuclidean")[1][4] == 2


def test_pass_graph_is_blocks_then_a_tree():
    X = blobs(n=1000)
    graph = scale.pass_graph(da.from_array(X, chunks=125), X[:3])
    kinds = [dask.utils.key_split(key) for key in graph]
    assert kinds.count("lloyd_block") == 8 and kinds.count("add_stats") == 7
    roots = [key for key in graph if not any(key in deps for deps in graph.values())]
    assert len(roots) == 1 and dask.utils.key_split(roots[0]) == "add_stats"
    with pytest.raises(TypeError, match="must be a dask array"):
        scale.pass_graph(X, X[:3])
