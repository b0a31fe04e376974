"""Mini-batch k-means (Sculley 2010): Lloyd on small random samples.

The chapter "Initialization, failure cases and choosing k" measures its
speed/accuracy trade-off against full Lloyd.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._chunks import check_working_memory, chunks
from ._validation import check_array, check_float, check_int, check_random_state
from .distances import chunk_rows, nearest_centroid, point_costs, sq_norms
from .init import check_distinct, check_init, count_distinct, start_centroids
from .lloyd import History, KMeansResult


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


def relocate_small(C, counts, Xb, ratio, rng):
    """Move the centroids that won too few points onto points of the batch.

    A centroid whose count is below ``ratio`` times the largest count (one
    that won no point at all, above all) is moved onto a point of the batch
    `Xb`, drawn uniformly without replacement, at most half the batch, the
    lowest counts first. Its count becomes the smallest count of the
    centroids that stay, so that its next step neither jumps to one batch's
    mean nor freezes it. `C` and `counts` are updated in place; returns the
    indices of the moved centroids. No checks (internal API).

    Examples
    --------
    >>> C, counts = np.array([[0.0], [50.0], [99.0]]), np.array([40.0, 0.0, 9.0])
    >>> Xb = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> relocate_small(C, counts, Xb, 0.01, np.random.default_rng(0)).tolist()
    [1]
    >>> float(C[1, 0]) in Xb[:, 0], counts.tolist()
    (True, [40.0, 9.0, 9.0])
    """
    small = np.flatnonzero(counts < ratio * counts.max())
    if len(small) > len(Xb) // 2:
        small = small[np.argsort(counts[small], kind="stable")[: len(Xb) // 2]]
    if len(small):
        C[small] = Xb[rng.choice(len(Xb), len(small), replace=False)]
        stay = np.ones(len(counts), dtype=bool)
        stay[small] = False
        counts[small] = counts[stay].min()
    return small


def _mean_variance(X, rows):
    """The mean per-feature variance of X in float64, two passes of `rows` rows.

    Never a temporary the size of X, whatever X's dtype.
    """
    parts = chunks(X.shape[0], rows)
    mean = sum(X[sl].sum(axis=0, dtype=np.float64) for sl in parts) / X.shape[0]
    sq = sum(float(np.sum((X[sl] - mean) ** 2)) for sl in parts)
    return sq / X.size


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
    reassignment_ratio=0.01,
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
        float64, or float32 which is used as it is, never copied whole: each
        batch is converted to float64 on its own, so the arithmetic, and the
        result, are those of ``X.astype(float)``. Other dtypes are converted
        to float64 once.
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
    reassignment_ratio : float, default=0.01
        Relocation of dead centroids, scikit-learn's rule: each time ``10 * k``
        points have been drawn since the last check, and after every step
        while some centroid has never won a point, every centroid whose count
        is below ``reassignment_ratio`` times the largest count moves onto a
        point of the current batch drawn at random (see
        :func:`relocate_small`). 0 turns it off (Sculley's algorithm, where a
        centroid that never wins keeps its initial position); larger values,
        up to 1, relocate more and settle later.
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
    Only the squared Euclidean objective is supported. Memory: besides X and
    the n-long labels returned, a batch, the init subsample (copied to
    float64: all of X when ``init_size = n_samples``) and one distance block
    of at most `working_memory` MiB.

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
    X = check_array(X, keep_float32=True)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    batch_size = min(check_int(batch_size, "batch_size"), n)
    max_iter = check_int(max_iter, "max_iter")
    n_init = check_int(n_init, "n_init")
    tol = check_float(tol, "tol")
    if max_no_improvement is not None:
        max_no_improvement = check_int(max_no_improvement, "max_no_improvement")
    ratio = check_float(reassignment_ratio, "reassignment_ratio")
    if ratio > 1:
        raise ValueError(
            f"reassignment_ratio={ratio} is larger than 1, which would move every "
            f"centroid but the largest; choose 0 <= reassignment_ratio <= 1"
        )
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
    Xi = np.asarray(Xi, dtype=np.float64)
    best_C, best_cost = None, np.inf
    for _ in range(n_init):
        C = start_centroids(Xi, k, init, rng)
        _, cost = nearest_centroid(Xi, C, "sqeuclidean", chunk_rows(k, d), sq_norms(Xi))
        if cost.sum() < best_cost:
            best_C, best_cost = C, cost.sum()
    C = best_C.copy()

    rows = chunk_rows(k, d, "sqeuclidean", working_memory)

    def full_inertia(C):
        labels, _ = nearest_centroid(X, C, "sqeuclidean", rows)
        return point_costs(X, C, labels, "sqeuclidean", rows, total=True)

    hist = History()
    hist.centroids.append(C.copy())
    hist.inertia.append(full_inertia(C) if full_history else n * best_cost / len(Xi))
    counts = np.zeros(k)
    tol_abs = tol * _mean_variance(X, rows) if tol > 0 else 0.0
    seen = 0  # points drawn since the last relocation check
    ewa, ewa_best, no_improve = None, np.inf, 0
    alpha = min(1.0, 2.0 * batch_size / (n + 1))  # scikit-learn's smoothing weight
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        idx = rng.integers(0, n, batch_size)
        C_old = C.copy()
        Xb = np.asarray(X[idx], dtype=np.float64)  # one batch, never all of X
        _, cost = minibatch_step(Xb, C, counts, sq_norms(Xb))
        seen += batch_size
        if ratio > 0 and (seen >= 10 * k or not counts.all()):
            # scikit-learn's schedule: every 10 k points, or at once while a
            # centroid has never won a point.
            relocate_small(C, counts, Xb, ratio, rng)
            seen = 0
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
    labels, _ = nearest_centroid(X, C, "sqeuclidean", rows)
    inertia = point_costs(X, C, labels, "sqeuclidean", rows, total=True)
    return KMeansResult(C, labels, inertia, n_iter, converged, hist)
