"""What one Lloyd iteration costs, and the fastest this machine could run it.

A roofline (Williams, Waterman and Patterson, 2009) bounds a kernel's time from
below by the larger of two: its floating-point operations at the machine's
peak rate, and the bytes it must read at the machine's memory bandwidth. For
an iteration of Lloyd's algorithm both counts are exact (:func:`lloyd_flops`,
:func:`lloyd_bytes`); the two rates are measured (:func:`matmul_gflops`,
:func:`read_gbps`) on lib's own threads, the way :func:`lib.kmeans` runs its
blocks. Taught in the chapter "Making k-means fast". Timings are never
asserted in tests (they live in ``benchmarks/`` and, loosely, in the chapter).

References
----------
S. Williams, A. Waterman and D. Patterson, "Roofline: an insightful visual
performance model for multicore architectures", Commun. ACM 52(4), 2009.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from ._chunks import map_chunks, one_thread, workers
from ._validation import check_float, check_int, check_random_state
from .lloyd import kmeans

#: Bytes of one float64, the type every iteration of lib computes in.
ITEMSIZE = 8


def lloyd_flops(n, k, d):
    """Floating-point operations of one Lloyd iteration: ``2nkd + nd``.

    The assignment's products ``x . c``, for every point and centroid, take
    ``2nkd`` (a multiply and an add per feature); the update adds every point
    into its cluster's sum, ``nd``. The lower-order terms (``nk`` score
    additions and comparisons, ``kd`` divisions) are left out: the count is a
    lower bound, and so is the time it gives.

    Examples
    --------
    >>> lloyd_flops(1_000, 10, 784)
    16464000
    """
    n, k, d = (check_int(v, name) for v, name in ((n, "n"), (k, "k"), (d, "d")))
    return 2 * n * k * d + n * d


def lloyd_bytes(n, d, passes=1):
    """Bytes of X that one iteration reads from memory: ``passes * 8nd``.

    Every point takes part in the assignment and in the update, so an exact
    iteration reads X at least once (``passes=1``: a loop that assigns a point
    and adds it to its cluster's sum while it is in cache). lib reads X twice,
    once in :func:`lib.distances.nearest_centroid` and once in
    :func:`lib.lloyd.update_centroids` (``passes=2``). Labels and centroids
    are small next to X and are left out.

    Examples
    --------
    >>> lloyd_bytes(1_000, 784), lloyd_bytes(1_000, 784, passes=2)
    (6272000, 12544000)
    """
    n, d, passes = (
        check_int(v, name) for v, name in ((n, "n"), (d, "d"), (passes, "passes"))
    )
    return passes * ITEMSIZE * n * d


def roofline_seconds(flops, nbytes, gflops, gbps):
    """The least time for `flops` operations and `nbytes` bytes: the slower ceiling.

    `gflops` is the machine's rate in GFLOP/s, `gbps` its bandwidth in GB/s.

    Examples
    --------
    >>> roofline_seconds(4e9, 1e9, gflops=40, gbps=10)  # compute-bound
    0.1
    >>> roofline_seconds(4e9, 2e9, gflops=40, gbps=10)  # memory-bound
    0.2
    """
    flops, nbytes = check_float(flops, "flops"), check_float(nbytes, "nbytes")
    gflops = check_float(gflops, "gflops", low=1e-9)
    gbps = check_float(gbps, "gbps", low=1e-9)
    return max(flops / (gflops * 1e9), nbytes / (gbps * 1e9))


def best_seconds(run, repeat=5):
    """``(seconds, result)``: the fastest of `repeat` calls of ``run()``.

    The minimum, not the mean: on a shared machine the noise only ever adds.
    """
    best, out = np.inf, None
    for _ in range(check_int(repeat, "repeat")):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
    return best, out


@contextmanager
def _cores(parallel):
    """lib's threads, or (``parallel=False``) the calling thread alone."""
    if parallel:
        yield
        return
    from threadpoolctl import threadpool_limits

    # BLAS held to one thread too, as map_chunks holds it on its pool.
    with one_thread(), threadpool_limits(limits=1, user_api="blas"):
        yield


def matmul_gflops(shape=(1024, 256, 256), *, parallel=True, repeat=5, seed=None):
    """The measured float64 matrix-product rate, in GFLOP/s: best of `repeat`.

    Every one of lib's threads multiplies its own ``(m, inner)`` block by one
    ``(inner, cols)`` matrix, ``shape = (m, inner, cols)``, with BLAS held to
    one thread, as :func:`lib.distances.nearest_centroid` runs its blocks.
    ``parallel=False`` runs the same blocks one after the other in the calling
    thread: the rate of one core.
    """
    m, inner, cols = (check_int(v, "every entry of shape") for v in shape)
    blocks = workers()
    rng = check_random_state(seed)  # the values do not matter, only the sizes
    A = rng.standard_normal((blocks * m, inner))
    B = rng.standard_normal((inner, cols))
    out = np.empty((blocks * m, cols))

    def work(sl):
        np.matmul(A[sl], B, out=out[sl])

    with _cores(parallel):
        seconds, _ = best_seconds(lambda: map_chunks(work, len(A), m), repeat)
    return 2 * A.shape[0] * inner * cols / seconds / 1e9


def read_gbps(mib=256, *, parallel=True, repeat=5):
    """The measured memory bandwidth for reading, in GB/s: best of `repeat`.

    Sums an array of `mib` MiB, far larger than any cache, in blocks of
    ``4`` MiB on lib's threads (each block's sum into its own slot); an
    iteration of k-means reads X the same way. ``parallel=False``: one core.
    """
    mib = check_float(mib, "mib", low=1.0)
    block = 2**19  # float64s in 4 MiB
    x = np.ones(max(1, int(mib * 2**20 // ITEMSIZE)))
    sums = np.empty(-(-len(x) // block))

    def work(sl):
        sums[sl.start // block] = x[sl].sum()

    with _cores(parallel):
        seconds, _ = best_seconds(lambda: map_chunks(work, len(x), block), repeat)
    return x.nbytes / seconds / 1e9


def seconds_per_iteration(X, k, init, n_iter, repeat=3):
    """``(seconds, n_iter)``: :func:`lib.kmeans`'s best whole call over its updates.

    Runs ``kmeans(X, k, init=init, max_iter=n_iter, tol=0)``, so every call
    makes the same updates (fewer only if the labels settle first: the second
    value says how many). The call's fixed costs (checks, the first
    assignment, the final objective) are shared out over its updates, so the
    time per iteration is, if anything, overstated.
    """
    n_iter = check_int(n_iter, "n_iter")
    seconds, res = best_seconds(
        lambda: kmeans(X, k, init=init, max_iter=n_iter, tol=0), repeat
    )
    return seconds / res.n_iter, res.n_iter
