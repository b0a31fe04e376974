"""Exact k-means that skips distances: Hamerly's and Elkan's bounds.

After a few iterations of Lloyd's algorithm almost no point changes cluster,
yet Lloyd computes all n * k distances again. The triangle inequality says
when it need not: if a point's centroid moved by ``delta_a`` and every other
centroid by at most ``delta``, its distance to its own centroid grew by at most
``delta_a`` and its distance to any other shrank by at most ``delta``. Keep
an upper bound ``u`` on the first and a lower bound ``l`` on the others; while
``u < l`` the point's label cannot change, and its distances are skipped.

- **Hamerly (2010)** keeps one lower bound per point, for the second-nearest
  centroid: memory of order n.
- **Elkan (2003)** keeps one lower bound per point and centroid: tighter, so
  more is skipped, but (n, k) memory, which must fit the working memory.

Both also use the centroids' distances to one another: a point within half
the distance from its centroid to the nearest other centroid stays.

The result is Lloyd's, not an approximation: a skipped point keeps the label
that Lloyd's assignment would give it, and every point whose bounds leave any
doubt, within the rounding of floating point, is assigned by Lloyd's own
kernel (:func:`lib.distances.nearest_centroid`). So labels, ties (to the
lowest index) and centroids are those of ``algorithm="lloyd"`` from the same
start; ``tests/test_bounds.py`` checks it iteration by iteration. Taught in
the chapter "Making k-means fast".

References
----------
C. Elkan, "Using the triangle inequality to accelerate k-means", ICML 2003.
G. Hamerly, "Making k-means even faster", SIAM SDM 2010.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._chunks import map_chunks
from ._validation import check_choice
from .distances import (
    LOOP_MAX_FEATURES,
    compiled_loop,
    nearest_centroid,
    point_costs,
    scores_chunk,
    sq_norms,
)

ALGORITHMS = ("lloyd", "hamerly", "elkan", "auto")


def elkan_fits(n, k, working_memory):
    """Whether Elkan's (n, k) float64 bounds fit in `working_memory` MiB."""
    return 8 * n * k <= working_memory * 2**20


def choose(n, k, d):
    """What ``algorithm="auto"`` runs on n points, k clusters, d features.

    Hamerly for few features (``d <= LOOP_MAX_FEATURES``), where the compiled
    loop finds each point's runner-up at no extra cost; Lloyd otherwise. The
    rule comes from ``benchmarks/kmeans_peers.py`` (2 cores, 20 updates from
    k-means++, whole calls): Hamerly took 0.86x Lloyd's time on the china.jpg
    pixels (d = 3, k = 48) and 0.67x on a million 2-D points (k = 32), but
    1.16x on MNIST (d = 784, k = 10) and 1.29x on 200,000 unit vectors
    (d = 32, k = 256), whose points never settle. Elkan was never the fastest.
    """
    return "hamerly" if d <= LOOP_MAX_FEATURES else "lloyd"


def check_algorithm(algorithm, metric, n, k, d, working_memory):
    """The algorithm :func:`lib.kmeans` runs: checked, and "auto" resolved."""
    check_choice(algorithm, "algorithm", ALGORITHMS)
    if metric != "sqeuclidean":
        if algorithm in ("hamerly", "elkan"):
            raise ValueError(
                f"algorithm={algorithm!r} needs metric='sqeuclidean' (its bounds "
                f"are Euclidean), got metric={metric!r}; use algorithm='lloyd'"
            )
        return "lloyd"
    if algorithm == "auto":
        algorithm = choose(n, k, d)
    if algorithm == "elkan" and not elkan_fits(n, k, working_memory):
        raise ValueError(
            f"algorithm='elkan' keeps {n:,} x {k} bounds ({8 * n * k / 2**20:,.0f} "
            f"MiB), more than working_memory={working_memory:g} MiB; raise "
            f"working_memory or use algorithm='hamerly' (n bounds)"
        )
    return algorithm


def centroid_distances(C):
    """The (k, k) Euclidean distances between centroids, exact from c - c'.

    A row at a time, so memory is k * (k + d), never a (k, k, d) array.

    Examples
    --------
    >>> centroid_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))
    array([[0., 5.],
           [5., 0.]])
    """
    D = np.empty((len(C), len(C)))
    for j, c in enumerate(C):
        diff = C - c
        D[j] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return D


@dataclass(eq=False)
class BoundedAssign:
    """Lloyd's assignment, ``assign(C) -> (labels, costs)``, that skips distances.

    Plugs into :func:`lib.lloyd.lloyd_loop` in place of
    :func:`lib.distances.nearest_centroid`; it remembers the previous
    centroids and each point's bounds between calls. ``skipped`` records, per
    call, the fraction of the n * k point-centroid distances not computed.
    No checks (internal API: :func:`lib.kmeans` is the checked entry point).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    rows : int
        Chunk length for the distance blocks (:func:`lib.distances.chunk_rows`).
    kind : {"hamerly", "elkan"}
    xx : ndarray of shape (n_samples,), optional
        ``sq_norms(X)``, if the caller has it.
    """

    X: np.ndarray
    rows: int
    kind: str = "hamerly"
    xx: np.ndarray | None = None
    C: np.ndarray | None = field(default=None, init=False, repr=False)
    skipped: list = field(default_factory=list, init=False)

    def __post_init__(self):
        if self.xx is None:
            self.xx = sq_norms(self.X)

    def __call__(self, C):
        n = len(self.X)
        cc = sq_norms(C)
        # Floating point: the expanded scores that rank centroids are off by
        # at most about (d + 2) eps (|x|^2 + |c|^2). A point is skipped only
        # when its bounds are apart by more than that, so no rounding can
        # make Lloyd's kernel choose differently.
        slack = 4 * (self.X.shape[1] + 2) * np.finfo(float).eps
        slack *= float(self.xx.max() + cc.max())
        todo = np.arange(n) if self.C is None else self.doubtful(C, slack)
        self.skipped.append(1.0 - len(todo) / n)
        self.reassign(todo, C, cc, slack)
        self.C = C.copy()
        loop = compiled_loop("own_costs")
        if loop is None:
            costs = point_costs(self.X, C, self.labels, "sqeuclidean", self.rows)
        else:
            costs = np.empty(n)
            map_chunks(
                lambda sl: loop(self.X[sl], C, self.labels[sl], costs[sl]), n, self.rows
            )
        return self.labels.copy(), costs

    def doubtful(self, C, slack):
        """Move the bounds by the centroids' shifts; the points they cannot settle."""
        labels, k = self.labels, len(C)
        move = np.sqrt(np.einsum("ij,ij->i", C - self.C, C - self.C))
        CC = centroid_distances(C)
        np.fill_diagonal(CC, np.inf)
        # d(x, c_j) >= d(c_a, c_j) - d(x, c_a): a point within half the
        # distance to the nearest other centroid stays (both methods).
        gap = CC.min(axis=1)
        loop = compiled_loop("hamerly_doubtful") if self.kind == "hamerly" else None
        if loop is not None:  # the same tests, in one compiled pass
            todo = np.empty(len(labels), dtype=np.intp)
            return todo[: loop(labels, self.upper, self.lower, move, gap, slack, todo)]
        self.upper += move[labels]
        low = np.maximum(gap[labels] - self.upper, 0.0)
        if self.kind == "elkan":
            self.lower -= move
            np.maximum(self.lower, 0.0, out=self.lower)
            self.lower[np.arange(len(labels)), labels] = np.inf
            low = np.maximum(low, self.lower.min(axis=1))
        else:
            # Every other centroid moved by at most the largest move, or by
            # the second largest for the points of the one that moved most.
            top = np.argsort(move)[::-1][:2]
            other = np.full(len(labels), move[top[0]])
            if k > 1:
                other[labels == top[0]] = move[top[1]]
            np.maximum(self.lower - other, 0.0, out=self.lower)
            low = np.maximum(low, self.lower)
        todo = np.flatnonzero(self.upper**2 + slack >= low**2)
        if self.kind == "elkan" and len(todo):
            # Elkan's test per centroid: the better of its own lower bound
            # and d(c_a, c_j) - u must beat u for every other centroid j.
            u = self.upper[todo, None]
            lowj = np.maximum(self.lower[todo], np.maximum(CC[labels[todo]] - u, 0))
            todo = todo[np.any(u**2 + slack >= lowj**2, axis=1)]
        return todo

    def reassign(self, todo, C, cc, slack):
        """Assign the points `todo` with Lloyd's kernel; reset their bounds.

        A chunk of `rows` points at a time, so the gathered rows and the
        distance block stay within the working memory.
        """
        n, k = len(self.X), len(C)
        if self.C is None:
            self.labels = np.empty(n, dtype=np.intp)
            self.upper = np.empty(n)
            self.lower = np.empty((n, k) if self.kind == "elkan" else n)

        everyone = len(todo) == n  # then no copy of X's rows is needed

        def work(sl):
            idx = sl if everyone else todo[sl]
            Xt, xt = self.X[idx], self.xx[idx]
            m = len(xt)
            runner_up = None if self.kind == "elkan" else np.empty(m)
            labels, best = nearest_centroid(
                Xt, C, "sqeuclidean", m, xt, second=runner_up
            )
            self.labels[idx] = labels
            self.upper[idx] = np.sqrt(best + slack)
            if self.kind == "hamerly":
                low = np.maximum(runner_up + xt - slack, 0.0)
                self.lower[idx] = np.sqrt(low)
                return
            # Elkan: a bound per centroid, from the whole distance block.
            D = scores_chunk(Xt, C, "sqeuclidean", cc)
            D += xt[:, None] - slack
            np.maximum(D, 0.0, out=D)
            D[np.arange(len(D)), labels] = np.inf
            self.lower[idx] = np.sqrt(D, out=D)

        map_chunks(work, len(todo), self.rows)
