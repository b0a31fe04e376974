"""Cosine geometry: unit rows, cosine similarity, spherical k-means and exact k-NN.

Embeddings are compared by direction, so the chapter "Compressing embedding
tables with vector quantization" (``book/vector_quantization.ipynb``) measures
reconstructions by their cosine, clusters directions with spherical k-means,
and takes exact cosine nearest neighbours as the ground truth for search.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_float, check_int, check_random_state
from .distances import _assign, chunk_rows, point_costs
from .init import _init, check_distinct, check_init
from .kmeans import History, KMeansResult, _fill_empty, _update
from .quantize import CHUNK_SIZE, _check_chunk, _check_table


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
    X = _check_table(X)
    if out is None:
        dt = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        out = np.empty(X.shape, dtype=dt)
    for start in range(0, X.shape[0], CHUNK_SIZE):
        sl = slice(start, start + CHUNK_SIZE)
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
    X, Y = _check_table(X), _check_table(Y, "Y")
    if X.shape != Y.shape:
        raise ValueError(
            f"X has shape {X.shape} but Y has shape {Y.shape}; pass two tables "
            f"of the same shape (row i of Y reconstructs row i of X)"
        )
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], CHUNK_SIZE):
        sl = slice(start, start + CHUNK_SIZE)
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
    C0 = check_init(init, k, d)
    if C0 is not None:
        C0 = normalize_rows(C0)
    if working_memory is not None:
        check_float(working_memory, "working_memory", low=1e-9)
    check_distinct(X, k, "directions")
    rows = chunk_rows(k, d, "sqeuclidean", working_memory)
    tol_abs = tol * float(np.mean(np.var(X, axis=0)))
    best = None
    for _ in range(n_init):
        C = C0.copy() if C0 is not None else _init(X, k, init, rng, "sqeuclidean")
        res = _spherical_lloyd(X, normalize_rows(C), max_iter, tol_abs, rows)
        if best is None or res.inertia < best.inertia:
            best = res
    return best


def _spherical_lloyd(X, C, max_iter, tol_abs, rows):
    k = C.shape[0]
    hist = History()

    def step(C):
        labels, _ = _assign(X, C, "sqeuclidean", rows)
        costs = point_costs(X, C, labels, "sqeuclidean")  # = 2 - 2 cos
        hist.centroids.append(C.copy())
        hist.inertia.append(costs.sum() / 2)
        return labels, costs

    labels, costs = step(C)
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        used = _fill_empty(X, labels, costs, k)
        M = _update(X, used, k, "sqeuclidean")
        norms = np.linalg.norm(M, axis=1)
        # A cluster whose unit vectors cancel out has no mean direction: keep its
        # centroid.
        C_new = np.where(
            norms[:, None] > 1e-12, M / np.maximum(norms, 1e-12)[:, None], C
        )
        shift = np.sum((C_new - C) ** 2)
        C = C_new
        new_labels, costs = step(C)
        done = np.array_equal(new_labels, used) or shift <= tol_abs
        labels = new_labels
        if done:
            converged = True
            break
    return KMeansResult(C, labels, float(costs.sum() / 2), n_iter, converged, hist)


def cosine_knn(queries, X, k=10, *, chunk_size=None):
    """Exact cosine nearest neighbours: the ground truth for :func:`recall_at_k`.

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
    X : array-like of shape (n_database, n_features)
    k : int, default=10

    Returns
    -------
    indices : ndarray of shape (n_queries, k), most similar first

    Examples
    --------
    >>> database = np.array([[0.0, 1.0], [5.0, 1.0], [1.0, 1.0]])
    >>> cosine_knn(np.array([[1.0, 0.0]]), database, k=2)
    array([[1, 2]])
    """
    Q = normalize_rows(check_array(queries, "queries"))
    X = _check_table(X)
    if X.shape[1] != Q.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but queries have {Q.shape[1]}; "
            f"pass tables with the same number of features"
        )
    n = X.shape[0]
    k = check_int(k, "k", high=n, high_reason=f"the database size ({n})")
    rows = _check_chunk(chunk_size)
    sims = np.empty((len(Q), n))
    for start in range(0, n, rows):
        sims[:, start : start + rows] = Q @ normalize_rows(X[start : start + rows]).T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1, kind="stable")
    return np.take_along_axis(top, order, 1)
