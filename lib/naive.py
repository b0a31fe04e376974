"""A slow, readable reference for the assignment step of k-means.

This module exists to be *read* and to be *timed*: it spells out
``argmin_j ||x_i - c_j||^2`` with one Python loop per sample, per centroid and
per feature, exactly as the formula is written. The chapter "The mathematics of
k-means" measures how much faster the vectorized, chunked :func:`lib.assign`
is, and the tests check that the two agree. Never use it for real work: it
costs roughly a microsecond per (sample, centroid, feature) triple.
"""

from __future__ import annotations

from ._validation import check_array, check_choice
from .distances import METRICS


def assign_naive(X, centroids, metric="sqeuclidean", *, return_distances=False):
    """Nearest centroid of every point, by explicit Python loops (reference only).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    centroids : array-like of shape (k, n_features)
    metric : {"sqeuclidean", "manhattan"}, default="sqeuclidean"
    return_distances : bool, default=False
        Also return each point's distance to its centroid.

    Returns
    -------
    labels : list of int, length n_samples
        Ties go to the lowest centroid index (the strict ``<`` below), the
        same rule as :func:`lib.assign`.
    distances : list of float, length n_samples
        Only if `return_distances`.

    Notes
    -----
    Only for teaching and for checking the fast code: the chapter "The
    mathematics of k-means" times it against :func:`lib.assign`.

    References
    ----------
    S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
    28(2), 1982 (the nearest-neighbour condition).

    Examples
    --------
    >>> assign_naive([[0.0, 0.0], [9.0, 9.0], [1.0, 0.0]], [[0.0, 0.0], [10.0, 10.0]])
    [0, 1, 0]
    >>> assign_naive([[1.0]], [[0.0], [2.0]])  # a tie: the lower index wins
    [0]
    """
    X = check_array(X).tolist()  # plain Python floats: no NumPy in the loops
    C = check_array(centroids, "centroids").tolist()
    if len(C[0]) != len(X[0]):
        raise ValueError(
            f"centroids have {len(C[0])} features but X has {len(X[0])}; "
            f"pass centroids of shape (k, {len(X[0])})"
        )
    check_choice(metric, "metric", METRICS)
    squared = metric == "sqeuclidean"
    labels, distances = [], []
    for x in X:
        best_j, best_d = 0, float("inf")
        for j, c in enumerate(C):
            d = 0.0
            for xf, cf in zip(x, c):
                diff = xf - cf
                d += diff * diff if squared else abs(diff)
            if d < best_d:  # strict: an equal distance later on does not win
                best_j, best_d = j, d
        labels.append(best_j)
        distances.append(best_d)
    return (labels, distances) if return_distances else labels


def lloyd_zero_fill(X, centroids, n_iter=50):
    """Lloyd's loop with the naive empty-cluster "fix": an empty centroid becomes 0.

    Kept only as a counter-example for the chapter "Initialization, failure
    cases and choosing k": a centroid set to the zero vector can sit where
    there is no data and stay empty for good, which is why :func:`lib.kmeans`
    moves an empty centroid onto the worst-served point instead.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    centroids : array-like of shape (k, n_features)
        The initial centroids.
    n_iter : int, default=50

    Returns
    -------
    centroids : ndarray of shape (k, n_features)
    labels : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[10.0], [11.0], [20.0]])
    >>> C, labels = lloyd_zero_fill(X, np.array([[10.0], [20.0], [99.0]]))
    >>> C.ravel().tolist(), labels.tolist()
    ([10.5, 20.0, 0.0], [0, 0, 1])
    """

    from .distances import assign

    X = check_array(X)
    C = check_array(centroids, "centroids").copy()
    labels = assign(X, C)
    for _ in range(n_iter):
        for j in range(len(C)):
            members = X[labels == j]
            C[j] = members.mean(axis=0) if len(members) else 0.0
        labels = assign(X, C)
    return C, labels
