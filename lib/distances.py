"""Chunked distances from points to centroids: the assignment step of k-means.

The chapter "The mathematics of k-means" derives the identity used here,
``argmin_j ||x - c_j||^2 = argmin_j (||c_j||^2 - 2 x.c_j)``, which turns the
assignment into one matrix product per chunk of rows. With only a few features
(pixels: d = 3) the same scores are computed by the compiled loop of
:mod:`lib.loops` instead, which never builds the score block.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from ._chunks import (
    WORKING_MEMORY_MB,
    check_working_memory,
    map_chunks,
    rows_for_budget,
)
from ._validation import check_array, check_centroids, check_choice

METRICS = ("sqeuclidean", "manhattan")

__all__ = [
    "METRICS",
    "WORKING_MEMORY_MB",
    "assign",
    "chunk_rows",
    "compiled_loop",
    "distances_chunk",
    "nearest_centroid",
    "packed_centroids",
    "packed_scores",
    "point_costs",
    "scores_chunk",
    "sq_norms",
]


#: Preferred size, in MiB, of one distance block: small enough to stay in the
#: CPU's last-level cache, where the few passes over it are cheap, and large
#: enough that the per-chunk Python overhead stays small (measured: 4 beat 2).
CACHE_BLOCK_MB = 4

#: With at most this many features the assignment runs in the compiled loop of
#: :mod:`lib.loops`, which never builds the score block. Measured on two
#: cores: twice as fast as the matrix product for d <= 8, slower from d = 16.
LOOP_MAX_FEATURES = 8


def chunk_rows(n_centroids, n_features, metric="sqeuclidean", working_memory=None):
    """Rows per chunk so that one chunk's temporaries stay within `working_memory` MiB.

    A (rows, k) float64 distance block costs 8*k bytes a row; a few such
    blocks live at once, so we budget 3 of them (plus the row copy). Within
    that bound, blocks of about ``CACHE_BLOCK_MB`` are fastest.
    """
    bound = rows_for_budget(8 * (3 * n_centroids + n_features), working_memory)
    fast = max(256, int(CACHE_BLOCK_MB * 2**20 // (8 * max(n_centroids, n_features))))
    return min(bound, fast)


def sq_norms(X):
    """The squared Euclidean norm of every row of X, shape (n_samples,).

    Examples
    --------
    >>> sq_norms(np.array([[3.0, 4.0], [1.0, 0.0]]))
    array([25.,  1.])
    """
    return np.einsum("ij,ij->i", X, X)


def scores_chunk(Xc, C, metric, cc=None):
    """Scores whose row-wise argmin is the nearest centroid, shape (len(Xc), len(C)).

    For ``"sqeuclidean"`` this is ``||c||^2 - 2 x.c``: the squared distance
    minus ``||x||^2``, which is the same for every centroid and so cannot
    change the argmin. One matrix product and one broadcast add.
    For ``"manhattan"`` it is the L1 distance itself. `cc` is
    ``sq_norms(C)`` when the caller has it. Xc and C are valid float64 (no
    checks: :func:`assign` is the checked entry point).

    Examples
    --------
    >>> C = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> scores_chunk(np.array([[1.0, 0.0]]), C, "sqeuclidean")
    array([[0., 8.]])
    """
    if metric == "manhattan":
        return cdist(Xc, C, metric="cityblock")
    S = Xc @ (-2.0 * C.T)
    S += cc if cc is not None else sq_norms(C)
    return S


def packed_centroids(C, cc):
    """``W = [-2 C^T ; ||c||^2]``, shape (d + 1, k), for :func:`packed_scores`.

    `cc` is ``sq_norms(C)``. Also the weights of the compiled loop
    ``lib.loops.nearest_few_features``.
    """
    W = np.empty((C.shape[1] + 1, C.shape[0]))  # row-major: rows of W are contiguous
    W[:-1] = -2.0 * C.T
    W[-1] = cc
    return W


def packed_scores(Xc, W):
    """The same scores as :func:`scores_chunk`, in a single matrix product.

    Appending a 1 to every row gives ``[x, 1] @ W = ||c||^2 - 2 x.c``, so
    ``||c||^2`` is added inside the product instead of in a second pass over
    the (rows, k) block. That pays when d is small next to k (pixels: d = 3),
    where the product is cheap and the extra pass is not.

    Examples
    --------
    >>> C = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> packed_scores(np.array([[1.0, 0.0]]), packed_centroids(C, sq_norms(C)))
    array([[0., 8.]])
    """
    m, d = Xc.shape
    Xa = np.empty((m, d + 1))
    Xa[:, :d] = Xc
    Xa[:, d] = 1.0
    return Xa @ W


def compiled_loop(name):
    """The numba loop `name` of :mod:`lib.loops`, or None without numba.

    Callers fall back to NumPy and SciPy, with the same results, slower.
    """
    try:
        from . import loops
    except ImportError:
        return None
    return getattr(loops, name)


def distances_chunk(Xc, C, metric, xx=None, cc=None):
    """Distances from the rows of Xc to the rows of C, shape (len(Xc), len(C)).

    The squared Euclidean distances come from the expanded form
    :func:`scores_chunk` ``+ ||x||^2`` (`xx` is ``sq_norms(Xc)`` when the caller
    has it), clamped at 0; the L1 distances are exact.

    Examples
    --------
    >>> distances_chunk(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0], [4.0, 0.0]]),
    ...                 "sqeuclidean")
    array([[1., 9.]])
    """
    D = scores_chunk(Xc, C, metric, cc)
    if metric == "manhattan":
        return D
    D += (xx if xx is not None else sq_norms(Xc))[:, None]
    # The expanded form can round slightly below zero when x is close to c.
    np.maximum(D, 0.0, out=D)
    return D


def nearest_centroid(X, C, metric, rows, xx=None, second=None):
    """Labels and the distance to the assigned centroid; X and C are valid float64.

    The scores ``||c||^2 - 2 x.c`` rank the centroids. With `xx` (the rows'
    squared norms, which Lloyd's loop computes once) the winner's distance is
    the expanded form ``||x||^2 + score``, clamped at 0 because cancellation
    can push it slightly below; without `xx` it is recomputed exactly from
    ``x - c`` while the chunk is still in cache. With few features the
    compiled loop of :mod:`lib.loops` does all of this per row, and its
    distances are always exact; for ``"manhattan"`` its L1 loop (written out
    for d = 3, pixels) gives the labels and distances of SciPy's ``cdist``
    blocks (the fallback) to the bit. `rows` is the chunk length, from
    :func:`chunk_rows`. No checks: :func:`assign` is the checked entry point,
    this is the one Lloyd's loops call. If `second` (an n-long array) is
    given, it receives each row's runner-up score, ``||c||^2 - 2 x.c`` of the
    second-nearest centroid (``inf`` for k = 1): add ``||x||^2`` for its squared
    distance (Hamerly's lower bound, :mod:`lib.bounds`).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [9.0, 9.0], [1.0, 0.0]])
    >>> nearest_centroid(X, np.array([[0.0, 0.0], [10.0, 10.0]]), "sqeuclidean", 2)
    (array([0, 1, 0]), array([0., 2., 1.]))
    """
    n, d = X.shape
    k = C.shape[0]
    labels = np.empty(n, dtype=np.intp)
    mind = np.empty(n, dtype=np.float64)
    cc = sq_norms(C) if metric == "sqeuclidean" else None
    if metric == "manhattan":
        loop = compiled_loop("nearest_l1_rgb" if d == 3 else "nearest_l1")
    elif d <= LOOP_MAX_FEATURES:
        loop = compiled_loop("nearest_few_features")
    else:
        loop = None
    W = (
        packed_centroids(C, cc)
        if metric == "sqeuclidean" and (d < k or loop is not None)
        else None
    )
    CT = np.ascontiguousarray(C.T) if metric == "manhattan" else None
    # Where row i's entries start in a raveled block (only blocks need it).
    flat = np.arange(rows) * k if loop is None else None
    no_second = np.empty(0)

    def work(sl):
        Xc = X[sl]
        if loop is not None and metric == "manhattan":  # no cdist block
            loop(Xc, CT, labels[sl], mind[sl])
            return
        if loop is not None:  # few features: no score block at all
            loop(
                Xc,
                C,
                W,
                labels[sl],
                mind[sl],
                no_second if second is None else second[sl],
            )
            return
        D = scores_chunk(Xc, C, metric, cc) if W is None else packed_scores(Xc, W)
        lab = np.argmin(D, axis=1)  # ties go to the lowest centroid index
        labels[sl] = lab
        best = D.ravel().take(flat[: len(lab)] + lab)
        if second is not None:  # the runner-up: hide the winner, take the min
            D.ravel()[flat[: len(lab)] + lab] = np.inf
            second[sl] = D.min(axis=1)
        if metric == "manhattan":
            mind[sl] = best
        elif xx is not None:
            np.maximum(best + xx[sl], 0.0, out=mind[sl])
        else:
            diff = Xc - C[lab]
            mind[sl] = np.einsum("ij,ij->i", diff, diff)

    map_chunks(work, n, rows)
    return labels, mind


def point_costs(X, C, labels, metric, rows=65536, *, total=False):
    """Exact cost of each point to its own centroid (no expanded-form rounding).

    Computed `rows` rows at a time, so the ``x - c`` temporaries stay small.
    With ``total=True`` only their sum is returned (the objective), one dot
    product per chunk and no per-point array. No checks (internal API).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> point_costs(X, np.array([[0.0, 0.0]]), np.array([0, 0]), "sqeuclidean")
    array([ 0., 25.])
    """
    n = X.shape[0]
    costs = np.empty(-(-n // rows) if total else n)

    def work(sl):
        diff = X[sl] - C[labels[sl]]
        if total:
            costs[sl.start // rows] = (
                np.abs(diff).sum() if metric == "manhattan" else np.vdot(diff, diff)
            )
        else:
            costs[sl] = (
                np.abs(diff).sum(axis=1)
                if metric == "manhattan"
                else np.einsum("ij,ij->i", diff, diff)
            )

    map_chunks(work, n, rows)
    return float(costs.sum()) if total else costs


def assign(
    X, centroids, metric="sqeuclidean", *, working_memory=None, return_distances=False
):
    """Assign every point to its nearest centroid, in bounded memory.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points. Any numeric dtype; arithmetic is done in float64.
    centroids : array-like of shape (k, n_features)
    metric : {"sqeuclidean", "manhattan"}, default="sqeuclidean"
        Squared Euclidean distance (k-means) or L1 distance (k-medians).
    working_memory : float, optional
        Bound in MiB on the distance block built per chunk of rows
        (default ``lib.distances.WORKING_MEMORY_MB``).
    return_distances : bool, default=False
        Also return each point's distance to its centroid.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Index of the nearest centroid; ties go to the lowest index.
    distances : ndarray of shape (n_samples,)
        Only if `return_distances`.

    Notes
    -----
    Taught in the chapter "The mathematics of k-means" (the vectorized identity).

    Examples
    --------
    >>> import numpy as np
    >>> from lib import assign
    >>> X = np.array([[0.0, 0.0], [9.0, 9.0], [1.0, 0.0]])
    >>> assign(X, np.array([[0.0, 0.0], [10.0, 10.0]]))
    array([0, 1, 0])
    """
    X = check_array(X)
    C = check_centroids(centroids, X.shape[1])
    check_choice(metric, "metric", METRICS)
    working_memory = check_working_memory(working_memory)
    rows = chunk_rows(C.shape[0], X.shape[1], metric, working_memory)
    labels, dist = nearest_centroid(X, C, metric, rows)
    return (labels, dist) if return_distances else labels
