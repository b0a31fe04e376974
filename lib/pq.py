"""Product quantization: one codebook per sub-vector, and search on the codes.

A row is split into `m` sub-vectors, each quantized by its own k-means
codebook; queries are answered by asymmetric distance computation (ADC),
without decoding the database. The chapter "Compressing embedding tables with
vector quantization" (``book/vector_quantization.ipynb``) teaches it.
"""

from __future__ import annotations

import numpy as np

from ._chunks import check_working_memory, chunks, rows_for_budget
from ._validation import check_array, check_choice, check_int, check_random_state
from .lloyd import kmeans
from .quantize import check_table, index_dtype, vq_encode

ADC_METRICS = ("sqeuclidean", "dot")


def _split(X, m, name="X"):
    d = X.shape[1]
    if d % m:
        raise ValueError(
            f"{name} has {d} features, not divisible by m={m}; choose m among "
            f"the divisors of {d}"
        )
    return d // m


def _check_codebooks(codebooks, d=None):
    B = np.asarray(codebooks)
    if B.ndim != 3 or not np.issubdtype(B.dtype, np.floating):
        raise ValueError(
            f"codebooks must be a float array of shape (m, ksub, d // m), got "
            f"shape {B.shape} and dtype {B.dtype}; pass the output of pq_fit"
        )
    if d is not None and B.shape[0] * B.shape[2] != d:
        raise ValueError(
            f"codebooks of shape {B.shape} describe {B.shape[0] * B.shape[2]} "
            f"features but X has {d}; fit them on data with {d} features"
        )
    if not np.all(np.isfinite(B)):
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(B))[0])
        raise ValueError(
            f"codebooks hold a non-finite value ({B[at]} at index {at}); "
            f"pass the output of pq_fit on finite data"
        )
    return B


def _check_codes(codes, m, ksub, rows):
    """Integer codes of shape (rows, m), each in [0, ksub): pq_decode's and ADC's."""
    codes = np.asarray(codes)
    if (
        codes.ndim != 2
        or codes.shape[1] != m
        or not np.issubdtype(codes.dtype, np.integer)
    ):
        raise ValueError(
            f"codes must be an integer array of shape ({rows}, {m}), got "
            f"shape {codes.shape} and dtype {codes.dtype}; pass pq_encode's output"
        )
    if codes.size and (codes.min() < 0 or codes.max() >= ksub):
        raise ValueError(
            f"codes range over [{codes.min()}, {codes.max()}] but each codebook "
            f"has {ksub} rows; use codes in [0, {ksub - 1}]"
        )
    return codes


def pq_fit(
    X, m, *, ksub=256, init="k-means++", n_init=1, max_iter=300, tol=1e-4, seed=None
):
    """Train a product quantizer: one k-means codebook per sub-vector.

    Each row is split into `m` contiguous sub-vectors of length ``d // m``;
    k-means with `ksub` centroids runs on each block of columns. A row is
    then stored as `m` indices: with ``ksub = 256``, `m` bytes, while the
    product of the codebooks has ``256**m`` cells.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        ``n_features`` must be divisible by `m`.
    m : int
        Number of sub-vectors. ``m=1`` is plain VQ: the same centroids as
        ``kmeans(X, ksub, ...)`` with the same seed.
    ksub : int, default=256
        Centroids per sub-codebook.
    init, n_init, max_iter, tol : as in :func:`lib.kmeans`
    seed : None, int or np.random.Generator
        One generator feeds the `m` k-means runs in turn.

    Returns
    -------
    codebooks : ndarray of shape (m, ksub, n_features // m), float64

    Notes
    -----
    Taught in the chapter "Compressing embedding tables with vector quantization".

    References
    ----------
    H. Jégou, M. Douze and C. Schmid, "Product quantization for nearest
    neighbor search", IEEE TPAMI 33(1), 2011.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8))
    >>> B = pq_fit(X, 4, ksub=16, seed=0)
    >>> B.shape
    (4, 16, 2)
    >>> pq_encode(X, B).shape, pq_encode(X, B).dtype
    ((200, 4), dtype('uint8'))
    """
    X = check_array(X)
    n, d = X.shape
    m = check_int(m, "m", high=d, high_reason=f"the number of features d={d}")
    dsub = _split(X, m)
    ksub = check_int(ksub, "ksub", high=n, high_reason=f"the number of samples ({n})")
    rng = check_random_state(seed)
    books = np.empty((m, ksub, dsub))
    for j in range(m):
        block = X[:, j * dsub : (j + 1) * dsub]
        books[j] = kmeans(
            block, ksub, init=init, n_init=n_init, max_iter=max_iter, tol=tol, seed=rng
        ).centroids
    return books


def pq_encode(X, codebooks, *, working_memory=None):
    """The `m` sub-codebook indices of every row, shape (n_samples, m).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    codebooks : ndarray of shape (m, ksub, n_features // m)
    working_memory : float, optional
        Bound in MiB on each chunk's temporaries; see :func:`vq_encode`.

    Returns
    -------
    codes : ndarray of shape (n_samples, m), dtype ``index_dtype(ksub)``
    """
    X = check_table(X)
    B = _check_codebooks(codebooks, X.shape[1])
    m, ksub, dsub = B.shape
    codes = np.empty((X.shape[0], m), dtype=index_dtype(ksub))
    for j in range(m):
        codes[:, j] = vq_encode(
            X[:, j * dsub : (j + 1) * dsub], B[j], working_memory=working_memory
        )
    return codes


def pq_decode(codes, codebooks):
    """Reconstruct rows by concatenating their sub-centroids.

    Parameters
    ----------
    codes : ndarray of int, shape (n_samples, m)
    codebooks : ndarray of shape (m, ksub, dsub)

    Returns
    -------
    ndarray of shape (n_samples, m * dsub), the codebooks' dtype

    Examples
    --------
    >>> B = np.array([[[0.0], [1.0]], [[10.0], [20.0]]])   # m=2, ksub=2, dsub=1
    >>> pq_decode(np.array([[1, 0], [0, 1]]), B)
    array([[ 1., 10.],
           [ 0., 20.]])
    """
    B = _check_codebooks(codebooks)
    m, ksub, dsub = B.shape
    codes = _check_codes(codes, m, ksub, "n_samples")
    # B[j, codes[:, j]] for every j at once: shape (n, m, dsub), then flatten.
    return B[np.arange(m), codes].reshape(len(codes), m * dsub)


def pq_search_adc(
    queries,
    codes,
    codebooks,
    n_neighbors=10,
    *,
    metric="sqeuclidean",
    working_memory=None,
):
    """Nearest database rows to each query, by asymmetric distance computation.

    The query stays exact; only the database is quantized. For each query
    one table ``T[j, c]`` of (sub-)distances from query sub-vector `j` to
    centroid `c` of codebook `j` is built once (``m * ksub`` numbers); then
    the distance to a database row is ``sum_j T[j, codes[i, j]]``: `m`
    look-ups and additions, never a decoded vector.

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
    codes : ndarray of shape (n_database, m)
    codebooks : ndarray of shape (m, ksub, n_features // m)
    n_neighbors : int, default=10
        Neighbours returned per query.
    metric : {"sqeuclidean", "dot"}, default="sqeuclidean"
        Rank by smallest squared distance or by largest inner product. For
        unit-length queries and data both approximate cosine ranking.
    working_memory : float, optional
        Bound in MiB on the temporaries of each chunk of database rows scored
        for a query (default ``lib.distances.WORKING_MEMORY_MB``). The result
        does not depend on it.

    Returns
    -------
    indices : ndarray of shape (n_queries, n_neighbors), int
        Database rows, best first.

    Notes
    -----
    Taught in the chapter "Compressing embedding tables with vector quantization".

    References
    ----------
    H. Jégou, M. Douze and C. Schmid, "Product quantization for nearest
    neighbor search", IEEE TPAMI 33(1), 2011, section III.

    Examples
    --------
    >>> B = np.array([[[0.0], [1.0]], [[0.0], [1.0]]])    # m=2, ksub=2
    >>> codes = np.array([[0, 0], [1, 1], [1, 0]])        # rows (0,0), (1,1), (1,0)
    >>> pq_search_adc(np.array([[0.9, 0.2]]), codes, B, n_neighbors=2)
    array([[2, 1]])
    """
    Q = check_array(queries, "queries")
    B = _check_codebooks(codebooks, Q.shape[1])
    check_choice(metric, "metric", ADC_METRICS)
    m, ksub, dsub = B.shape
    codes = _check_codes(codes, m, ksub, "n_database")
    n = codes.shape[0]
    n_neighbors = check_int(
        n_neighbors, "n_neighbors", high=n, high_reason=f"the database size ({n})"
    )
    # Per database row: its m codes as intp, shifted, and the m looked-up terms.
    rows = rows_for_budget(8 * (2 * m + 1), check_working_memory(working_memory))
    Qs = Q.reshape(len(Q), m, dsub)
    # Look-up tables, shape (n_queries, m, ksub).
    if metric == "sqeuclidean":
        T = ((Qs[:, :, None, :] - B[None]) ** 2).sum(-1)
    else:
        T = -np.einsum("qjd,jcd->qjc", Qs, B)  # negate: smaller is better
    flat = T.reshape(len(Q), m * ksub)
    offsets = (np.arange(m) * ksub)[None, :]
    out = np.empty((len(Q), n_neighbors), dtype=np.intp)
    for qi in range(len(Q)):
        scores = np.empty(n)
        for sl in chunks(n, rows):
            c = codes[sl].astype(np.intp) + offsets
            scores[sl] = flat[qi][c].sum(axis=1)
        top = np.argpartition(scores, n_neighbors - 1)[:n_neighbors]
        out[qi] = top[np.argsort(scores[top], kind="stable")]
    return out


def recall_at_k(found, truth):
    """Recall@n: the fraction of the true neighbours that a search found, averaged.

    The literature's "recall@k" counts neighbours; the name keeps its ``k``,
    the only place in lib where ``k`` is not a number of clusters.

    Parameters
    ----------
    found : ndarray of int, shape (n_queries, n_neighbors)
        Indices returned by an approximate search.
    truth : ndarray of int, shape (n_queries, n_neighbors)
        The exact nearest neighbours (e.g. from :func:`cosine_knn`).

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> recall_at_k(np.array([[1, 2, 3], [4, 5, 6]]), np.array([[3, 2, 9], [4, 5, 6]]))
    0.8333333333333334
    """
    found, truth = np.asarray(found), np.asarray(truth)
    if found.ndim != 2 or found.shape != truth.shape:
        raise ValueError(
            f"found has shape {found.shape} and truth {truth.shape}; pass two "
            f"(n_queries, n_neighbors) index arrays of the same shape"
        )
    # (q, n, n) comparison: which true neighbours appear anywhere in the found row.
    hit = (truth[:, :, None] == found[:, None, :]).any(axis=2)
    return float(hit.mean())
