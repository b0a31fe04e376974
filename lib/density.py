"""DBSCAN from scratch on a k-d tree, and the "modified DBSCAN" of deep clustering.

DBSCAN finds clusters as regions of high density; the chapter on deep
clustering ("MNIST: deep clustering") runs it on a UMAP embedding, where the
digits form dense islands. :func:`modified_dbscan` forces a fixed number of
clusters by keeping DBSCAN's largest ones and handing every other point to the
nearest of their centroids.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import chain

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._chunks import chunks
from ._validation import check_array, check_float, check_int
from .distances import assign


@dataclass
class DBSCANResult:
    """The result of :func:`dbscan`.

    Attributes
    ----------
    labels : ndarray of shape (n_samples,), int
        Cluster of each point, 0-based, numbered in the order the clusters are
        found (by their lowest-index core point); -1 marks noise.
    core_sample_mask : ndarray of shape (n_samples,), bool
        True for core points (at least ``min_samples`` points, themselves
        included, within distance ``eps``).
    """

    labels: np.ndarray
    core_sample_mask: np.ndarray


@dataclass
class ModifiedDBSCANResult:
    """The result of :func:`modified_dbscan`.

    Attributes
    ----------
    labels : ndarray of shape (n_samples,), int
        Final cluster of every point, in ``0 .. n_kept - 1``, numbered by
        decreasing DBSCAN cluster size; no noise.
    centroids : ndarray of shape (n_kept, n_features)
        Means of the kept DBSCAN clusters (before reassignment).
    dbscan_labels : ndarray of shape (n_samples,), int
        The plain DBSCAN labels (-1 for noise).
    core_sample_mask : ndarray of shape (n_samples,), bool
    """

    labels: np.ndarray
    centroids: np.ndarray
    dbscan_labels: np.ndarray
    core_sample_mask: np.ndarray


def _check_eps(eps):
    eps = check_float(eps, "eps")
    if eps <= 0:
        raise ValueError(
            f"eps={eps} must be positive; it is the neighbourhood radius, "
            f"e.g. a small quantile of the nearest-neighbour distances"
        )
    return eps


#: Rows per ball query in :func:`_neighbours`: their neighbour lists are Python
#: lists, of a size no byte budget can know in advance.
QUERY_ROWS = 2048


#: At most this many (i, j) pairs within eps: 9 bytes each, about 1.1 GiB.
MAX_PAIRS = 2**27


def _neighbours(X, eps):
    """Sparse 0/1 matrix of the pairs within distance eps (self included).

    The k-d tree answers each ball query in about O(log n + neighbours)
    instead of scanning all n points; rows are queried in blocks so the
    neighbour lists never all live as Python lists at once.
    """
    n = X.shape[0]
    tree = cKDTree(X)
    # Count first (cheap), so that a radius that links almost every pair gets
    # a message instead of a MemoryError deep inside the tree's lists.
    pairs = sum(
        int(tree.query_ball_point(X[sl], r=eps, return_length=True).sum())
        for sl in chunks(n, QUERY_ROWS)
    )
    if pairs > MAX_PAIRS:
        raise MemoryError(
            f"DBSCAN with eps={eps:g} finds {pairs:,} neighbour pairs among {n:,} "
            f"points (about {9 * pairs / 2**30:.1f} GiB, more than the "
            f"{MAX_PAIRS:,} lib allows); choose a smaller eps, or merge "
            f"duplicate points first (np.unique(X, axis=0))"
        )
    indptr = [np.zeros(1, dtype=np.int64)]
    indices = []
    offset = 0
    for sl in chunks(n, QUERY_ROWS):
        lists = tree.query_ball_point(X[sl], r=eps, return_sorted=False)
        lengths = np.fromiter(
            (len(nb) for nb in lists), dtype=np.int64, count=len(lists)
        )
        indptr.append(offset + np.cumsum(lengths))
        offset += int(lengths.sum())
        indices.append(
            np.fromiter(
                chain.from_iterable(lists), dtype=np.int64, count=int(lengths.sum())
            )
        )
    indptr = np.concatenate(indptr)
    indices = np.concatenate(indices)
    return sp.csr_matrix(
        (np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(n, n)
    )


def dbscan(X, eps, min_samples=5):
    """Density-based clustering (DBSCAN) with Euclidean distance.

    A *core point* has at least `min_samples` points (itself included) within
    distance `eps`. Core points closer than `eps` to each other belong to the
    same cluster: the clusters are the connected components of that graph. A
    non-core point within `eps` of a core point is a *border point* and joins
    a neighbouring cluster; every other point is *noise* (label -1).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    eps : float
        Neighbourhood radius, > 0 (a point at distance exactly `eps` counts).
    min_samples : int, default=5
        Density threshold, >= 1 (1 makes every point a core point).

    Returns
    -------
    DBSCANResult
        ``labels`` (-1 for noise) and ``core_sample_mask``.

    Notes
    -----
    Core points and the clusters of core points are unique. A border point
    within `eps` of two clusters could join either; the original algorithm
    gives it to whichever cluster reaches it first, which depends on the
    order of the data. Here it joins the neighbouring cluster found first,
    i.e. the one with the lowest-index core point, which is what scikit-learn's
    ``DBSCAN`` does too, so the labels agree with it exactly.

    Cost: one k-d tree ball query per point (fast in low dimension, as for a
    2- to 10-d embedding; close to brute force in 784-d pixel space), and
    memory proportional to the number of neighbour pairs.

    References
    ----------
    M. Ester, H.-P. Kriegel, J. Sander and X. Xu, "A density-based algorithm
    for discovering clusters in large spatial databases with noise", KDD 1996.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2], [20.0]])
    >>> res = dbscan(X, eps=0.15, min_samples=2)
    >>> res.labels.tolist()
    [0, 0, 0, 1, 1, 1, -1]
    >>> res.core_sample_mask.tolist()
    [True, True, True, True, True, True, False]
    """
    X = check_array(X)
    eps = _check_eps(eps)
    min_samples = check_int(min_samples, "min_samples")
    n = X.shape[0]
    A = _neighbours(X, eps)
    core = np.diff(A.indptr) >= min_samples
    labels = np.full(n, -1, dtype=np.int64)
    core_idx = np.flatnonzero(core)
    if len(core_idx) == 0:
        return DBSCANResult(labels, core)
    _, comp = connected_components(A[core_idx][:, core_idx], directed=False)
    # Number the clusters by their lowest-index core point: the order in which a
    # scan finds them.
    _, first = np.unique(comp, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    labels[core_idx] = rank[comp]
    # Border points: the smallest cluster number among their core neighbours.
    border_rows = A[~core].tocoo()
    rows = np.flatnonzero(~core)[border_rows.row]
    cols = border_rows.col
    keep = core[cols]
    best = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(best, rows[keep], labels[cols[keep]])
    reached = best < np.iinfo(np.int64).max
    labels[reached] = best[reached]
    return DBSCANResult(labels, core)


def modified_dbscan(X, eps, min_samples=5, n_clusters=10):
    """DBSCAN forced to `n_clusters` clusters, as in the N2D deep-clustering recipe.

    Run :func:`dbscan`, keep its `n_clusters` largest clusters, compute their
    centroids, and assign every other point (noise and members of smaller
    clusters) to the nearest of those centroids. Points of the kept clusters
    keep their cluster.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    eps : float
        DBSCAN's neighbourhood radius, > 0.
    min_samples : int, default=5
    n_clusters : int, default=10
        Number of clusters to keep. If DBSCAN finds fewer, all are kept and a
        ``UserWarning`` says so.

    Returns
    -------
    ModifiedDBSCANResult
        ``labels`` (in ``0 .. n_kept - 1``, largest cluster first),
        ``centroids``, and the plain ``dbscan_labels`` and
        ``core_sample_mask``.

    References
    ----------
    R. McConville, R. Santos-Rodriguez, R. J. Piechocki and I. Craddock,
    "N2D: (Not Too) Deep Clustering via Clustering the Local Manifold of an
    Autoencoded Embedding", ICPR 2020 (arXiv:1908.05968).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0], [9.1], [4.0]])
    >>> res = modified_dbscan(X, eps=0.15, min_samples=2, n_clusters=2)
    >>> res.dbscan_labels.tolist()
    [0, 0, 0, 1, 1, 2, 2, -1]
    >>> res.labels.tolist()
    [0, 0, 0, 1, 1, 1, 1, 1]
    """
    X = check_array(X)
    n_clusters = check_int(
        n_clusters,
        "n_clusters",
        high=X.shape[0],
        high_reason=f"the number of samples ({X.shape[0]})",
    )
    first = dbscan(X, eps, min_samples)
    labels0, core = first.labels, first.core_sample_mask
    found = int(labels0.max()) + 1
    if found == 0:
        raise ValueError(
            f"DBSCAN with eps={eps} and min_samples={min_samples} found no "
            f"cluster (every point is noise); increase eps or decrease "
            f"min_samples"
        )
    if found < n_clusters:
        warnings.warn(
            f"DBSCAN found only {found} cluster{'s' * (found != 1)}, fewer than "
            f"n_clusters="
            f"{n_clusters}; keeping all {found}. Decrease eps or increase "
            f"min_samples to split clusters",
            UserWarning,
            stacklevel=2,
        )
    sizes = np.bincount(labels0[labels0 >= 0], minlength=found)
    # Largest first; a stable sort breaks ties by the order DBSCAN found them.
    kept = np.argsort(-sizes, kind="stable")[: min(n_clusters, found)]
    new_id = np.full(found, -1, dtype=np.int64)
    new_id[kept] = np.arange(len(kept))
    labels = np.where(labels0 >= 0, new_id[np.maximum(labels0, 0)], -1)
    centroids = np.stack([X[labels == j].mean(axis=0) for j in range(len(kept))])
    others = labels < 0
    if others.any():
        labels[others] = assign(X[others], centroids)
    return ModifiedDBSCANResult(labels, centroids, labels0, core)


def eps_from_knn(X, min_samples=5, quantile=0.9):
    """A radius for :func:`dbscan` read off the data: a quantile of k-NN distances.

    The distance from each point to its `min_samples`-th nearest neighbour
    (itself not counted) is the smallest radius that makes it a core point;
    taking the `quantile` of those distances makes that fraction of the
    points core points. This is the "k-distance" heuristic of Ester et al.
    (1996), as used in the chapter "Deep clustering of MNIST".

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    min_samples : int, default=5
    quantile : float in (0, 1], default=0.9

    Returns
    -------
    eps : float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    >>> eps_from_knn(X, min_samples=1, quantile=0.5)  # 1-NN distances: 1, 1, 1, 1, 7
    1.0
    """
    X = check_array(X)
    min_samples = check_int(
        min_samples,
        "min_samples",
        high=X.shape[0] - 1,
        high_reason=f"the number of other samples ({X.shape[0] - 1})",
    )
    quantile = check_float(quantile, "quantile", low=1e-12)
    if quantile > 1:
        raise ValueError(
            f"quantile={quantile} is larger than 1; choose 0 < quantile <= 1"
        )
    dist, _ = cKDTree(X).query(X, k=min_samples + 1)
    return float(np.quantile(dist[:, -1], quantile))
