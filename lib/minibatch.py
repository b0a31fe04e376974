"""Mini-batch k-means (Sculley 2010): Lloyd on small random samples.

The chapter "Initialization, failure cases and choosing k" measures its
speed/accuracy trade-off against full Lloyd.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._chunks import check_working_memory
from ._validation import check_array, check_float, check_int, check_random_state
from .distances import chunk_rows, nearest_centroid, point_costs, sq_norms
from .init import check_distinct, check_init, count_distinct, start_centroids
from .lloyd import History, KMeansResult, tolerance


def minibatch_step(Xb, C, counts, xxb):
    """One Sculley update, in place; returns the batch's labels and costs.

    Feeding the batch point by point with learning rate ``1 / counts[c]``
    makes each centroid the running mean of every point it has ever been
    given; adding the batch's per-cluster sums in one go is the same update.

    Parameters
    ----------
    Xb : ndarray of shape (batch_size, n_features), float64
    C : ndarray of shape (k, n_features)
        Updated in place.
    counts : ndarray of shape (k,)
        Points each centroid has been given so far; updated in place.
    xxb : ndarray of shape (batch_size,)
        ``sq_norms(Xb)``.

    Returns
    -------
    labels, costs : ndarray of shape (batch_size,)
        The batch's assignment to the centroids before the update.

    Notes
    -----
    The step of :func:`minibatch_kmeans`, without its checks. From zero
    counts it is one Lloyd update (an exercise of the chapter "Initialization,
    failure cases and choosing k" checks that).

    Examples
    --------
    >>> Xb = np.array([[0.0], [2.0], [10.0]])
    >>> C, counts = np.array([[1.0], [9.0]]), np.array([1.0, 0.0])
    >>> minibatch_step(Xb, C, counts, Xb[:, 0] ** 2)[0]
    array([0, 0, 1])
    >>> C.ravel().tolist(), counts.tolist()
    ([1.0, 10.0], [3.0, 1.0])
    """
    k = C.shape[0]
    labels, cost = nearest_centroid(Xb, C, "sqeuclidean", Xb.shape[0], xxb)
    m = np.bincount(labels, minlength=k).astype(float)
    b = Xb.shape[0]
    # A sparse (k, b) indicator times the batch sums each cluster in O(b d).
    sums = np.asarray(
        sp.csr_matrix((np.ones(b), (labels, np.arange(b))), shape=(k, b)) @ Xb
    )
    hit = m > 0
    new_counts = counts[hit] + m[hit]
    # c <- (1 - eta) c + eta * mean_batch, with eta = m_c / (v_c + m_c).
    C[hit] = (counts[hit, None] * C[hit] + sums[hit]) / new_counts[:, None]
    counts[hit] = new_counts
    return labels, cost


def minibatch_kmeans(
    X,
    k,
    *,
    batch_size=1024,
    max_iter=100,
    init="k-means++",
    n_init=1,
    init_size=None,
    tol=0.0,
    max_no_improvement=10,
    full_history=False,
    callback=None,
    seed=None,
    working_memory=None,
):
    """Cluster `X` into `k` groups with mini-batch k-means (Sculley 2010).

    Each step draws `batch_size` points uniformly with replacement, assigns
    them to the nearest centroid, and moves each centroid ``c`` towards the
    mean of its batch points with the per-centroid learning rate
    ``eta_c = m_c / v_c``, where ``m_c`` is the number of batch points it got
    and ``v_c`` the number it has been given in all steps so far. Each
    centroid is therefore the running mean of all points ever assigned to it,
    and its steps shrink as it settles.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
        Number of clusters, ``1 <= k <=`` the number of distinct points.
    batch_size : int, default=1024
        Points per step (Sculley's ``b``), capped at ``n_samples`` as in
        scikit-learn: a larger batch would only repeat points (and memory).
    max_iter : int, default=100
        Maximum number of mini-batch steps (not epochs).
    init : {"k-means++", "greedy-k-means++", "random", "sample"} or ndarray
        An array has shape (k, n_features).
        Computed on a random subsample of `init_size` points, as in
        scikit-learn, so that initialization does not cost a pass over X.
    n_init : int, default=1
        Number of initializations tried; the one with the lowest objective
        on the init subsample is used.
    init_size : int, optional
        Default ``max(3 * batch_size, 3 * k)``, capped at ``n_samples``.
    tol : float, default=0.0
        Stop when the squared centroid shift of one step is at most ``tol``
        times the mean per-feature variance of X (0 disables this rule).
    max_no_improvement : int or None, default=10
        Stop when the smoothed batch objective (an exponentially weighted
        average of the per-point batch cost) has not improved for this many
        steps; None disables this rule.
    full_history : bool, default=False
        If True, ``history.inertia[t]`` is the exact objective on all of X
        after step `t` (one full assignment per step: for teaching on small
        data). If False it is the estimate ``n_samples * mean batch cost``
        measured on step `t`'s batch before its update (``t = 0``: on the
        init subsample).
    callback : callable, optional
        ``callback(t, centroids)`` after every step ``t = 1, 2, ...``; used to
        time the steps. It must not modify ``centroids``.
    seed : None, int or np.random.Generator
    working_memory : float, optional
        Bound in MiB on the distance blocks of the final full assignment.

    Returns
    -------
    KMeansResult
        The same object as :func:`lib.kmeans`: ``labels`` and ``inertia`` come
        from one final exact assignment of all of X to the returned
        centroids; ``converged`` says whether a stopping rule fired before
        `max_iter`; ``history.centroids`` has ``n_iter + 1`` entries.

    Notes
    -----
    Only the squared Euclidean objective is supported. A centroid that never
    wins a batch point keeps its initial position (Sculley's algorithm has no
    relocation rule); k-means++ on the init subsample makes this rare.

    References
    ----------
    D. Sculley, "Web-scale k-means clustering", WWW 2010.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.1, (200, 2)), rng.normal(5, 0.1, (200, 2))])
    >>> res = minibatch_kmeans(X, 2, batch_size=32, max_iter=50, seed=0)
    >>> [int(round(c)) for c in np.sort(res.centroids[:, 0])]
    [0, 5]
    >>> len(res.history.centroids) == res.n_iter + 1
    True
    """
    X = check_array(X)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    batch_size = min(check_int(batch_size, "batch_size"), n)
    max_iter = check_int(max_iter, "max_iter")
    n_init = check_int(n_init, "n_init")
    tol = check_float(tol, "tol")
    if max_no_improvement is not None:
        max_no_improvement = check_int(max_no_improvement, "max_no_improvement")
    if init_size is None:
        init_size = min(n, max(3 * batch_size, 3 * k))
    else:
        init_size = check_int(
            init_size,
            "init_size",
            low=k,
            high=n,
            high_reason=f"the number of samples ({n})",
        )
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be callable, got {callback!r}; "
            f"pass a function callback(t, centroids) or None"
        )
    working_memory = check_working_memory(working_memory)
    rng = check_random_state(seed)
    init = check_init(init, k, d)
    check_distinct(X, k)

    # Initialize on a subsample; fall back to all of X when the subsample
    # happens to hold fewer than k distinct points.
    Xi = X[rng.choice(n, init_size, replace=False)] if init_size < n else X
    if count_distinct(Xi, at_least=k) < k:
        Xi = X
    best_C, best_cost = None, np.inf
    for _ in range(n_init):
        C = start_centroids(Xi, k, init, rng)
        _, cost = nearest_centroid(Xi, C, "sqeuclidean", chunk_rows(k, d), sq_norms(Xi))
        if cost.sum() < best_cost:
            best_C, best_cost = C, cost.sum()
    C = best_C.copy()

    rows = chunk_rows(k, d, "sqeuclidean", working_memory)
    xx = sq_norms(X)

    def full_inertia(C):
        labels, _ = nearest_centroid(X, C, "sqeuclidean", rows, xx)
        return point_costs(X, C, labels, "sqeuclidean", total=True)

    hist = History()
    hist.centroids.append(C.copy())
    hist.inertia.append(full_inertia(C) if full_history else n * best_cost / len(Xi))
    counts = np.zeros(k)
    tol_abs = tolerance(X, tol)
    ewa, ewa_best, no_improve = None, np.inf, 0
    alpha = min(1.0, 2.0 * batch_size / (n + 1))  # scikit-learn's smoothing weight
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        idx = rng.integers(0, n, batch_size)
        C_old = C.copy()
        _, cost = minibatch_step(X[idx], C, counts, xx[idx])
        batch_mean = float(cost.mean())
        hist.centroids.append(C.copy())
        hist.inertia.append(full_inertia(C) if full_history else n * batch_mean)
        if callback is not None:
            callback(n_iter, C)
        if tol_abs > 0 and np.sum((C - C_old) ** 2) <= tol_abs:
            converged = True
            break
        ewa = batch_mean if ewa is None else (1 - alpha) * ewa + alpha * batch_mean
        if ewa < ewa_best:
            ewa_best, no_improve = ewa, 0
        else:
            no_improve += 1
        if max_no_improvement is not None and no_improve >= max_no_improvement:
            converged = True
            break
    labels, _ = nearest_centroid(X, C, "sqeuclidean", rows, xx)
    inertia = point_costs(X, C, labels, "sqeuclidean", total=True)
    return KMeansResult(C, labels, inertia, n_iter, converged, hist)
