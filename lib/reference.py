"""Slow, readable reference implementations of k-means, to be read and to be timed.

Nothing here is for real work. :func:`lloyd` is Lloyd's algorithm in a dozen
lines of plain NumPy, the version the chapter "K-means from scratch" teaches
with; the tests check that :func:`lib.kmeans` gives the same labels and
centroids from the same start. :func:`assign_naive` spells out
``argmin_j ||x_i - c_j||^2`` with one Python loop per sample, per centroid and
per feature, exactly as the formula is written; the chapter "The mathematics of
k-means" times it against the vectorized, chunked :func:`lib.assign`.
:func:`lloyd_zero_fill` is a counter-example: the empty-cluster "fix" that
does not work.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_choice
from .distances import METRICS, assign


def lloyd(X, centroids, max_iter=300):
    """Lloyd's algorithm in plain NumPy, the readable twin of :func:`lib.kmeans`.

    Assign every point to its nearest centroid, move every centroid to the mean
    of its points, and stop when the labels repeat. The whole (n, k, d) array
    of differences is built at once, so memory grows with ``n * k * d``; that
    is what :func:`lib.kmeans` avoids, with the same results.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    centroids : array-like of shape (k, n_features)
        The initial centroids; ``k <= n_samples``.
    max_iter : int, default=300
        At most this many updates.

    Returns
    -------
    centroids : ndarray of shape (k, n_features)
    labels : ndarray of shape (n_samples,)
        Each point's nearest centroid in `centroids`; ties go to the lowest
        index, as with ``np.argmin``.

    Notes
    -----
    Taught in the chapter "K-means from scratch". An empty cluster takes the
    point worst served by its centroid among the clusters with at least two
    members (the rule of :func:`lib.kmeans`), so no mean is ever 0/0. Only `X`
    and `centroids` are checked; :func:`lib.kmeans` is the validated version.

    References
    ----------
    S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
    28(2), 1982.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [5.0], [6.0]])
    >>> C, labels = lloyd(X, [[0.0], [1.0]])
    >>> C.ravel().tolist(), labels.tolist()
    ([0.5, 5.5], [0, 0, 1, 1])

    A centroid far from the data is empty at once and takes the point worst
    served by its centroid (6.0); later the tie between 1.0 and 5.0 goes to the
    lower index:

    >>> C, labels = lloyd(X, [[0.0], [1.0], [99.0]])
    >>> C.ravel().tolist(), labels.tolist()
    ([0.0, 1.0, 5.5], [0, 1, 2, 2])
    """
    X = check_array(X)
    C = check_array(centroids, "centroids")
    k = len(C)
    D = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)  # shape (n, k)
    labels = D.argmin(axis=1)  # ties go to the lowest index
    for _ in range(max_iter):
        cost = D[np.arange(len(X)), labels]  # to the point's own centroid
        for j in range(k):
            if not np.any(labels == j):  # empty: take the worst-served point
                sizes = np.bincount(labels, minlength=k)
                labels[np.argmax(np.where(sizes[labels] > 1, cost, -1.0))] = j
        C = np.array([X[labels == j].mean(axis=0) for j in range(k)])
        D = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        new_labels = D.argmin(axis=1)
        repeated = np.array_equal(new_labels, labels)
        labels = new_labels
        if repeated:  # a fixed point: one more step would change nothing
            break
    return C, labels


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
    X = check_array(X)
    C = check_array(centroids, "centroids").copy()
    labels = assign(X, C)
    for _ in range(n_iter):
        for j in range(len(C)):
            members = X[labels == j]
            C[j] = members.mean(axis=0) if len(members) else 0.0
        labels = assign(X, C)
    return C, labels
