"""The assignment step as a compiled loop, for points with few features.

With d = 3 (pixels) the matrix product of :func:`lib.distances._packed_scores`
is cheap; what costs is writing the (rows, k) score block to memory and
reading it back for the argmin. This loop computes the same scores
``||c||^2 - 2 x.c`` one row at a time into a k-long buffer that never leaves
the cache. numba compiles it on first use and caches the machine code beside
this file, so later processes load it in milliseconds.
"""
import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def nearest_few_features(X, C, W, labels, dist):
    """Write each row's nearest centroid into `labels` and its distance into `dist`.

    ``W = [-2 C^T ; ||c||^2]``, shape (d + 1, k), holds the scores' weights;
    ties go to the lowest index, as with ``np.argmin``. The winner's squared
    distance is computed exactly from ``x - c``. The GIL is released, so the
    chunks of a large X run on threads.
    """
    d = X.shape[1]
    k = W.shape[1]
    s = np.empty(k)
    for i in range(X.shape[0]):
        for j in range(k):
            s[j] = W[d, j]
        for t in range(d):
            x = X[i, t]
            for j in range(k):
                s[j] += x * W[t, j]
        best, low = 0, s[0]
        for j in range(1, k):
            if s[j] < low:
                best, low = j, s[j]
        labels[i] = best
        e = 0.0
        for t in range(d):
            diff = X[i, t] - C[best, t]
            e += diff * diff
        dist[i] = e
