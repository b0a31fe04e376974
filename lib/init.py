"""Initial centroids for k-means: Gaussian, sampled points and k-means++.

Compared side by side in the chapter "Initialization, failure cases and
choosing k".
"""

from __future__ import annotations

import numpy as np

from ._chunks import chunks
from ._validation import check_array, check_choice, check_int, check_random_state
from .distances import METRICS, chunk_rows, compiled_loop, point_costs

INITS = ("k-means++", "greedy-k-means++", "random", "sample", "k-means||")


def count_distinct(X, at_least=None):
    """Number of distinct rows of X, stopping early once `at_least` are seen.

    Looks at a growing prefix of the rows (4k, 16k, ... rows), so the usual
    case costs almost nothing and only data with many duplicates is scanned
    in full.
    """
    n = X.shape[0]
    stop = n if at_least is None else min(n, 4 * at_least)
    while True:
        found = len(np.unique(X[:stop], axis=0))
        if stop == n or (at_least is not None and found >= at_least):
            return found
        stop = min(n, 4 * stop)


def check_init(init, k, n_features, methods=INITS):
    """`init` checked once: a method name among `methods`, or a (k, d) array.

    A name comes back as it is; an array as a float64 copy. What it returns is
    what :func:`start_centroids` takes.
    """
    if isinstance(init, str):
        return check_choice(init, "init", methods)
    C = check_array(init, "init")
    if C.shape != (k, n_features):
        raise ValueError(
            f"init has shape {C.shape} but k={k} and X has {n_features} features; "
            f"pass an init array of shape ({k}, {n_features})"
        )
    return C.copy()


def check_distinct(X, k, noun="points"):
    """Raise unless X has at least k distinct rows: k centroids need k places to sit."""
    distinct = count_distinct(X, at_least=k)
    if distinct < k:
        raise ValueError(
            f"X has only {distinct} distinct {noun}, fewer than k={k}; "
            f"choose k <= {distinct}"
        )


def _random_gaussian(X, k, rng):
    # Per-feature mean and std, as a histogram of the data would suggest.
    return X.mean(axis=0) + X.std(axis=0) * rng.standard_normal((k, X.shape[1]))


def _sample_distinct(X, k, rng):
    """k distinct rows of X, in random order (duplicate rows are skipped).

    Walks a random permutation in blocks that double in size, so data with
    few duplicates costs one small ``np.unique`` and an image with large flat
    areas still finds its k distinct colours.
    """
    order = rng.permutation(X.shape[0])
    chosen = np.empty((0, X.shape[1]))
    start, block = 0, 2 * k
    while start < len(order):
        rows = X[order[start : start + block]]
        both = np.vstack([chosen, rows])
        _, first = np.unique(both, axis=0, return_index=True)
        chosen = both[np.sort(first)]  # first occurrences, in draw order
        if len(chosen) >= k:
            return chosen[:k].copy()
        start, block = start + block, 2 * block
    raise ValueError(
        f"X has only {len(chosen)} distinct points, fewer than k={k}; "
        f"choose k <= {len(chosen)}"
    )


def _closest_with(X, x, closest, metric, rows):
    """Each point's cost to its nearest centre once `x` joins the centres.

    ``min(closest, cost to x)``: the squared distance, or the L1 distance
    for ``"manhattan"``, computed `rows` rows at a time. In L1 with fewer
    than 8 features, numba's :func:`lib.loops.closest_l1` does it in one pass
    with the same costs to the bit (NumPy adds fewer than 8 terms in order).
    """
    if metric == "manhattan" and X.shape[1] < 8:
        loop = compiled_loop("closest_l1")
        if loop is not None:
            return loop(X, x, closest)
    new = np.empty(X.shape[0])
    for sl in chunks(X.shape[0], rows):
        diff = X[sl] - x
        new[sl] = (
            np.abs(diff).sum(1)
            if metric == "manhattan"
            else np.einsum("ij,ij->i", diff, diff)
        )
    np.minimum(new, closest, out=new)
    return new


def kmeans_plusplus(X, k, rng, n_local_trials, metric, weights=None):
    """D^2 sampling (Arthur & Vassilvitskii 2007), optionally greedy.

    Each step draws `n_local_trials` candidates with probability proportional
    to their cost to the nearest centre chosen so far and keeps the one that
    lowers the total cost most; one trial is plain k-means++. With `weights`
    (n,), a row stands for that many points: probabilities and costs are
    weighted (the last step of k-means||, :mod:`lib.scale`). X is valid
    float64 and `rng` a Generator (no checks: :func:`init_centroids` is the
    checked entry point).

    Returns
    -------
    centers : ndarray of shape (k, n_features)

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> C = kmeans_plusplus(X, 2, np.random.default_rng(0), 1, "sqeuclidean")
    >>> sorted(int(c > 5) for c in C[:, 0])
    [0, 1]
    """
    n = X.shape[0]
    rows = chunk_rows(n_local_trials, X.shape[1], metric)
    centers = np.empty((k, X.shape[1]))
    w = np.ones(n) if weights is None else weights
    centers[0] = X[rng.integers(n) if weights is None else rng.choice(n, p=w / w.sum())]
    closest = point_costs(X, centers[:1], np.zeros(n, dtype=np.intp), metric)
    for c in range(1, k):
        wc = closest if weights is None else w * closest
        total = wc.sum()
        if total <= 0:
            # Every squared distance is 0: either no new point exists, or the
            # differences underflow float64 (below ~1e-154); draw uniformly
            # among the points that differ from every chosen centre.
            fresh = np.flatnonzero(~(X[:, None, :] == centers[None, :c]).all(-1).any(1))
            if len(fresh) == 0:
                raise ValueError(
                    f"X has only {c} distinct points, fewer than k={k}; choose k <= {c}"
                )
            centers[c] = X[rng.choice(fresh)]
            continue
        # Sample candidates with probability proportional to D(x)^2 (the
        # squared distance; for metric="manhattan" the L1 distance plays D^2's part).
        u = rng.random(n_local_trials) * total
        cand = np.searchsorted(np.cumsum(wc), u, side="right")
        cand = np.minimum(cand, n - 1)
        best_cost, best = np.inf, None
        for j in cand:
            # Greedy: keep the candidate that lowers the potential most.
            new = _closest_with(X, X[j], closest, metric, rows)
            cost = new.sum() if weights is None else new @ w
            if cost < best_cost:
                best_cost, best, best_closest = cost, j, new
        centers[c] = X[best]
        closest = best_closest
    return centers


def init_centroids(
    X, k, init="k-means++", *, metric="sqeuclidean", seed=None, n_local_trials=None
):
    """Initial centroids for k-means.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
        Number of clusters (centroids).
    init : {"k-means++", "greedy-k-means++", "random", "sample", "k-means||"}
        Default "k-means++".
        ``"random"``: Gaussian draws with the data's per-feature mean and std;
        ``"sample"``: k distinct data points chosen uniformly;
        ``"k-means++"``: D² sampling (Arthur & Vassilvitskii 2007);
        ``"greedy-k-means++"``: k-means++ where each step draws
        ``n_local_trials`` candidates and keeps the one that lowers the
        potential most; ``"k-means||"``: Bahmani et al.'s scalable k-means++
        (:func:`lib.scale.kmeans_parallel`, with its defaults).
    metric : {"sqeuclidean", "manhattan"}, default="sqeuclidean"
    seed : None, int or np.random.Generator
    n_local_trials : int, optional
        For ``"greedy-k-means++"``; default ``2 + floor(log k)``, the number
        Arthur and Vassilvitskii tried and scikit-learn uses.

    Returns
    -------
    centroids : ndarray of shape (k, n_features)

    References
    ----------
    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> C = init_centroids(X, 2, "k-means++", seed=0)
    >>> C.shape
    (2, 1)
    """
    X = check_array(X)
    k = check_int(
        k, "k", high=X.shape[0], high_reason=f"the number of samples ({X.shape[0]})"
    )
    check_choice(init, "init", INITS)
    check_choice(metric, "metric", METRICS)
    if n_local_trials is not None:
        n_local_trials = check_int(n_local_trials, "n_local_trials")
    rng = check_random_state(seed)
    return start_centroids(X, k, init, rng, metric, n_local_trials)


def start_centroids(X, k, init, rng, metric="sqeuclidean", n_local_trials=None):
    """The centroids one run starts from, for every k-means variant.

    `init` is what :func:`check_init` returned: an array is copied, so a run
    never modifies it; a method name is carried out on X (see
    :func:`init_centroids`) with the Generator `rng`. No checks: the variants
    validate at their boundary.

    Returns
    -------
    centroids : ndarray of shape (k, n_features)

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> start_centroids(X, 2, np.array([[1.0], [2.0]]), None).tolist()
    [[1.0], [2.0]]
    >>> start_centroids(X, 2, "sample", np.random.default_rng(0)).shape
    (2, 1)
    """
    if not isinstance(init, str):
        return init.copy()
    if init == "random":
        return _random_gaussian(X, k, rng)
    if init == "sample":
        return _sample_distinct(X, k, rng)
    if init == "k-means||":
        from .scale import kmeans_parallel  # lib.scale imports this module

        return kmeans_parallel(X, k, seed=rng, metric=metric)
    if init == "greedy-k-means++":
        trials = 2 + int(np.log(k)) if n_local_trials is None else n_local_trials
    else:
        trials = 1
    return kmeans_plusplus(X, k, rng, trials, metric)
