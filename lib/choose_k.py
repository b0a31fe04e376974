"""Choosing k: the elbow (kneedle), the silhouette and the gap statistic.

The chapter "Initialization, failure cases and choosing k" compares the
three criteria and shows where they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._chunks import check_working_memory, chunks
from ._validation import (
    check_array,
    check_choice,
    check_int,
    check_random_state,
)

CURVES = ("convex", "concave")


def _check_curve(ks, values):
    ks = np.asarray(ks)
    values = np.asarray(values)
    if ks.ndim != 1 or values.ndim != 1 or len(ks) != len(values):
        raise ValueError(
            f"ks and values must be 1-D and of equal length, got shapes "
            f"{ks.shape} and {values.shape}; pass one value per k"
        )
    if len(ks) < 3:
        raise ValueError(
            f"an elbow needs at least 3 points, got {len(ks)}; "
            f"evaluate more values of k"
        )
    for name, a in (("ks", ks), ("values", values)):
        if (
            not np.issubdtype(a.dtype, np.number)
            or not np.isfinite(a.astype(float)).all()
        ):
            raise ValueError(
                f"{name} must be finite numbers, got {a!r}; "
                f"drop NaN or infinite entries"
            )
    if not np.all(np.diff(ks) > 0):
        raise ValueError(
            f"ks must be strictly increasing, got {ks.tolist()}; sort them "
            f"(and their values) first"
        )
    return ks, values.astype(float)


def elbow_scores(ks, values, *, curve="convex"):
    """Kneedle's difference curve: distance of each point from the chord.

    Both axes are rescaled to [0, 1]; the score of point ``i`` is how far
    it lies below (``curve="convex"``) or above (``curve="concave"``) the
    straight line through the first and last points. See :func:`find_elbow`.

    Parameters
    ----------
    ks : array-like of shape (m,)
        Strictly increasing.
    values : array-like of shape (m,)
    curve : {"convex", "concave"}, default="convex"

    Returns
    -------
    scores : ndarray of shape (m,)
        Zero at both ends.

    Examples
    --------
    >>> elbow_scores([1, 2, 3], [10.0, 2.0, 0.0]).round(2)
    array([0. , 0.3, 0. ])
    """
    ks, values = _check_curve(ks, values)
    check_choice(curve, "curve", CURVES)
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = values.max() - values.min()
    y = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    chord = y[0] + (y[-1] - y[0]) * x
    return chord - y if curve == "convex" else y - chord


def find_elbow(ks, values, *, curve="convex"):
    """The elbow of a curve such as inertia against k, by the kneedle rule.

    The rule (Satopää et al. 2011, offline form): rescale k and the values
    to [0, 1], draw the chord from the first point to the last, and return
    the k whose point lies farthest below the chord (for a convex curve like
    inertia against k) or above it (``curve="concave"``, e.g. explained
    variance). If no point lies strictly on that side, the curve has no
    elbow and None is returned. The online version's sensitivity threshold is
    not needed when the whole curve is known.

    Parameters
    ----------
    ks : array-like of shape (m,)
        Strictly increasing candidate numbers of clusters, ``m >= 3``.
    values : array-like of shape (m,)
        The criterion at each k, e.g. ``kmeans(X, k).inertia``.
    curve : {"convex", "concave"}, default="convex"

    Returns
    -------
    k : int, float or None
        The element of `ks` at the elbow, or None.

    References
    ----------
    V. Satopää, J. Albrecht, D. Irwin and B. Raghavan, "Finding a 'kneedle'
    in a haystack: detecting knee points in system behavior", ICDCS
    Workshops 2011. Taught in "Initialization, failure cases and choosing k".

    Examples
    --------
    >>> find_elbow([1, 2, 3, 4, 5, 6], [100.0, 40.0, 10.0, 8.0, 7.0, 6.5])
    3
    >>> find_elbow([1, 2, 3], [3.0, 2.0, 1.0]) is None  # a straight line
    True
    """
    ks_arr = np.asarray(ks)
    scores = elbow_scores(ks, values, curve=curve)
    i = int(np.argmax(scores))
    if scores[i] <= 1e-12:
        return None
    return ks_arr[i].item()


# ---------------------------------------------------------------- silhouette

SILHOUETTE_METRICS = ("euclidean", "manhattan")


def _check_labels(labels, n):
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            f"labels must have shape ({n},) to match X, got {labels.shape}; "
            f"pass one label per row of X"
        )
    if not (
        np.issubdtype(labels.dtype, np.integer)
        or np.issubdtype(labels.dtype, np.str_)
        or labels.dtype == bool
    ):
        raise TypeError(
            f"labels must be integers or strings, got dtype {labels.dtype}; "
            f"pass e.g. kmeans(X, k).labels"
        )
    uniq, codes = np.unique(labels, return_inverse=True)
    if not 2 <= len(uniq) <= n - 1:
        raise ValueError(
            f"the silhouette needs 2 <= number of clusters <= n_samples - 1 "
            f"= {n - 1}, got {len(uniq)} clusters; cluster with another k"
        )
    return codes.ravel(), len(uniq)


def _pairwise_block(Xc, X, xx_c, xx, metric):
    if metric == "manhattan":
        from scipy.spatial.distance import cdist

        return cdist(Xc, X, metric="cityblock")
    D = Xc @ X.T
    D *= -2.0
    D += xx_c[:, None]
    D += xx[None, :]
    np.maximum(D, 0.0, out=D)  # rounding of the expanded form
    return np.sqrt(D, out=D)


def silhouette_samples(X, labels, *, metric="euclidean", working_memory=None):
    """Silhouette coefficient of every point, in bounded memory.

    For point i in cluster A, ``a(i)`` is its mean distance to the other
    points of A and ``b(i)`` the smallest mean distance to the points of
    another cluster; ``s(i) = (b - a) / max(a, b)``, and ``s(i) = 0`` when
    A has one point. The n x n distances are never held at once: they are
    computed in square blocks, and each block times the one-hot label matrix
    adds every row's total distance to every cluster. Distances are
    symmetric, so only blocks on or above the diagonal are computed, and
    each is used twice (as itself and transposed); memory is
    ``O(block^2 + n k)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Cluster labels (any integers or strings), 2 to ``n_samples - 1``
        distinct values.
    metric : {"euclidean", "manhattan"}, default="euclidean"
    working_memory : float, optional
        Bound in MiB on the distance block (default
        ``lib.distances.WORKING_MEMORY_MB``).

    Returns
    -------
    s : ndarray of shape (n_samples,)
        Values in [-1, 1].

    References
    ----------
    P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation and
    validation of cluster analysis", J. Comput. Appl. Math. 20, 1987.
    Taught in "Initialization, failure cases and choosing k".

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [12.0]])
    >>> # point 0: a = 1, b = (10 + 12) / 2 = 11, s = 10 / 11
    >>> silhouette_samples(X, [0, 0, 1, 1]).round(3)
    array([0.909, 0.9  , 0.789, 0.826])
    """
    X = check_array(X)
    n = X.shape[0]
    codes, k = _check_labels(labels, n)
    check_choice(metric, "metric", SILHOUETTE_METRICS)
    mb = check_working_memory(working_memory)
    # Square (rows, rows) blocks; two float64 temporaries of that size live at
    # once, so a row of a block costs 16 * rows bytes.
    rows = max(1, int(np.sqrt(mb * 2**20 / 16)))
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes] = 1.0
    xx = np.einsum("ij,ij->i", X, X)
    sums = np.zeros((n, k))  # sums[i, j]: total distance from point i to cluster j
    blocks = chunks(n, rows)
    for i, rows_i in enumerate(blocks):
        # Distances are symmetric: block (j, i) is block (i, j) transposed.
        for rows_j in blocks[i:]:
            D = _pairwise_block(X[rows_i], X[rows_j], xx[rows_i], xx[rows_j], metric)
            if rows_i == rows_j:
                np.fill_diagonal(D, 0.0)  # exact self-distance
            sums[rows_i] += D @ onehot[rows_j]
            if rows_j != rows_i:
                sums[rows_j] += D.T @ onehot[rows_i]
    counts = np.bincount(codes, minlength=k).astype(float)
    r = np.arange(n)
    own_n = counts[codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[r, codes] / (own_n - 1)
        mean_other = sums / counts
    mean_other[r, codes] = np.inf
    b = mean_other.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    # Singletons get 0 (Rousseeuw); 0/0 (a = b = 0, duplicate points) too.
    s[(own_n == 1) | ~np.isfinite(s)] = 0.0
    return s


def silhouette_score(X, labels, *, metric="euclidean", working_memory=None):
    """Mean silhouette coefficient over all points; see :func:`silhouette_samples`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    metric : {"euclidean", "manhattan"}, default="euclidean"
    working_memory : float, optional

    Returns
    -------
    score : float
        In [-1, 1]; higher means tighter, better separated clusters.

    References
    ----------
    P. J. Rousseeuw, J. Comput. Appl. Math. 20, 1987.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [12.0]])
    >>> round(silhouette_score(X, [0, 0, 1, 1]), 4)
    0.8562
    """
    return float(
        np.mean(
            silhouette_samples(X, labels, metric=metric, working_memory=working_memory)
        )
    )


# ---------------------------------------------------------------- gap statistic


@dataclass
class GapResult:
    """The result of :func:`gap_statistic`.

    Attributes
    ----------
    ks : ndarray of shape (m,)
    gap : ndarray of shape (m,)
        ``mean_b log W*_kb - log W_k``.
    s : ndarray of shape (m,)
        ``sd_k * sqrt(1 + 1/B)``, the simulation error of the reference mean.
    log_w : ndarray of shape (m,)
        ``log W_k`` of the data (W_k is the k-means inertia).
    log_w_ref : ndarray of shape (m,)
        Mean of ``log W*_kb`` over the B reference data sets.
    k : int or None
        The smallest k with ``gap[k] >= gap[k+1] - s[k+1]``, None if none.
    """

    ks: np.ndarray
    gap: np.ndarray
    s: np.ndarray
    log_w: np.ndarray
    log_w_ref: np.ndarray
    k: object


def gap_statistic(X, ks, *, n_refs=10, n_init=1, init="k-means++", seed=None):
    """Tibshirani, Walther and Hastie's gap statistic for choosing k.

    ``W_k`` is the within-cluster sum of squares of ``lib.kmeans(X, k)``.
    ``B = n_refs`` reference data sets of the same shape are drawn uniformly
    over the bounding box of X (the paper's first reference distribution)
    and clustered the same way. Then
    ``Gap(k) = mean_b log W*_kb - log W_k`` and
    ``s_k = sd_b(log W*_kb) * sqrt(1 + 1/B)``, and the chosen k is the
    smallest one with ``Gap(k) >= Gap(k+1) - s_(k+1)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    ks : array-like of int, shape (m,)
        Strictly increasing; consecutive entries are compared, so use
        consecutive integers (e.g. ``range(1, 11)``).
    n_refs : int, default=10
        Number of reference data sets B.
    n_init : int, default=1
        Passed to :func:`lib.kmeans` for the data and every reference set.
    init : str, default="k-means++"
        Passed to :func:`lib.kmeans`.
    seed : None, int or np.random.Generator

    Returns
    -------
    GapResult

    References
    ----------
    R. Tibshirani, G. Walther and T. Hastie, "Estimating the number of
    clusters in a data set via the gap statistic", J. R. Stat. Soc. B 63(2),
    2001. Taught in "Initialization, failure cases and choosing k".

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 0.2, (30, 2)) for c in (0, 4, 8)])
    >>> gap_statistic(X, range(1, 6), n_refs=5, seed=0).k
    3
    """
    from .lloyd import kmeans

    X = check_array(X)
    n = X.shape[0]
    ks_arr = np.asarray(list(ks) if not isinstance(ks, np.ndarray) else ks)
    if (
        ks_arr.ndim != 1
        or len(ks_arr) == 0
        or not np.issubdtype(ks_arr.dtype, np.integer)
    ):
        raise TypeError(
            f"ks must be a non-empty 1-D sequence of integers, got {ks!r}; "
            f"pass e.g. ks=range(1, 11)"
        )
    if not np.all(np.diff(ks_arr) > 0) or ks_arr[0] < 1 or ks_arr[-1] > n:
        raise ValueError(
            f"ks must be strictly increasing integers between 1 and "
            f"n_samples={n}, got {ks_arr.tolist()}; pass e.g. ks=range(1, 11)"
        )
    n_refs = check_int(n_refs, "n_refs", low=2)
    n_init = check_int(n_init, "n_init")
    rng = check_random_state(seed)
    lo, hi = X.min(axis=0), X.max(axis=0)

    def log_w(Y):
        return np.log(
            [
                max(
                    kmeans(Y, int(k), init=init, n_init=n_init, seed=rng).inertia,
                    np.finfo(float).tiny,
                )
                for k in ks_arr
            ]
        )

    lw = log_w(X)
    ref = np.array([log_w(rng.uniform(lo, hi, size=X.shape)) for _ in range(n_refs)])
    lw_ref = ref.mean(axis=0)
    gap = lw_ref - lw
    s = ref.std(axis=0) * np.sqrt(1 + 1 / n_refs)
    ok = np.flatnonzero(gap[:-1] >= gap[1:] - s[1:])
    k = ks_arr[ok[0]].item() if len(ok) else None
    return GapResult(ks_arr, gap, s, lw, lw_ref, k)
