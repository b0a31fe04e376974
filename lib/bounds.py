"""Exact k-means that skips distances: Hamerly's, Elkan's and Yinyang's bounds.

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
- **Yinyang (Ding et al. 2015)** sits between them: the centroids are split
  into t ~ k / 10 groups, and each point keeps one lower bound per group, an
  (n, t) array. A point whose bounds leave a doubt is not compared with every
  centroid but only with those of the groups whose bound does not clear it,
  which pays for many clusters.

All three also use the centroids' distances to one another: a point within
half the distance from its centroid to the nearest other centroid stays.

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
Y. Ding, Y. Zhao, X. Shen, M. Musuvathi and T. Mytkowicz, "Yinyang K-means:
a drop-in replacement of the classic K-means with consistent speedup",
ICML 2015.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._chunks import chunks, map_chunks
from ._validation import check_choice
from .distances import (
    compiled_loop,
    nearest_centroid,
    point_costs,
    scores_chunk,
    sq_norms,
)

ALGORITHMS = ("lloyd", "hamerly", "elkan", "yinyang", "auto")


def elkan_fits(n, k, working_memory):
    """Whether Elkan's (n, k) float64 bounds fit in `working_memory` MiB."""
    return 8 * n * k <= working_memory * 2**20


def n_groups(k):
    """Yinyang's number of centroid groups for k clusters: k / 10, at least 1.

    Ding et al. use t = k / 10 in their experiments: enough groups for the
    group filter to rule most centroids out, few enough that the (n, t)
    bounds cost a tenth of Elkan's.

    Examples
    --------
    >>> n_groups(256), n_groups(48), n_groups(8)
    (25, 4, 1)
    """
    return max(1, k // 10)


def yinyang_fits(n, k, working_memory):
    """Whether Yinyang's (n, t) float64 group bounds fit in `working_memory` MiB."""
    return 8 * n * n_groups(k) <= working_memory * 2**20


def centroid_groups(C, t):
    """Yinyang's groups: which of at most `t` groups each centroid is in, shape (k,).

    As in the paper, the groups are a k-means of the initial centroids, five
    Lloyd iterations (the paper's number); here from k-means++ with ``seed=0``,
    so the same centroids always give the same groups. The groups are
    numbered 0, 1, ... without gaps (fewer than `t` if the centroids have
    fewer distinct rows). Any grouping gives the same labels, only the
    number of distances skipped depends on it.

    Examples
    --------
    >>> C = np.array([[0.0], [0.1], [5.0], [5.2]])
    >>> centroid_groups(C, 2).tolist() in ([0, 0, 1, 1], [1, 1, 0, 0])
    True
    """
    from .lloyd import kmeans  # lib.lloyd imports this module

    t = min(t, len(np.unique(C, axis=0)))
    if t <= 1:
        return np.zeros(len(C), dtype=np.intp)
    labels = kmeans(C, t, init="k-means++", max_iter=5, tol=0.0, seed=0).labels
    return np.unique(labels, return_inverse=True)[1].astype(np.intp)


def choose(n, k, d):
    """What ``algorithm="auto"`` runs on n points, k clusters, d features: Lloyd.

    No bounds won a measured workload once Lloyd's loop for few features
    scored blocks of rows with vector instructions (``benchmarks/
    kmeans_peers.py``, 2 idle cores, whole calls from k-means++, README). Over
    20 updates Hamerly took 1.14x Lloyd's time on the china.jpg pixels
    (d = 3, k = 48), 1.22x on a million 2-D points (k = 32), 1.17x on MNIST
    (d = 784, k = 10) and 1.40x on 200,000 unit vectors (d = 32, k = 256);
    Yinyang 1.17x to 2.66x; Elkan far more. To convergence Hamerly tied on
    the pixels (1.01x, 57 updates) and MNIST (1.00x) and lost on the blobs
    (1.27x); Yinyang was 0.94x on MNIST, within the noise. Before that loop,
    Hamerly was the rule for d <= 8 (0.86x on the pixels, 0.67x on the
    blobs). The unit vectors to convergence (300 updates) were not measured
    again: in an older run on a loaded machine Hamerly took 0.69x Lloyd's time
    there, where bounds may still pay. The arguments stay for a rule that
    needs them.
    """
    return "lloyd"


def check_algorithm(algorithm, metric, n, k, d, working_memory):
    """The algorithm :func:`lib.kmeans` runs: checked, and "auto" resolved."""
    check_choice(algorithm, "algorithm", ALGORITHMS)
    if metric != "sqeuclidean":
        if algorithm in ("hamerly", "elkan", "yinyang"):
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
    if algorithm == "yinyang" and not yinyang_fits(n, k, working_memory):
        t = n_groups(k)
        raise ValueError(
            f"algorithm='yinyang' keeps {n:,} x {t} group bounds "
            f"({8 * n * t / 2**20:,.0f} MiB), more than working_memory="
            f"{working_memory:g} MiB; raise working_memory or use "
            f"algorithm='hamerly' (n bounds)"
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
    call, the fraction of the n * k point-centroid distances not computed
    (Yinyang's filters compute some distances themselves: they count too).
    No checks (internal API: :func:`lib.kmeans` is the checked entry point).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    rows : int
        Chunk length for the distance blocks (:func:`lib.distances.chunk_rows`).
    kind : {"hamerly", "elkan", "yinyang"}
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
        self.computed = 0  # distances computed by the filters (Yinyang's)
        todo = np.arange(n) if self.C is None else self.doubtful(C, slack)
        self.skipped.append(1.0 - (len(todo) + self.computed / len(C)) / n)
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
        # distance to the nearest other centroid stays (every kind).
        gap = CC.min(axis=1)
        if self.kind == "yinyang":
            return self.yinyang(C, move, gap, slack)
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
            if self.kind == "yinyang":
                self.group = centroid_groups(C, n_groups(k))
                self.order = np.argsort(self.group, kind="stable")
                t = self.group.max() + 1
                self.starts = np.searchsorted(self.group[self.order], np.arange(t + 1))
                self.lower = np.empty((n, t))

        everyone = len(todo) == n  # then no copy of X's rows is needed

        def work(sl):
            idx = sl if everyone else todo[sl]
            Xt, xt = self.X[idx], self.xx[idx]
            m = len(xt)
            runner_up = np.empty(m) if self.kind == "hamerly" else None
            labels, best = nearest_centroid(
                Xt, C, "sqeuclidean", m, xt, second=runner_up
            )
            self.labels[idx] = labels
            self.upper[idx] = np.sqrt(best + slack)
            if self.kind == "hamerly":
                low = np.maximum(runner_up + xt - slack, 0.0)
                self.lower[idx] = np.sqrt(low)
                return
            # Elkan: a bound per centroid, from the whole distance block;
            # Yinyang: per group, the least of its centroids' bounds.
            D = scores_chunk(Xt, C, "sqeuclidean", cc)
            D += xt[:, None] - slack
            np.maximum(D, 0.0, out=D)
            D[np.arange(len(D)), labels] = np.inf
            np.sqrt(D, out=D)
            if self.kind == "elkan":
                self.lower[idx] = D
            else:
                self.lower[idx] = np.minimum.reduceat(
                    D[:, self.order], self.starts[:-1], axis=1
                )

        map_chunks(work, len(todo), self.rows)

    def yinyang(self, C, move, gap, slack):
        """Yinyang's filters, a chunk of points at a time; the points left in doubt.

        Each group bound shrinks by its group's largest move. The compiled
        loop ``lib.loops.yinyang_filter`` runs the same tests as
        :meth:`yinyang_chunk`; the points they return go to Lloyd's kernel.
        """
        n = len(self.X)
        group_move = np.maximum.reduceat(move[self.order], self.starts[:-1])
        doubt = np.zeros(n, dtype=bool)
        counts = np.zeros(len(chunks(n, self.rows)), dtype=np.int64)
        loop = compiled_loop("yinyang_filter")
        cc = sq_norms(C)

        def work(sl):
            if loop is None:
                computed, left = self.yinyang_chunk(
                    sl, C, cc, move, group_move, gap, slack
                )
                doubt[sl][left] = True
                counts[sl.start // self.rows] = computed
                return
            counts[sl.start // self.rows] = loop(
                self.X[sl], C, self.labels[sl], self.upper[sl], self.lower[sl],
                move, group_move, gap, self.group, self.order, self.starts,
                slack, doubt[sl],
            )  # fmt: skip

        map_chunks(work, n, self.rows)
        self.computed = int(counts.sum())
        return np.flatnonzero(doubt)

    def yinyang_chunk(self, sl, C, cc, move, group_move, gap, slack):
        """Yinyang's global and group filters on the points `sl` (NumPy).

        Moves the bounds, settles what they can, and returns the number of
        distances computed and the points (within `sl`) left for Lloyd's kernel.
        """
        X, xx, labels = self.X[sl], self.xx[sl], self.labels[sl]
        upper, lower = self.upper[sl], self.lower[sl]  # views: updated in place
        upper += move[labels]
        lower -= group_move
        np.maximum(lower, 0.0, out=lower)
        # The global filter: the nearest group bound, or half the gap to the
        # nearest other centroid, clears the upper bound.
        glob = lower.min(axis=1)
        low = np.maximum(glob, gap[labels] - upper)
        i = np.flatnonzero(upper**2 + slack >= low**2)
        # Still in doubt: one exact distance makes the upper bound tight.
        diff = X[i] - C[labels[i]]
        own = np.einsum("ij,ij->i", diff, diff)
        upper[i] = np.sqrt(own + slack)
        computed = len(i)
        low = np.maximum(glob[i], gap[labels[i]] - upper[i])
        keep = upper[i] ** 2 + slack >= low**2
        i, own, a = i[keep], own[keep], labels[i[keep]]
        # The group filter: search only the groups whose bound does not clear u.
        search = upper[i, None] ** 2 + slack >= lower[i] ** 2
        D = np.full((len(i), len(C)), np.inf)
        Xi, xi = X[i], xx[i]
        for g in range(len(self.starts) - 1):
            rows = np.flatnonzero(search[:, g])
            cols = self.order[self.starts[g] : self.starts[g + 1]]
            block = scores_chunk(Xi[rows], C[cols], "sqeuclidean", cc[cols])
            block += xi[rows, None]
            D[np.ix_(rows, cols)] = np.maximum(block, 0.0)
            computed += len(rows) * len(cols)
        r = np.arange(len(i))
        computed -= int(search[r, self.group[a]].sum())  # d(x, c_a) is known
        D[r, a] = own
        best = np.argmin(D, axis=1)
        bestd = D[r, best]
        # A runner-up within rounding of the winner: Lloyd's kernel decides.
        close = np.count_nonzero(D <= bestd[:, None] + slack, axis=1) > 1
        left, ok = i[close], ~close
        i, r, best, bestd, D = i[ok], r[: ok.sum()], best[ok], bestd[ok], D[ok]
        labels[i] = best
        upper[i] = np.sqrt(bestd + slack)
        # New group bounds from the distances computed, the winner left out;
        # a group not searched keeps its bound (and takes d(x, c_a) if the
        # point left c_a).
        D[r, best] = np.inf
        near = np.minimum.reduceat(D[:, self.order], self.starts[:-1], axis=1)
        near = np.sqrt(np.maximum(near - slack, 0.0))
        lower[i] = np.where(search[ok], near, np.minimum(lower[i], near))
        return computed, left
