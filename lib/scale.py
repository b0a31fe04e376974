"""K-means on data larger than memory, on disk or on a Dask cluster.

Lloyd's iteration needs from each block of rows only three small things: the
per-cluster sums of its points (k x d), their counts (k) and its share of the
objective. :func:`distributed_kmeans` computes them block by block with lib's
own assignment (:func:`lib.distances.nearest_centroid`) and sums
(:func:`lib.lloyd.cluster_sums`), adds them up in a tree, and updates the
centroids on the driver with lib's empty-cluster rule
(:func:`lib.lloyd.fill_empty`) and stopping rule. The blocks are those of a
``dask.array`` (each one a task, on whatever scheduler or cluster is active)
or slices of any array that supports row slicing, such as an ``np.memmap``
(read one at a time, in this process: out of core). :func:`kmeans_parallel`
is k-means|| (Bahmani et al. 2012), the initialization that needs a few
passes over the data instead of k.

Dask is imported only inside the functions that need it. The chapter
"K-means at scale" runs this module.
"""

from __future__ import annotations

import contextlib
import logging
import operator

import numpy as np

from ._chunks import check_working_memory, chunks, one_thread, rows_for_budget
from ._validation import (
    MAX_ABS,
    check_centroids,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from .distances import METRICS, chunk_rows, nearest_centroid, point_costs, sq_norms
from .init import check_init, kmeans_plusplus
from .lloyd import History, KMeansResult, cluster_sums, fill_empty

__all__ = [
    "add_stats",
    "distributed_kmeans",
    "from_npy",
    "kmeans_parallel",
    "lloyd_block",
    "lloyd_passes",
    "local_cluster",
    "oversample_block",
    "pass_graph",
    "tree_reduce",
    "write_blobs_npy",
]


# --- Blocks: the same driver over a dask array or slices of a memmap ---------


class _Blocks:
    """Row blocks of an in-memory or memory-mapped array, run here, in order."""

    lazy = False

    def __init__(self, X, rows):
        self.X = X
        self.slices = chunks(X.shape[0], rows)
        self.starts = [sl.start for sl in self.slices]
        self.lengths = [sl.stop - sl.start for sl in self.slices]

    def map(self, fn, state=None, **shared):
        """``fn(block, start, state_i, **shared)`` for every block, eagerly.

        lib's own threads work inside each block, one block after the other.
        """
        return [
            fn(self.X[sl], sl.start, None if state is None else state[i], **shared)
            for i, sl in enumerate(self.slices)
        ]

    def tree(self, parts, combine):
        return tree_reduce(parts, combine)

    def done(self, *objs):
        return objs


class _DaskBlocks:
    """The row blocks of a dask array: each call builds tasks, `done` runs them."""

    lazy = True

    def __init__(self, X):
        import dask

        self._delayed = dask.delayed
        self.blocks = list(X.to_delayed().ravel())
        self.lengths = [int(m) for m in X.chunks[0]]
        self.starts = [int(s) for s in np.cumsum([0] + self.lengths)[:-1]]

    def map(self, fn, state=None, **shared):
        """A task ``fn(block, start, state_i, **shared)`` for every block.

        The scheduler runs the blocks in parallel, so lib's threads stay off
        inside them (:func:`lib._chunks.one_thread`).
        """
        task = self._delayed(fn, pure=True)
        return [
            task(b, s, None if state is None else state[i], serial=True, **shared)
            for i, (b, s) in enumerate(zip(self.blocks, self.starts))
        ]

    def tree(self, parts, combine):
        return tree_reduce(parts, self._delayed(combine, pure=True))

    def done(self, *objs):
        """Run the tasks at once: block states stay where they are, totals come here.

        Under a distributed client ``persist`` keeps each block's state (its
        labels) in its worker's memory; only the reduced totals travel.
        """
        import dask

        kept = dask.persist(*objs)
        return tuple(o if isinstance(o, list) else dask.compute(o)[0] for o in kept)


def tree_reduce(parts, combine):
    """Combine `parts` pairwise, level by level: depth log2(len(parts)), fixed order.

    On a cluster each ``combine`` is a task, so no worker receives more than
    two blocks' statistics, and the order (hence the rounding) does not
    depend on which block finishes first.

    Examples
    --------
    >>> tree_reduce(["a", "b", "c", "d", "e"], lambda x, y: f"({x}{y})")
    '(((ab)(cd))e)'
    """
    while len(parts) > 1:
        pairs = [combine(a, b) for a, b in zip(parts[::2], parts[1::2])]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def add_stats(a, b):
    """Combine two blocks' statistics: tuples of numbers or arrays, added.

    >>> add_stats((1, np.array([1.0, 2.0])), (2, np.array([3.0, 4.0])))
    (3, array([4., 6.]))
    """
    return tuple(x + y for x, y in zip(a, b))


def _float_block(Xb):
    return np.asarray(Xb, dtype=np.float64)


def _threads(serial):
    return one_thread() if serial else contextlib.nullcontext()


def _split(parts, lazy):
    """A list of (state, stats) pairs into the list of states and of stats."""
    if lazy:
        import dask

        get = dask.delayed(operator.getitem, pure=True)
        return [get(p, 0) for p in parts], [get(p, 1) for p in parts]
    return [p[0] for p in parts], [p[1] for p in parts]


# --- The per-block work -----------------------------------------------------


def _summary_block(Xb, start, _, serial=False):
    """Checks and the moments of one block: n, column sums, sum of squared norms."""
    with _threads(serial):
        Xb = _float_block(Xb)
        finite = np.isfinite(Xb)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            raise ValueError(
                f"X contains NaN or infinity in the block of rows {start} to "
                f"{start + len(Xb) - 1} (first at row {start + row}, column {col}: "
                f"{Xb[row, col]}); drop or impute those values first"
            )
        big = float(np.abs(Xb).max()) if Xb.size else 0.0
        if big > MAX_ABS:
            raise ValueError(
                f"X has values up to {big:.3g} (block at row {start}), whose "
                f"squares overflow float64; rescale X"
            )
        return (len(Xb), Xb.sum(axis=0), float(sq_norms(Xb).sum()))


def lloyd_block(Xb, start, prev, C, moves, metric, serial=False):
    """Assign one block to C: its labels, and (sums, counts, cost, exact, changed).

    `prev` is the block's labels of the previous pass, to which the driver's
    empty-cluster `moves` (global row, new label) are applied first, so that
    ``changed`` counts the labels that differ from those the update used.
    """
    with _threads(serial):
        Xb = _float_block(Xb)
        k = C.shape[0]
        rows = chunk_rows(k, Xb.shape[1], metric)
        xx = sq_norms(Xb) if metric == "sqeuclidean" else None
        labels, costs = nearest_centroid(Xb, C, metric, rows, xx)
        changed = 0
        if prev is not None:
            prev = prev.copy()
            for row, label in moves:
                if start <= row < start + len(prev):
                    prev[row - start] = label
            changed = int(np.count_nonzero(labels != prev))
        stats = (
            cluster_sums(Xb, labels, k),
            np.bincount(labels, minlength=k),
            float(costs.sum()),
            point_costs(Xb, C, labels, metric, rows, total=True),
            changed,
        )
        return labels, stats


def _worst_served(Xb, start, labels, C, top, metric, serial=False):
    """The block's `top` points of largest cost: (rows, labels, costs, points)."""
    with _threads(serial):
        Xb = _float_block(Xb)
        xx = sq_norms(Xb) if metric == "sqeuclidean" else None
        rows = chunk_rows(C.shape[0], Xb.shape[1], metric)
        _, costs = nearest_centroid(Xb, C, metric, rows, xx)
        order = np.argsort(-costs, kind="stable")[:top]
        return (start + order, labels[order], costs[order], Xb[order])


def _costs_block(Xb, start, closest, centers, metric, serial=False):
    """k-means|| state: each point's cost to its nearest centre so far."""
    with _threads(serial):
        Xb = _float_block(Xb)
        rows = chunk_rows(len(centers), Xb.shape[1], metric)
        _, costs = nearest_centroid(Xb, centers, metric, rows)
        if closest is not None:
            np.minimum(costs, closest, out=costs)
        return costs, (float(costs.sum()),)


def oversample_block(Xb, start, closest, psi, ell, seeds, serial=False):
    """k-means|| oversampling: keep each point with probability l d^2 / psi."""
    rng = np.random.default_rng(seeds[start])
    keep = rng.random(len(closest)) * psi < ell * closest
    return _float_block(Xb[np.flatnonzero(keep)])


def _weights_block(Xb, start, _, centers, metric, serial=False):
    """How many points of the block are closest to each k-means|| candidate."""
    with _threads(serial):
        Xb = _float_block(Xb)
        rows = chunk_rows(len(centers), Xb.shape[1], metric)
        labels, _ = nearest_centroid(Xb, centers, metric, rows)
        return (np.bincount(labels, minlength=len(centers)),)


# --- The public API ---------------------------------------------------------


def _blocks(X, working_memory):
    """Validate X's type, shape and chunks; return it in blocks of rows."""
    if hasattr(X, "dask") and hasattr(X, "chunks"):
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError(
                "X has unknown chunk sizes (a dask array filtered by a boolean "
                "mask, or read from a source without lengths); call "
                "X = X.compute_chunk_sizes() first"
            )
        _check_shape_dtype(X)
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})  # a block must hold whole rows
        return _DaskBlocks(X)
    if not (hasattr(X, "shape") and hasattr(X, "dtype")):
        X = np.asarray(X)
    _check_shape_dtype(X)
    # A block's float64 copy and its per-row numbers fill the budget; the
    # distance blocks inside it take at most as much again.
    return _Blocks(X, rows_for_budget(8 * (X.shape[1] + 4), working_memory))


def _check_shape_dtype(X):
    if len(X.shape) != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"X must be a non-empty 2-D array (n_samples, n_features), got shape "
            f"{X.shape}; reshape it"
        )
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(
            f"X must hold floating-point numbers (float32 or float64), got dtype "
            f"{X.dtype}; convert it once, e.g. X = X.astype(np.float32), rather "
            f"than in every pass"
        )


def kmeans_parallel(
    X,
    k,
    *,
    rounds=5,
    oversampling=None,
    seed=None,
    metric="sqeuclidean",
    working_memory=None,
    return_candidates=False,
):
    """k-means|| initialization (Bahmani et al. 2012): k-means++ in a few passes.

    Start from one uniformly drawn point. In each of `rounds` passes, keep
    every point independently with probability ``l D(x)^2 / psi`` (`l` the
    `oversampling`, ``psi`` the current total cost), so about `l` candidates
    join per round. Then weight each candidate by the number of points
    closest to it and run weighted k-means++ on the candidates, in memory.

    Parameters
    ----------
    X : dask array or array-like of shape (n_samples, n_features)
        Floating point; a dask array is processed as tasks on the active
        scheduler, anything else (an ``np.memmap``) block by block here.
    k : int
        Number of clusters (centroids to choose).
    rounds : int, default=5
        Oversampling passes; Bahmani et al. found 5 enough. More are made
        while fewer than k candidates were drawn.
    oversampling : float, optional
        Expected candidates per round, default ``2 k``.
    seed : None, int or np.random.Generator
    metric : {"sqeuclidean", "manhattan"}, default="sqeuclidean"
    working_memory : float, optional
        MiB per block of rows, for an array that is not a dask array.
    return_candidates : bool, default=False
        Also return the candidates, their weights and the number of rounds.

    Returns
    -------
    centroids : ndarray of shape (k, n_features)
    candidates, weights, rounds : only if `return_candidates`

    References
    ----------
    B. Bahmani, B. Moseley, A. Vattani, R. Kumar and S. Vassilvitskii,
    "Scalable k-means++", PVLDB 5(7), 2012.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> C = kmeans_parallel(X, 2, seed=0)
    >>> sorted(int(c > 5) for c in C[:, 0])
    [0, 1]
    """
    blocks = _blocks(X, check_working_memory(working_memory))
    n = X.shape[0]
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    rounds = check_int(rounds, "rounds", low=0)
    ell = 2.0 * k if oversampling is None else check_float(oversampling, "oversampling")
    check_choice(metric, "metric", METRICS)
    rng = check_random_state(seed)
    return _kmeans_parallel(blocks, X, k, rounds, ell, rng, metric, return_candidates)


def _row(X, i):
    row = X[i : i + 1]
    return np.asarray(row.compute() if hasattr(row, "compute") else row, float)


def _kmeans_parallel(blocks, X, k, rounds, ell, rng, metric, return_candidates=False):
    centers = _row(X, int(rng.integers(X.shape[0])))
    closest, (psi,) = _pass(blocks, _costs_block, None, centers=centers, metric=metric)
    done = 0
    while (done < rounds or len(centers) < k) and psi > 0:
        seeds = dict(zip(blocks.starts, rng.integers(2**63, size=len(blocks.starts))))
        picked = blocks.map(oversample_block, closest, psi=psi, ell=ell, seeds=seeds)
        if blocks.lazy:
            import dask

            picked = dask.compute(*picked)
        new = np.vstack(picked)
        done += 1
        if len(new):
            centers = np.vstack([centers, new])
            closest, (psi,) = _pass(
                blocks, _costs_block, closest, centers=new, metric=metric
            )
    if len(centers) < k:  # psi = 0: every point sits on a candidate
        raise ValueError(
            f"X has only {len(centers)} distinct points, fewer than k={k}; "
            f"choose k <= {len(centers)}"
        )
    parts = blocks.map(_weights_block, centers=centers, metric=metric)
    (weights,) = blocks.done(blocks.tree(parts, add_stats))[0]
    C = kmeans_plusplus(centers, k, rng, 1, metric, weights=weights.astype(float))
    return (C, centers, weights, done) if return_candidates else C


def _pass(blocks, fn, state, **shared):
    """One pass over the blocks: new block states, and the totals, tree-added."""
    states, stats = _split(blocks.map(fn, state, **shared), blocks.lazy)
    return blocks.done(states, blocks.tree(stats, add_stats))


def distributed_kmeans(
    X,
    k,
    *,
    init="k-means||",
    max_iter=300,
    tol=1e-4,
    seed=None,
    working_memory=None,
):
    """Lloyd's k-means over the row blocks of a dask array or a memory-mapped array.

    Each pass sends the centroids to every block; each block returns its
    per-cluster sums, counts and costs, added up in a tree. The driver
    divides, applies lib's empty-cluster rule and stopping rule, and starts
    the next pass. From the same initial centroids the result is that of
    :func:`lib.kmeans` (to rounding: the sums are added in another order).

    Parameters
    ----------
    X : dask array or array-like of shape (n_samples, n_features)
        float32 or float64 (arithmetic is float64). A dask array must have
        known chunk sizes; its blocks run as tasks on the active scheduler (a
        ``distributed.Client`` if one is open). Anything else, an
        ``np.memmap`` on disk for instance, is read block by block in this
        process, each block within `working_memory`.
    k : int
        Number of clusters, at most the number of samples.
    init : "k-means||" or ndarray of shape (k, n_features), default="k-means||"
    max_iter : int, default=300
    tol : float, default=1e-4
        lib's relative rule (:func:`lib.lloyd.tolerance`): stop when the
        squared centroid shift is at most `tol` times the mean per-feature
        variance of X, or when no label changes.
    seed : None, int or np.random.Generator
        For k-means||.
    working_memory : float, optional
        MiB for one block of a non-dask array (default 64). The memory used is
        about twice this plus 16 bytes a row: the labels, held twice while a
        pass replaces them.

    Returns
    -------
    KMeansResult
        ``labels`` is a dask array for a dask `X` (its blocks live on the
        workers: compute it before the client closes), else an ndarray.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0]])
    >>> res = distributed_kmeans(X, 2, init=X[[0, 2]], working_memory=1e-4)
    >>> res.centroids.tolist(), res.labels.tolist(), res.inertia
    ([[0.0, 0.5], [10.0, 10.5]], [0, 0, 1, 1], 1.0)
    """
    working_memory = check_working_memory(working_memory)
    blocks = _blocks(X, working_memory)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    init = check_init(init, k, d, methods=("k-means||",))
    max_iter = check_int(max_iter, "max_iter")
    tol = check_float(tol, "tol")
    rng = check_random_state(seed)

    # One pass for the checks (NaN, range) and for lib's tolerance.
    parts = blocks.map(_summary_block)
    (count, colsum, sumsq) = blocks.done(blocks.tree(parts, add_stats))[0]
    mean = colsum / count
    tol_abs = tol * max(0.0, float((sumsq / count - mean @ mean) / d))

    if isinstance(init, str):
        C = _kmeans_parallel(blocks, X, k, 5, 2.0 * k, rng, "sqeuclidean")
    else:
        C = check_centroids(init, d, "init")
    return lloyd_passes(blocks, C, max_iter, tol_abs)


def lloyd_passes(blocks, C, max_iter, tol_abs, metric="sqeuclidean"):
    """lib's Lloyd loop (:func:`lib.lloyd.lloyd_loop`), on block statistics.

    `blocks` are the row blocks that :func:`distributed_kmeans` made of X;
    each pass maps :func:`lloyd_block` over them and adds the statistics
    with :func:`tree_reduce`. The labels stay with their blocks (on the
    workers, under a cluster); only the totals reach this loop. Called by
    :func:`distributed_kmeans`, which checks the arguments.
    """
    hist = History()
    labels, (sums, counts, cost, exact, _) = _pass(
        blocks, lloyd_block, None, C=C, moves=(), metric=metric
    )
    hist.centroids.append(C.copy())
    hist.inertia.append(cost)
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        moves = ()
        if (counts == 0).any():
            sums, counts, moves = _fill_empty(blocks, labels, C, sums, counts, metric)
        C_new = sums / counts[:, None]
        step = float(np.sum((C_new - C) ** 2))
        C = C_new
        labels, (sums, counts, cost, exact, changed) = _pass(
            blocks, lloyd_block, labels, C=C, moves=moves, metric=metric
        )
        hist.centroids.append(C.copy())
        hist.inertia.append(cost)
        if changed == 0 or step <= tol_abs:
            converged = True
            break
    if blocks.lazy:
        import dask.array as da

        labels = da.concatenate(
            [
                da.from_delayed(p, (m,), dtype=np.intp)
                for p, m in zip(labels, blocks.lengths)
            ]
        )
    else:
        labels = np.concatenate(labels)
    return KMeansResult(C, labels, exact, n_iter, converged, hist)


def _fill_empty(blocks, labels, C, sums, counts, metric):
    """lib's empty-cluster rule on the few points that can be chosen.

    :func:`lib.lloyd.fill_empty` moves, to each empty cluster, the point of
    largest cost in a cluster of two or more. At most k points are skipped
    (one per singleton cluster) plus the ones already moved, so the chosen
    points are among each block's ``k + empty`` costliest.
    """
    top = k = C.shape[0]
    top += int(np.count_nonzero(counts == 0))
    found = blocks.map(_worst_served, labels, C=C, top=top, metric=metric)
    if blocks.lazy:
        import dask

        found = dask.compute(*found)
    rows, labs, costs, points = (np.concatenate(f) for f in zip(*found))
    order = np.argsort(rows, kind="stable")  # ties go to the lowest row, as in lib
    rows, labs, costs, points = rows[order], labs[order], costs[order], points[order]
    new = fill_empty(labs, costs, k, counts=counts)
    sums, counts = sums.copy(), counts.copy()
    moves = []
    for i in np.flatnonzero(new != labs):
        sums[labs[i]] -= points[i]
        sums[new[i]] += points[i]
        counts[labs[i]] -= 1
        counts[new[i]] += 1
        moves.append((int(rows[i]), int(new[i])))
    return sums, counts, tuple(moves)


def pass_graph(X, C):
    """The task graph of one Lloyd pass over the dask array X: ``{key: deps}``.

    Keys are Dask's task names; each maps to the set of keys it needs. For
    drawing (the chapter "K-means at scale"); nothing is computed.
    """
    from dask.core import get_dependencies

    blocks = _blocks(X, None)
    if not blocks.lazy:
        raise TypeError(
            f"X must be a dask array to have a task graph, got {type(X).__name__}; "
            f"use dask.array.from_array(X, chunks=...)"
        )
    C = check_centroids(C, X.shape[1], "C")
    parts = blocks.map(lloyd_block, None, C=C, moves=(), metric="sqeuclidean")
    _, stats = _split(parts, True)
    total = blocks.tree(stats, add_stats)
    graph = dict(total.__dask_graph__())
    return {key: get_dependencies(graph, key) for key in graph}


# --- Data on disk and a local cluster -----------------------------------------


def write_blobs_npy(path, n, d, k, *, seed=None, spread=10.0, block_rows=1_000_000):
    """Write `n` float32 points of `k` Gaussian blobs in `d` dimensions to ``.npy``.

    Written `block_rows` at a time, so the file may be larger than memory.
    The blob centres are drawn with standard deviation `spread`; each point
    is its centre plus standard normal noise. Returns the (k, d) centres.
    """
    rng = check_random_state(seed)
    centers = rng.normal(scale=spread, size=(k, d))
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for sl in chunks(n, block_rows):
        m = sl.stop - sl.start
        out[sl] = centers[rng.integers(k, size=m)] + rng.standard_normal((m, d))
    out.flush()
    del out
    return centers


def _read_rows(path, start, stop):
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def from_npy(path, block_rows):
    """A dask array whose blocks of `block_rows` rows each worker reads from disk.

    Only the path travels to the workers, never the data: the file must be
    where the workers can read it (one machine, or a shared file system).
    """
    import dask
    import dask.array as da

    head = np.load(path, mmap_mode="r")
    n, d = head.shape
    block_rows = check_int(block_rows, "block_rows")
    parts = [
        da.from_delayed(
            dask.delayed(_read_rows, pure=True)(str(path), sl.start, sl.stop),
            (sl.stop - sl.start, d),
            dtype=head.dtype,
        )
        for sl in chunks(n, block_rows)
    ]
    return da.concatenate(parts)


@contextlib.contextmanager
def local_cluster(n_workers=2, **kwargs):
    """A ``distributed.Client`` on a fresh LocalCluster, closed on exit.

    One thread per worker, on 127.0.0.1, no dashboard: nothing leaves the
    machine. Used as ``with local_cluster(2) as client: ...``, the cluster is
    shut down even when the block raises. For a real cluster, use
    ``distributed.Client("tcp://<scheduler>:8786")`` instead.
    """
    from distributed import Client, LocalCluster

    n_workers = check_int(n_workers, "n_workers")
    options = dict(
        n_workers=n_workers,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,  # no start-up and shutdown chatter on the page
    )
    options.update(kwargs)
    with LocalCluster(**options) as cluster, Client(cluster) as client:
        yield client
