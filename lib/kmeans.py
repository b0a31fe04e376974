"""Lloyd's k-means and its L1 cousin, k-medians.

The chapter "K-means from scratch" displays this file's functions and runs
them; "The mathematics of k-means" proves why they work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from .distances import (
    METRICS,
    _assign,
    _compiled,
    _map_chunks,
    _sq_norms,
    chunk_rows,
    point_costs,
)
from .init import _init, check_distinct, check_init


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


def _update(X, labels, k, metric):
    """New centroids: the mean (k-means) or coordinate-wise median (k-medians)."""
    if metric == "manhattan":
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(k + 1))
        C = np.empty((k, X.shape[1]))
        for j in range(k):
            members = X[order[bounds[j] : bounds[j + 1]]]
            C[j] = np.median(members, axis=0) if len(members) else np.nan
        return C
    counts = np.bincount(labels, minlength=k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _cluster_sums(X, labels, k) / counts[:, None]


#: The cluster sums are added in this many blocks of rows (fewer for small X).
#: The number is fixed, not the number of threads, so the sums round the same
#: way on every machine.
SUM_BLOCKS = 8


def _cluster_sums(X, labels, k):
    """The (k, d) sum of the rows of each cluster, in one pass over X.

    With numba, a compiled loop adds each row to its cluster's sum, a block of
    rows per thread, and the blocks' sums are added in order. Without it, a
    sparse (n, k) one-hot matrix, transposed, times X.
    """
    n, d = X.shape
    add_rows = _compiled("cluster_sums")
    if add_rows is None:
        onehot = sp.csr_matrix((np.ones(n), labels, np.arange(n + 1)), shape=(n, k))
        return np.asarray(onehot.T @ X)
    rows = max(1024, -(-n // SUM_BLOCKS))
    starts = range(0, n, rows)
    parts = np.empty((len(starts), k, d))

    def work(start):
        parts[start // rows] = add_rows(
            X[start : start + rows], labels[start : start + rows], k
        )

    _map_chunks(work, starts)
    return parts.sum(axis=0)


def _fill_empty(X, labels, costs, k):
    """Relocate empty clusters to the points farthest from their centroids.

    Each empty cluster takes the worst-served point of a cluster that has at
    least two members; moving a point to a centroid placed on it lowers the
    objective, so Lloyd's monotone descent is kept. Never NaN, never zero.
    """
    counts = np.bincount(labels, minlength=k)
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


def _mean_variance(X, xx=None):
    """Mean per-feature variance, from the row norms when Lloyd has them anyway."""
    if xx is None:
        return float(np.mean(np.var(X, axis=0)))
    # One matrix-vector product: faster than X.mean(0).
    mean = np.ones(len(X)) @ X / len(X)
    return max(0.0, float((xx.sum() / X.shape[0] - mean @ mean) / X.shape[1]))


def _lloyd(X, C, metric, max_iter, tol_abs, rows, xx):
    k = C.shape[0]
    hist = History()
    labels, costs = _assign(X, C, metric, rows, xx)
    hist.centroids.append(C.copy())
    hist.inertia.append(costs.sum())
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        labels_used = _fill_empty(X, labels, costs, k)
        C_new = _update(X, labels_used, k, metric)
        shift = np.sum((C_new - C) ** 2)
        C = C_new
        new_labels, costs = _assign(X, C, metric, rows, xx)
        hist.centroids.append(C.copy())
        hist.inertia.append(costs.sum())
        # Labels that stop changing are a fixed point; the shift rule is the
        # relative tolerance scikit-learn uses.
        done = np.array_equal(new_labels, labels_used) or shift <= tol_abs
        labels = new_labels
        if done:
            converged = True
            break
    # The loop's distances use the fast expanded form; the reported objective
    # is recomputed exactly from x - c, once.
    inertia = point_costs(X, C, labels, metric, rows, total=True)
    return KMeansResult(C, labels, inertia, n_iter, converged, hist)


def kmeans(
    X,
    k,
    *,
    init="k-means++",
    metric="sqeuclidean",
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
        matrix is never built.

    Returns
    -------
    KMeansResult
        ``centroids``, ``labels``, ``inertia``, ``n_iter``, ``converged`` and
        ``history``. The labels are always those of a final assignment to
        the returned centroids.

    Notes
    -----
    Empty clusters take the point farthest from its centroid (see
    ``_fill_empty``). Ties in the assignment go to the lowest centroid index.

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
    C0 = check_init(init, k, d)
    if working_memory is not None:
        check_float(working_memory, "working_memory", low=1e-9)
    check_distinct(X, k)

    rows = chunk_rows(k, d, metric, working_memory)
    xx = _sq_norms(X) if metric == "sqeuclidean" else None
    tol_abs = tol * _mean_variance(X, xx) if tol > 0 else 0.0
    best = None
    for _ in range(n_init):
        C = C0.copy() if C0 is not None else _init(X, k, init, rng, metric)
        res = _lloyd(X, C, metric, max_iter, tol_abs, rows, xx)
        if best is None or res.inertia < best.inertia:
            best = res
    return best
