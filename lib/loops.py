"""Compiled loops for the hot spots of Lloyd's algorithm and of k-medians.

With d = 3 (pixels) the assignment's matrix product is cheap; what costs is
writing the (rows, k) score block to memory and reading it back for the argmin.
:func:`nearest_few_features` computes the same scores ``||c||^2 - 2 x.c`` for
a block of rows at a time into buffers that never leave the cache.
:func:`cluster_sums` adds every point to its cluster's sum in one pass over X.
For k-medians, :func:`nearest_l1` (and :func:`nearest_l1_rgb`, the same for
three features) finds each row's nearest centroid in L1 without SciPy's
(rows, k) ``cdist`` block, :func:`cluster_medians` takes every cluster's median
without a Python loop over the clusters (:func:`sorted_medians` reads them off
columns sorted once per run), and :func:`closest_l1` is k-means++'s L1 step
without NumPy's (rows, d) temporaries.
numba compiles them on first use and caches the machine code beside this file,
so later processes load it in a fraction of a second; without numba,
``lib.distances``, ``lib.init`` and ``lib.lloyd`` fall back to NumPy and SciPy.
"""

import numba
import numpy as np

#: Rows that :func:`nearest_few_features` scores together (a few KiB of buffers).
FEW_FEATURES_BLOCK = 256


@numba.njit(nogil=True, cache=True)
def nearest_few_features(X, C, W, labels, dist, second):
    """Write each row's nearest centroid into `labels` and its distance into `dist`.

    ``W = [-2 C^T ; ||c||^2]``, shape (d + 1, k), holds the scores' weights;
    ties go to the lowest index, as with ``np.argmin``. The rows go in blocks
    of ``FEW_FEATURES_BLOCK``, centroid by centroid, so that every inner loop
    runs over the block's rows and the CPU's vector instructions score and
    compare several rows at once; each row's score adds the same terms in the
    same order whatever its block. The winner's squared distance is computed
    exactly from ``x - c`` (:func:`own_costs`). If `second` has a slot per
    row, it gets the runner-up's score (``inf`` when k = 1), which Hamerly's
    bounds need. The GIL is released, so the chunks of a large X run on
    threads.
    """
    n, d = X.shape
    k = W.shape[1]
    B = FEW_FEATURES_BLOCK
    XT = np.empty((d, B))  # the block's rows, one feature per row of XT
    score, low, runner_up = np.empty(B), np.empty(B), np.empty(B)
    best = np.empty(B)  # float: the selects below then vectorize with the scores
    for start in range(0, n, B):
        m = min(B, n - start)
        for t in range(d):
            for r in range(m):
                XT[t, r] = X[start + r, t]
        low[:m] = np.inf
        runner_up[:m] = np.inf
        best[:m] = 0.0
        for j in range(k):
            for r in range(m):
                score[r] = W[d, j]
            for t in range(d):
                w = W[t, j]
                for r in range(m):
                    score[r] += XT[t, r] * w
            for r in range(m):  # selects, not branches: the loop vectorizes
                s, lo = score[r], low[r]
                best[r] = j if s < lo else best[r]  # ties keep the lower index
                runner_up[r] = min(runner_up[r], max(s, lo))
                low[r] = min(s, lo)
        for r in range(m):
            labels[start + r] = int(best[r])
            if second.shape[0]:
                second[start + r] = runner_up[r]
        rows = slice(start, start + m)
        own_costs(X[rows], C, labels[rows], dist[rows])


@numba.njit(nogil=True, cache=True)
def cluster_sums(X, labels, k, counts):
    """The (k, d) sums of the rows of X in each cluster, in one pass over X.

    Adds each cluster's number of rows to `counts` (k ints) in the same pass.
    """
    sums = np.zeros((k, X.shape[1]))
    for i in range(X.shape[0]):
        j = labels[i]
        if j < 0 or j >= k:  # numba does not check bounds: never write outside sums
            raise ValueError("a label is outside 0..k-1")
        counts[j] += 1
        for t in range(X.shape[1]):
            sums[j, t] += X[i, t]
    return sums


@numba.njit(nogil=True, cache=True)
def hamerly_doubtful(labels, upper, lower, move, gap, slack, todo):
    """Move Hamerly's bounds by the centroids' shifts, in one pass over the points.

    ``upper[i]`` grows by its centroid's move and ``lower[i]`` shrinks by the
    largest move of any other centroid (clamped at 0); ``gap[j]`` is the
    distance from centroid j to the nearest other one. The indices of the
    points whose bounds, apart by less than `slack` in squared units, cannot
    settle their label go to the front of `todo`; returns how many.
    The NumPy twin is ``lib.bounds.BoundedAssign.doubtful``.
    """
    k = move.shape[0]
    top = 0
    for j in range(1, k):
        if move[j] > move[top]:
            top = j
    runner_up = 0.0
    for j in range(k):
        if j != top and move[j] > runner_up:
            runner_up = move[j]
    count = 0
    for i in range(labels.shape[0]):
        a = labels[i]
        u = upper[i] + move[a]
        upper[i] = u
        low = lower[i] - (runner_up if a == top else move[top])
        if low < 0.0:
            low = 0.0
        lower[i] = low
        if gap[a] - u > low:
            low = gap[a] - u
        if u * u + slack >= low * low:
            todo[count] = i
            count += 1
    return count


@numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _sq_distance(X, i, C, j):
    """``||X[i] - C[j]||^2`` from the differences, summed in any order (SIMD).

    Any order of the d non-negative terms is within about d eps of the exact
    sum, far inside the slack that the bounds leave for rounding.
    """
    e = 0.0
    for t in range(X.shape[1]):
        diff = X[i, t] - C[j, t]
        e += diff * diff
    return e


@numba.njit(nogil=True, cache=True)
def yinyang_filter(
    X,
    C,
    labels,
    upper,
    lower,
    move,
    group_move,
    gap,
    group,
    order,
    starts,
    slack,
    doubt,
):
    """Yinyang's global and group filters, one point at a time; returns the distances.

    ``lower[i, g]`` bounds the distance from point i to every centroid of
    group g but its own; it shrinks by ``group_move[g]``. A point that its
    bounds (or half the gap to its centroid's nearest neighbour) do not settle
    gets its exact distance to its centroid; if still in doubt, it is compared
    with the centroids of the groups whose bound does not clear it, in
    ``order[starts[g]:starts[g + 1]]``. A point whose winner is not ahead of
    every other candidate by more than `slack` (squared units) gets
    ``doubt[i] = True``, for Lloyd's kernel. Returns how many distances were
    computed. The NumPy twin is ``lib.bounds.BoundedAssign.yinyang_chunk``.
    """
    n_groups = starts.shape[0] - 1
    dist = np.empty(C.shape[0])
    search = np.empty(n_groups, dtype=np.bool_)
    computed = 0
    for i in range(X.shape[0]):
        a = labels[i]
        u = upper[i] + move[a]
        upper[i] = u
        low = np.inf
        for g in range(n_groups):
            b = lower[i, g] - group_move[g]
            if b < 0.0:
                b = 0.0
            lower[i, g] = b
            if b < low:
                low = b
        glob = low
        if gap[a] - u > low:
            low = gap[a] - u
        if u * u + slack < low * low:
            continue
        own = _sq_distance(X, i, C, a)
        computed += 1
        u = np.sqrt(own + slack)
        upper[i] = u
        low = max(glob, gap[a] - u)
        if u * u + slack < low * low:
            continue
        best, bestd = a, own
        dist[a] = own
        for g in range(n_groups):
            search[g] = u * u + slack >= lower[i, g] * lower[i, g]
            if not search[g]:
                continue
            for m in range(starts[g], starts[g + 1]):
                j = order[m]
                if j == a:
                    continue
                e = _sq_distance(X, i, C, j)
                computed += 1
                dist[j] = e
                if e < bestd or (e == bestd and j < best):
                    best, bestd = j, e
        # A runner-up within rounding of the winner: Lloyd's kernel decides.
        close = best != a and own <= bestd + slack
        for g in range(n_groups):
            if search[g]:
                for m in range(starts[g], starts[g + 1]):
                    j = order[m]
                    if j != best and dist[j] <= bestd + slack:
                        close = True
        if close:
            doubt[i] = True
            continue
        labels[i] = best
        upper[i] = np.sqrt(bestd + slack)
        for g in range(n_groups):
            near = np.inf
            if search[g]:
                for m in range(starts[g], starts[g + 1]):
                    j = order[m]
                    if j != best and dist[j] < near:
                        near = dist[j]
            elif group[a] == g and best != a:
                near = own  # the point left c_a: its group must bound it too
            if near < np.inf:
                b = np.sqrt(max(near - slack, 0.0))
                lower[i, g] = b if search[g] else min(lower[i, g], b)
            elif search[g]:
                lower[i, g] = np.inf
    return computed


@numba.njit(nogil=True, cache=True)
def own_costs(X, C, labels, costs):
    """``costs[i] = ||X[i] - C[labels[i]]||^2``, exactly, one row at a time."""
    for i in range(X.shape[0]):
        j = labels[i]
        e = 0.0
        for t in range(X.shape[1]):
            diff = X[i, t] - C[j, t]
            e += diff * diff
        costs[i] = e


@numba.njit(nogil=True, cache=True)
def first_min(s):
    """The index and the value of the smallest entry of `s`.

    Ties go to the lowest index, as with ``np.argmin``.
    """
    best, low = 0, s[0]
    for j in range(1, s.shape[0]):
        if s[j] < low:
            best, low = j, s[j]
    return best, low


@numba.njit(nogil=True, cache=True)
def nearest_l1(X, CT, labels, dist):
    """k-medians' assignment: each row's nearest centroid in L1, and that distance.

    ``CT`` is the centroids transposed, shape (d, k), C-contiguous, so that
    the inner loop runs over the centroids and the compiler uses SIMD. Each
    sum ``|x_1 - c_1| + |x_2 - c_2| + ...`` is still added in feature order,
    as SciPy's ``cdist(..., "cityblock")`` adds it, so the distances, and the
    labels, are those of the ``cdist`` blocks to the bit; ties go to the
    lowest index, as with ``np.argmin``. One row at a time into a k-long
    buffer, no (rows, k) block; the GIL is released, so chunks run on threads.
    """
    d, k = CT.shape
    s = np.empty(k)
    for i in range(X.shape[0]):
        x = X[i, 0]
        for j in range(k):
            s[j] = abs(x - CT[0, j])
        for t in range(1, d):
            x = X[i, t]
            for j in range(k):
                s[j] += abs(x - CT[t, j])
        labels[i], dist[i] = first_min(s)


@numba.njit(nogil=True, cache=True)
def nearest_l1_rgb(X, CT, labels, dist):
    """:func:`nearest_l1` written out for three features (pixels: R, G, B).

    Each centroid's three terms are added in one expression, in feature
    order as before, so its sum is stored once instead of once per feature.
    On the colour chapter's photographs it ran 2.2 times as fast as
    :func:`nearest_l1` for k = 3 and 1.1 times for k = 48 (one core), with
    the same labels and distances to the bit.
    """
    k = CT.shape[1]
    c0, c1, c2 = CT[0], CT[1], CT[2]
    s = np.empty(k)
    for i in range(X.shape[0]):
        x0, x1, x2 = X[i, 0], X[i, 1], X[i, 2]
        for j in range(k):
            s[j] = abs(x0 - c0[j]) + abs(x1 - c1[j]) + abs(x2 - c2[j])
        labels[i], dist[i] = first_min(s)


@numba.njit(nogil=True, cache=True)
def closest_l1(X, x, closest):
    """k-means++ in L1: every row's cost to its nearest centre once `x` joins them.

    ``min(closest[i], |X[i, 0] - x[0]| + |X[i, 1] - x[1]| + ...)`` in one pass
    over X, with no (rows, d) temporaries. The terms are added in feature
    order, as NumPy's ``np.abs(X - x).sum(axis=1)`` adds fewer than 8 of
    them, so for d < 8 the costs are NumPy's to the bit.
    """
    n, d = X.shape
    new = np.empty(n)
    for i in range(n):
        e = abs(X[i, 0] - x[0])
        for t in range(1, d):
            e += abs(X[i, t] - x[t])
        new[i] = min(e, closest[i])
    return new


@numba.njit(nogil=True, cache=True)
def cluster_medians(X, labels, k):
    """k-medians' update: the (k, d) coordinate-wise median of each cluster.

    A counting sort groups the rows by label in one pass; each cluster's
    column is then copied and its median taken (the mean of the two middle
    values for an even count, as ``np.median``). An empty cluster gets NaN.
    """
    n, d = X.shape
    counts = np.zeros(k + 1, dtype=np.intp)
    for i in range(n):
        j = labels[i]
        if j < 0 or j >= k:  # numba does not check bounds: never write outside
            raise ValueError("a label is outside 0..k-1")
        counts[j + 1] += 1
    starts = np.cumsum(counts)
    fill = starts[:k].copy()
    order = np.empty(n, dtype=np.intp)
    for i in range(n):
        order[fill[labels[i]]] = i
        fill[labels[i]] += 1
    out = np.full((k, d), np.nan)
    for j in range(k):
        members = order[starts[j] : starts[j + 1]]
        if len(members) == 0:
            continue
        col = np.empty(len(members))
        for t in range(d):
            for m in range(len(members)):
                col[m] = X[members[m], t]
            out[j, t] = np.median(col)
    return out


@numba.njit(nogil=True, cache=True)
def sorted_medians(X, order, labels, k):
    """k-medians' update read off X's sorted columns: the (k, d) medians.

    ``order[t]`` lists the rows of X by increasing ``X[:, t]``
    (``np.argsort(X.T)``), sorted once per run since X does not change.
    Walking it, each cluster's values come in increasing order, so its
    median is read off at its middle rank: one pass per feature and no
    selection, where :func:`cluster_medians` selects anew at every update.
    For an even count it is the mean of the two middle values, as
    ``np.median``; an empty cluster gets NaN.
    """
    n, d = X.shape
    counts = np.zeros(k, dtype=np.intp)
    for i in range(n):
        j = labels[i]
        if j < 0 or j >= k:  # numba does not check bounds: never write outside
            raise ValueError("a label is outside 0..k-1")
        counts[j] += 1
    out = np.full((k, d), np.nan)
    rank = np.empty(k, dtype=np.intp)
    lower = np.empty(k)  # the lower middle value, for an even count
    for t in range(d):
        rank[:] = 0
        for m in range(n):
            i = order[t, m]
            j = labels[i]
            r = rank[j]  # X[i, t] is the r-th smallest value of cluster j
            rank[j] = r + 1
            half = counts[j] // 2
            if r == half - 1:
                lower[j] = X[i, t]
            elif r == half:
                out[j, t] = X[i, t] if counts[j] % 2 else (lower[j] + X[i, t]) / 2
    return out
