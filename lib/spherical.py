"""Cosine geometry: unit rows, cosine similarity, spherical k-means and exact k-NN.

Embeddings are compared by direction, so the chapter "Compressing embedding
tables with vector quantization" (``book/vector_quantization.ipynb``) measures
reconstructions by their cosine, clusters directions with spherical k-means,
and takes exact cosine nearest neighbours as the ground truth for search.
"""

from __future__ import annotations

import numpy as np

from ._chunks import check_working_memory, chunks, rows_for_budget
from ._validation import check_array, check_float, check_int, check_random_state
from .distances import chunk_rows, nearest_centroid, point_costs
from .init import check_distinct, check_init, start_centroids
from .lloyd import best_run, lloyd_loop, tolerance, update_centroids
from .quantize import check_table


def _table_rows(n_features):
    # The float64 copy of a chunk (and a few row-long temporaries) in the
    # default working memory: 65,536 rows of 128 features.
    return rows_for_budget(8 * n_features)


def normalize_rows(X, *, out=None):
    """Scale every row to unit Euclidean length, in chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        No row may be zero.
    out : ndarray, optional
        Where to write (``out=X`` normalizes a large table in place).

    Returns
    -------
    ndarray of shape (n_samples, n_features), X's float dtype

    Examples
    --------
    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 2.0]]))
    array([[0.6, 0.8],
           [0. , 1. ]])
    """
    X = check_table(X)
    if out is None:
        dt = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        out = np.empty(X.shape, dtype=dt)
    for sl in chunks(X.shape[0], _table_rows(X.shape[1])):
        start = sl.start
        block = np.asarray(X[sl], dtype=np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        if not np.all(norms > 0) or not np.all(np.isfinite(norms)):
            bad = start + int(np.flatnonzero(~(norms > 0) | ~np.isfinite(norms))[0])
            raise ValueError(
                f"row {bad} of X has norm {norms[bad - start]}; cosine needs "
                f"finite non-zero rows, so drop or fix that row"
            )
        out[sl] = block / norms[:, None]
    return out


def cosine_similarities(X, Y):
    """Row-wise cosine similarity ``cos(X[i], Y[i])``, vectorized and chunked.

    Parameters
    ----------
    X, Y : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,), float64

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> cosine_similarities(X, np.array([[2.0, 0.0], [-1.0, 1.0]]))
    array([1., 0.])
    """
    X, Y = check_table(X), check_table(Y, "Y")
    if X.shape != Y.shape:
        raise ValueError(
            f"X has shape {X.shape} but Y has shape {Y.shape}; pass two tables "
            f"of the same shape (row i of Y reconstructs row i of X)"
        )
    out = np.empty(X.shape[0])
    for sl in chunks(X.shape[0], _table_rows(2 * X.shape[1])):
        a, b = np.asarray(X[sl], np.float64), np.asarray(Y[sl], np.float64)
        dots = np.einsum("ij,ij->i", a, b)
        norms = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
        # A zero reconstruction has no direction: count it as similarity 0.
        out[sl] = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return out


def mean_cosine_similarity(X, Y):
    """Mean of :func:`cosine_similarities`: 1 is a perfect reconstruction.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(mean_cosine_similarity(X, np.array([[1.0, 0.0], [1.0, 1.0]])), 4)
    0.8536
    """
    return float(np.mean(cosine_similarities(X, Y)))


def spherical_kmeans(
    X,
    k,
    *,
    init="k-means++",
    n_init=1,
    max_iter=300,
    tol=1e-4,
    seed=None,
    working_memory=None,
):
    """Cluster the directions of `X`: k-means for cosine similarity.

    Rows are scaled to unit length; each point goes to the centroid with the
    largest cosine, and each centroid is its cluster's mean, re-normalized to
    unit length. This maximizes ``sum_i cos(x_i, c_{label_i})``. The
    assignment and mean are lib's k-means pieces: for unit vectors
    ``||x - c||^2 = 2 - 2 cos(x, c)``, so the nearest centroid is the most
    similar one.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        No row may be zero.
    k : int
        Number of clusters.
    init : {"k-means++", "greedy-k-means++", "random", "sample"} or ndarray
        An array has shape (k, n_features).
        Seeding on the normalized rows; the result is re-normalized.
    n_init, max_iter, tol, seed, working_memory
        As in :func:`lib.kmeans`.

    Returns
    -------
    KMeansResult
        Unit-length ``centroids``; ``inertia`` is ``sum_i (1 - cos(x_i, c))``.

    Notes
    -----
    Taught in the chapter "Compressing embedding tables with vector quantization".

    References
    ----------
    I. S. Dhillon and D. S. Modha, "Concept decompositions for large sparse
    text data using clustering", Machine Learning 42, 2001.

    Examples
    --------
    >>> X = np.array([[1.0, 0.1], [5.0, 0.0], [0.0, 2.0], [0.1, 9.0]])
    >>> res = spherical_kmeans(X, 2, seed=0)
    >>> bool(res.labels[0] == res.labels[1] != res.labels[2] == res.labels[3])
    True
    >>> np.allclose(np.linalg.norm(res.centroids, axis=1), 1.0)
    True
    """
    X = normalize_rows(check_array(X))
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    n_init, max_iter = check_int(n_init, "n_init"), check_int(max_iter, "max_iter")
    tol = check_float(tol, "tol")
    rng = check_random_state(seed)
    init = check_init(init, k, d)
    if not isinstance(init, str):
        init = normalize_rows(init)
    working_memory = check_working_memory(working_memory)
    check_distinct(X, k, "directions")
    rows = chunk_rows(k, d, "sqeuclidean", working_memory)
    tol_abs = tolerance(X, tol)

    def cosine_costs(C):
        labels, _ = nearest_centroid(X, C, "sqeuclidean", rows)
        # ||x - c||^2 = 2 - 2 cos for unit vectors, so half of it is 1 - cos.
        return labels, point_costs(X, C, labels, "sqeuclidean") / 2

    def run():
        C = start_centroids(X, k, init, rng)
        return lloyd_loop(
            normalize_rows(C),
            cosine_costs,
            lambda labels, C: spherical_update(X, labels, C),
            max_iter=max_iter,
            tol_abs=tol_abs,
        )

    return best_run(n_init, run)


def spherical_update(X, labels, C):
    """New centroids: each cluster's mean direction, re-normalized to unit length.

    A cluster whose unit vectors cancel out has no mean direction and keeps its
    centroid from `C`. Every cluster in `labels` has a member (no checks:
    internal API, the update step of :func:`spherical_kmeans`).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> spherical_update(X, np.array([0, 0, 1]), np.eye(2)).round(4)
    array([[ 0.7071,  0.7071],
           [-1.    ,  0.    ]])
    """
    M = update_centroids(X, labels, C.shape[0])
    norms = np.linalg.norm(M, axis=1)
    C_new = np.where(norms[:, None] > 1e-12, M / np.maximum(norms, 1e-12)[:, None], C)
    # Two clusters of the same direction up to rounding (x and 3x, normalized)
    # would otherwise stay apart as duplicate centroids. Made identical, they
    # tie, the lower index takes the points, and the emptied cluster is moved
    # to the worst-served point, as for exactly equal directions.
    i, j = np.nonzero(np.triu(C_new @ C_new.T > 1 - 1e-9, 1))
    for a, b in zip(i, j):
        if np.abs(C_new[a] - C_new[b]).max() <= 1e-12:
            C_new[b] = C_new[a]
    return C_new


def cosine_knn(queries, X, n_neighbors=10, *, working_memory=None):
    """Exact cosine nearest neighbours: the ground truth for :func:`recall_at_k`.

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
    X : array-like of shape (n_database, n_features)
    n_neighbors : int, default=10
        Neighbours returned per query.
    working_memory : float, optional
        Bound in MiB on the normalized float64 copy of each chunk of database
        rows (default ``lib.distances.WORKING_MEMORY_MB``). The result does
        not depend on it.

    Returns
    -------
    indices : ndarray of shape (n_queries, n_neighbors)
        Most similar first; equal similarities in the order of the database.

    Examples
    --------
    >>> database = np.array([[0.0, 1.0], [5.0, 1.0], [1.0, 1.0]])
    >>> cosine_knn(np.array([[1.0, 0.0]]), database, n_neighbors=2)
    array([[1, 2]])
    """
    Q = normalize_rows(check_array(queries, "queries"))
    X = check_table(X)
    if X.shape[1] != Q.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but queries have {Q.shape[1]}; "
            f"pass tables with the same number of features"
        )
    n = X.shape[0]
    n_neighbors = check_int(
        n_neighbors, "n_neighbors", high=n, high_reason=f"the database size ({n})"
    )
    # Per database row of a chunk: its normalized copy and one similarity per
    # query; only the running best n_neighbors per query are kept, so memory
    # is bounded by working_memory whatever the database size.
    rows = rows_for_budget(
        8 * (X.shape[1] + 2 * len(Q)), check_working_memory(working_memory)
    )
    best_sim = np.empty((len(Q), 0))
    best_idx = np.empty((len(Q), 0), dtype=np.intp)
    for sl in chunks(n, rows):
        sim = np.concatenate([best_sim, Q @ normalize_rows(X[sl]).T], axis=1)
        idx = np.concatenate(
            [
                best_idx,
                np.broadcast_to(
                    np.arange(sl.start, sl.stop), (len(Q), sl.stop - sl.start)
                ),
            ],
            axis=1,
        )
        # Most similar first; equal similarities in index order.
        order = np.lexsort((idx, -sim), axis=1)[:, :n_neighbors]
        best_sim = np.take_along_axis(sim, order, 1)
        best_idx = np.take_along_axis(idx, order, 1)
    return best_idx
