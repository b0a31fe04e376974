"""Lloyd's k-means and its L1 cousin, k-medians, and the loop they share.

:func:`lloyd_loop` is the one Lloyd loop of lib: k-means and k-medians here,
:func:`lib.mahalanobis.mahalanobis_kmeans` and
:func:`lib.spherical.spherical_kmeans` plug their assignment, update and
shift into it, so the history, the stopping rule, the empty-cluster rule
(:func:`fill_empty`) and the final assignment are written once.
:func:`tolerance` turns every variant's relative ``tol`` into a shift.

The chapter "K-means from scratch" displays this file's functions and runs
them; "The mathematics of k-means" proves why they work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import bounds
from ._chunks import check_working_memory, map_chunks
from ._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from .distances import (
    METRICS,
    chunk_rows,
    compiled_loop,
    nearest_centroid,
    point_costs,
    sq_norms,
)
from .init import check_distinct, check_init, start_centroids


@dataclass
class History:
    """What happened at every iteration, for plots and animations.

    ``centroids[t]`` are the centroids after `t` updates (``centroids[0]`` is
    the initialization) and ``inertia[t]`` is the objective of the points
    assigned to ``centroids[t]``; both have length ``n_iter + 1``.
    """

    centroids: list = field(default_factory=list)
    inertia: list = field(default_factory=list)


@dataclass
class KMeansResult:
    """The result of :func:`kmeans`.

    Attributes
    ----------
    centroids : ndarray of shape (k, n_features), float64
    labels : ndarray of shape (n_samples,), int
        Index of each point's centroid, 0-based; matches ``centroids``.
    inertia : float
        The objective: sum of squared distances (k-means) or of L1 distances
        (k-medians) from each point to its centroid.
    n_iter : int
        Number of update steps made.
    converged : bool
        Whether the stopping rule fired before ``max_iter``.
    history : History
    """

    centroids: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool
    history: History


def update_centroids(X, labels, k, metric="sqeuclidean"):
    """New centroids: the mean (k-means) or coordinate-wise median (k-medians).

    Every cluster in `labels` must have a member (:func:`fill_empty` sees to
    it); an empty one would get NaN. No checks (internal API).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [2.0, 4.0], [10.0, 10.0]])
    >>> update_centroids(X, np.array([0, 0, 1]), 2)
    array([[ 1.,  2.],
           [10., 10.]])
    """
    if metric == "manhattan":
        medians = compiled_loop("cluster_medians")
        if medians is not None:  # the same medians, without a loop over clusters
            return medians(X, labels, k)
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(k + 1))
        C = np.empty((k, X.shape[1]))
        for j in range(k):
            members = X[order[bounds[j] : bounds[j + 1]]]
            C[j] = np.median(members, axis=0) if len(members) else np.nan
        return C
    sums, counts = _cluster_sums(X, labels, k, with_counts=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts.astype(float)[:, None]


def centroid_update(X, k, metric="sqeuclidean", working_memory=None):
    """The update step of runs on X: ``update(labels, C) -> new centroids``.

    The centroids are :func:`update_centroids`'s (`C` is not used). X does
    not change during a run, so k-medians with numba sorts each feature of X
    once, here, for all of :func:`kmeans`' runs, and every update reads each
    cluster's median off the sorted columns in one pass
    (:func:`lib.loops.sorted_medians`), with the same medians to the bit and
    no selection. The sorted row indices, as large as X, are kept only if
    they fit in `working_memory` MiB. No checks (internal API). Shown in the
    chapter "Image compression by colour quantization".

    Examples
    --------
    >>> X = np.array([[0.0], [2.0], [7.0], [10.0]])
    >>> centroid_update(X, 2, "manhattan")(np.array([0, 0, 0, 1]), None)
    array([[ 2.],
           [10.]])
    """
    if metric == "manhattan":
        medians = compiled_loop("sorted_medians")
        fits = 8 * X.size <= check_working_memory(working_memory) * 2**20
        if medians is not None and fits:
            order = np.argsort(np.ascontiguousarray(X.T))  # row t: rows by X[:, t]
            return lambda labels, C: medians(X, order, labels, k)
    return lambda labels, C: update_centroids(X, labels, k, metric)


#: The cluster sums are added in this many blocks of rows (fewer for small X).
#: The number is fixed, not the number of threads, so the sums round the same
#: way on every machine.
SUM_BLOCKS = 8


def _cluster_sums(X, labels, k, with_counts=False):
    """The (k, d) sum of the rows of each cluster, in one pass over X.

    With numba, a compiled loop adds each row to its cluster's sum, a block of
    rows per thread, and the blocks' sums are added in order. Without it, a
    sparse (n, k) one-hot matrix, transposed, times X. `with_counts` also
    returns the clusters' sizes, counted in the same pass.
    """
    n, d = X.shape
    add_rows = compiled_loop("cluster_sums")
    if add_rows is None:
        onehot = sp.csr_matrix((np.ones(n), labels, np.arange(n + 1)), shape=(n, k))
        sums = np.asarray(onehot.T @ X)
        return (sums, np.bincount(labels, minlength=k)) if with_counts else sums
    rows = max(1024, -(-n // SUM_BLOCKS))
    parts = np.empty((-(-n // rows), k, d))
    counts = np.zeros((len(parts), k), dtype=np.int64)

    def work(sl):
        block = sl.start // rows
        parts[block] = add_rows(X[sl], labels[sl], k, counts[block])

    map_chunks(work, n, rows)
    sums = parts.sum(axis=0)
    return (sums, counts.sum(axis=0)) if with_counts else sums


def cluster_sums(X, labels, k):
    """The (k, n_features) sum of each cluster's rows; 0 for a cluster without rows.

    What :func:`update_centroids` divides by the counts, with its rounding;
    :mod:`lib.scale` adds these sums over blocks of rows. No checks.

    Examples
    --------
    >>> cluster_sums(np.array([[1.0], [2.0], [4.0]]), np.array([0, 0, 2]), 3)
    array([[3.],
           [0.],
           [4.]])
    """
    return _cluster_sums(X, labels, k)


def fill_empty(labels, costs, k, counts=None):
    """Relocate empty clusters to the points farthest from their centroids.

    Each empty cluster takes the worst-served point (largest `costs`) of a
    cluster that has at least two members; moving a point to a centroid
    placed on it lowers the objective, so Lloyd's monotone descent is kept.
    Never NaN, never zero. Returns `labels` itself when no cluster is empty,
    else a modified copy. `counts` (the clusters' sizes, default those of
    `labels`) lets :mod:`lib.scale` pass a few candidate points of a larger
    data set with the sizes of the whole.

    Examples
    --------
    >>> fill_empty(np.array([0, 0, 0]), np.array([1.0, 5.0, 2.0]), 2)
    array([0, 1, 0])
    """
    counts = np.bincount(labels, minlength=k) if counts is None else np.array(counts)
    empty = np.flatnonzero(counts == 0)
    if len(empty) == 0:
        return labels
    labels = labels.copy()
    for j in empty:
        movable = counts[labels] > 1
        cand = np.where(movable, costs, -1.0)
        far = int(np.argmax(cand))
        counts[labels[far]] -= 1
        labels[far] = j
        counts[j] = 1
        costs = costs.copy()
        costs[far] = -1.0
    return labels


def tolerance(X, tol, *, xx=None, precision=None):
    """The absolute shift below which a run stops: `tol` times X's spread.

    The spread is the mean per-feature variance of X (scikit-learn's relative
    rule), so `tol` does not depend on the data's units. With `precision` it is
    that of the whitened data ``X precision^{1/2}``, ``trace(precision cov(X)) / d``,
    the Mahalanobis variant's own units. `xx` (``sq_norms(X)``, which Lloyd
    has anyway) gets the variance from one matrix-vector product. ``tol=0``
    costs nothing and gives 0. Shared by every k-means variant in lib.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [2.0, 4.0]])
    >>> tolerance(X, 0.5)              # variances 1 and 4
    1.25
    >>> tolerance(X, 0.5, precision=np.diag([1.0, 0.25]))   # whitened: 1 and 1
    0.5
    """
    if tol == 0:
        return 0.0
    if precision is not None:
        d = X.shape[1]
        cov = np.cov(X, rowvar=False, bias=True).reshape(d, d)
        return tol * float(np.trace(precision @ cov)) / d
    if xx is None:
        return tol * float(np.mean(np.var(X, axis=0)))
    # One matrix-vector product: faster than X.mean(0).
    mean = np.ones(len(X)) @ X / len(X)
    return tol * max(0.0, float((xx.sum() / X.shape[0] - mean @ mean) / X.shape[1]))


def squared_shift(C_new, C):
    """How far the centroids moved: the squared Frobenius norm of the step."""
    return np.sum((C_new - C) ** 2)


def lloyd_loop(
    C, assign, update, *, max_iter, tol_abs, shift=squared_shift, inertia=None
):
    """Lloyd's loop, once for the whole k-means family.

    Alternate ``labels, costs = assign(C)`` and ``C = update(labels, C)``
    until the labels stop changing or ``shift(C_new, C) <= tol_abs`` (see
    :func:`tolerance`), at most `max_iter` updates. Before each update,
    :func:`fill_empty` gives every empty cluster a point, using `costs`. The
    returned labels are those of the last assignment, to the returned
    centroids, whether or not the run converged.

    Parameters
    ----------
    C : ndarray of shape (k, n_features)
        Initial centroids (not modified).
    assign : callable
        ``assign(C) -> (labels, costs)``: each point's cluster and its cost,
        the variant's objective term, so that ``costs.sum()`` is the
        objective (squared distance, L1, Mahalanobis or ``1 - cos``).
    update : callable
        ``update(labels, C) -> C_new`` for labels with no empty cluster; `C`
        is the current centroids (spherical k-means keeps a centroid whose
        mean has no direction).
    max_iter : int
    tol_abs : float
    shift : callable, default=squared_shift
        ``shift(C_new, C) -> float``, in the units of `tol_abs`.
    inertia : callable, optional
        ``inertia(C, labels, costs) -> float``, the reported objective;
        default ``costs.sum()`` (k-means recomputes it exactly from x - c).

    Returns
    -------
    KMeansResult
        ``history`` holds the ``n_iter + 1`` centroids and objectives.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [9.0], [10.0]])
    >>> res = lloyd_loop(
    ...     np.array([[0.0], [1.0]]),
    ...     lambda C: nearest_centroid(X, C, "sqeuclidean", len(X)),
    ...     lambda labels, C: update_centroids(X, labels, 2),
    ...     max_iter=10,
    ...     tol_abs=0.0,
    ... )
    >>> res.centroids.ravel().tolist(), res.n_iter, res.converged
    ([0.5, 9.5], 2, True)
    >>> [round(j, 2) for j in res.history.inertia]  # never increases
    [145.0, 17.56, 1.0]
    """
    k = C.shape[0]
    hist = History()
    labels, costs = assign(C)
    hist.centroids.append(C.copy())
    hist.inertia.append(float(costs.sum()))
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        labels_used = fill_empty(labels, costs, k)
        C_new = update(labels_used, C)
        step = shift(C_new, C)
        C = C_new
        new_labels, costs = assign(C)
        hist.centroids.append(C.copy())
        hist.inertia.append(float(costs.sum()))
        # Labels that stop changing are a fixed point; the shift rule is the
        # relative tolerance scikit-learn uses.
        done = np.array_equal(new_labels, labels_used) or step <= tol_abs
        labels = new_labels
        if done:
            converged = True
            break
    total = float(costs.sum()) if inertia is None else inertia(C, labels, costs)
    return KMeansResult(C, labels, total, n_iter, converged, hist)


def best_run(n_init, run):
    """The result of lowest ``inertia`` among `n_init` calls of ``run()``.

    The first one wins ties, so ``n_init=1`` is just ``run()``.
    """
    best = None
    for _ in range(n_init):
        res = run()
        if best is None or res.inertia < best.inertia:
            best = res
    return best


def kmeans(
    X,
    k,
    *,
    init="k-means++",
    metric="sqeuclidean",
    algorithm="lloyd",
    n_init=1,
    max_iter=300,
    tol=1e-4,
    seed=None,
    working_memory=None,
):
    """Cluster `X` into `k` groups with Lloyd's algorithm (or k-medians).

    Repeat until stable: assign every point to its nearest centroid, then move
    every centroid to the mean (``metric="sqeuclidean"``, k-means) or the
    coordinate-wise median (``metric="manhattan"``, k-medians) of its points.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Any numeric dtype; all arithmetic is float64, so uint8 pixels are safe.
    k : int
        Number of clusters, ``1 <= k <=`` the number of distinct points.
    init : {"k-means++", "greedy-k-means++", "random", "sample"} or ndarray
        An array has shape (k, n_features).
        See :func:`lib.init.init_centroids`; an array is used as given.
    metric : {"sqeuclidean", "manhattan"}, default="sqeuclidean"
        ``"sqeuclidean"`` is Lloyd's k-means; ``"manhattan"`` is k-medians
        (L1 assignment, coordinate-wise median update).
    algorithm : {"lloyd", "hamerly", "elkan", "yinyang", "auto"}, default="lloyd"
        How each assignment is computed; all give the same labels and
        centroids from the same start. ``"lloyd"`` computes every distance;
        ``"hamerly"``, ``"elkan"`` and ``"yinyang"`` skip those that the
        triangle inequality settles (:mod:`lib.bounds`), which pays only where
        a distance costs more than the bookkeeping that skips it (the
        measurements are in :func:`lib.bounds.choose`). Hamerly keeps two
        bounds per point (memory of order n, like Lloyd's labels); Elkan keeps
        an (n, k) array of bounds, Yinyang an (n, k / 10) array, one per group
        of centroids, which suits many clusters. Elkan's and Yinyang's bounds
        must fit in `working_memory`: beyond it a ValueError gives the size and
        the fix (a larger `working_memory`, or ``"hamerly"``) rather than a
        silent switch. ``"auto"`` picks by the measured rule of
        :func:`lib.bounds.choose` (today Lloyd), which picks neither, so it
        always fits. Only ``"sqeuclidean"`` has the accelerated variants.
    n_init : int, default=1
        Number of runs from different initializations; the run with the
        lowest objective is returned.
    max_iter : int, default=300
    tol : float, default=1e-4
        Stop when the squared Frobenius norm of the centroid shift is at most
        ``tol`` times the mean per-feature variance of X (scikit-learn's
        relative rule), or when the labels stop changing.
    seed : None, int or np.random.Generator
        The same seed gives the same result.
    working_memory : float, optional
        Bound in MiB on each distance block (default
        ``lib.distances.WORKING_MEMORY_MB`` = 64): the full (n, k) distance
        matrix is never built. k-medians keeps X's columns sorted (see
        :func:`centroid_update`) only if they fit in it; the result does not
        depend on it.

    Returns
    -------
    KMeansResult
        ``centroids``, ``labels``, ``inertia``, ``n_iter``, ``converged`` and
        ``history``. The labels are always those of a final assignment to
        the returned centroids.

    Notes
    -----
    Empty clusters take the point farthest from its centroid (see
    :func:`fill_empty`). Ties in the assignment go to the lowest centroid index.

    References
    ----------
    S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
    28(2), 1982. J. MacQueen, "Some methods for classification and analysis of
    multivariate observations", Berkeley Symp. 1967.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0]])
    >>> res = kmeans(X, 2, seed=0)
    >>> sorted(res.centroids.tolist())
    [[0.0, 0.5], [10.0, 10.5]]
    >>> float(res.inertia)
    1.0
    """
    X = check_array(X)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    check_choice(metric, "metric", METRICS)
    n_init = check_int(n_init, "n_init")
    max_iter = check_int(max_iter, "max_iter")
    tol = check_float(tol, "tol")
    rng = check_random_state(seed)
    init = check_init(init, k, d)
    working_memory = check_working_memory(working_memory)
    algorithm = bounds.check_algorithm(algorithm, metric, n, k, d, working_memory)
    check_distinct(X, k)

    rows = chunk_rows(k, d, metric, working_memory)
    xx = sq_norms(X) if metric == "sqeuclidean" else None
    tol_abs = tolerance(X, tol, xx=xx)
    update = centroid_update(X, k, metric, working_memory)

    def run():
        return lloyd_loop(
            start_centroids(X, k, init, rng, metric),
            (
                bounds.BoundedAssign(X, rows, algorithm, xx)
                if algorithm != "lloyd"
                else lambda C: nearest_centroid(X, C, metric, rows, xx)
            ),
            update,
            max_iter=max_iter,
            tol_abs=tol_abs,
            # The loop's distances use the fast expanded form; the reported
            # objective is recomputed exactly from x - c, once.
            inertia=lambda C, labels, costs: point_costs(
                X, C, labels, metric, rows, total=True
            ),
        )

    return best_run(n_init, run)
