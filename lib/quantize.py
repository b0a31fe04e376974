"""Vector quantization: compress a table of vectors to a codebook plus indices.

The chapter "Compressing embedding tables with vector quantization" teaches
every function here: plain k-means VQ with honest byte accounting, spherical
k-means for cosine geometry, and product quantization with asymmetric
distance computation (ADC) for nearest-neighbour search.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (check_array, check_choice, check_float, check_int,
                          check_random_state)
from .distances import _assign, assign, chunk_rows, point_costs
from .init import _init, check_distinct, check_init
from .kmeans import History, KMeansResult, _fill_empty, _update, kmeans

#: Rows per chunk when a function streams through a large table.
CHUNK_SIZE = 65536
ADC_METRICS = ("sqeuclidean", "dot")


def index_dtype(k):
    """The smallest unsigned integer dtype that can hold the indices 0..k-1.

    >>> index_dtype(256), index_dtype(257), index_dtype(65536), index_dtype(65537)
    (dtype('uint8'), dtype('uint16'), dtype('uint16'), dtype('uint32'))
    """
    k = check_int(k, "k")
    for dt in (np.uint8, np.uint16, np.uint32):
        if k - 1 <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.uint64)


def _check_chunk(chunk_size):
    return CHUNK_SIZE if chunk_size is None else check_int(chunk_size, "chunk_size")


def _check_table(X, name="X"):
    """A 2-D real array, validated without copying a large float32 table."""
    arr = np.asarray(X)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number) or arr.size == 0:
        check_array(arr, name)  # raises the house error message
    return arr


def vq_encode(X, codebook, *, chunk_size=None):
    """Index of the nearest codeword (squared Euclidean) for every row of `X`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Any real dtype; it is never copied whole, so a float32 table of
        hundreds of MB costs only one chunk of float64 temporaries.
    codebook : array-like of shape (k, n_features)
    chunk_size : int, optional
        Rows encoded at a time (default ``CHUNK_SIZE`` = 65,536). The result
        does not depend on it.

    Returns
    -------
    indices : ndarray of shape (n_samples,)
        Dtype :func:`index_dtype` (k): uint8 for k <= 256, uint16 for
        k <= 65,536.

    Notes
    -----
    Taught in the chapter "Compressing embedding tables with vector quantization".

    References
    ----------
    R. M. Gray, "Vector quantization", IEEE ASSP Magazine 1(2), 1984.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[0.0, 0.0], [10.0, 10.0]], dtype=np.float32)
    >>> vq_encode(np.array([[1.0, 0.0], [9.0, 8.0], [0.0, 2.0]]), C)
    array([0, 1, 0], dtype=uint8)
    """
    X = _check_table(X)
    C = check_array(codebook, "codebook")
    if C.shape[1] != X.shape[1]:
        raise ValueError(f"codebook has {C.shape[1]} features but X has {X.shape[1]}; "
                         f"pass a codebook of shape (k, {X.shape[1]})")
    rows = _check_chunk(chunk_size)
    out = np.empty(X.shape[0], dtype=index_dtype(C.shape[0]))
    for start in range(0, X.shape[0], rows):
        # lib.assign validates each chunk (finite values) and bounds its own memory.
        out[start:start + rows] = assign(X[start:start + rows], C)
    return out


def vq_decode(indices, codebook):
    """Replace every index by its codeword: the reconstructed table.

    Parameters
    ----------
    indices : array-like of int, shape (n_samples,)
    codebook : ndarray of shape (k, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_features), the codebook's dtype

    Examples
    --------
    >>> import numpy as np
    >>> vq_decode(np.array([1, 0, 1], dtype=np.uint8), np.array([[0.0], [5.0]]))
    array([[5.],
           [0.],
           [5.]])
    """
    C = np.asarray(codebook)
    if C.ndim != 2:
        raise ValueError(f"codebook must be 2-D (k, n_features), got shape {C.shape}; "
                         f"pass the array returned by kmeans(...).centroids")
    idx = np.asarray(indices)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"indices must be a 1-D integer array, got dtype {idx.dtype} and "
                        f"shape {idx.shape}; pass the output of vq_encode")
    if idx.size and (idx.min() < 0 or idx.max() >= C.shape[0]):
        raise ValueError(f"indices range over [{idx.min()}, {idx.max()}] but the codebook "
                         f"has {C.shape[0]} rows; use indices in [0, {C.shape[0] - 1}]")
    return C[idx]


@dataclass(frozen=True)
class QuantizedSize:
    """Bytes of a table before and after quantization.

    Attributes
    ----------
    original : int
        ``n * d * itemsize`` of the uncompressed table.
    codebook : int
        Bytes of all codebooks.
    indices : int
        Bytes of the codes, at the dtype actually needed.
    total : int
        ``codebook + indices``.
    ratio : float
        ``original / total``.
    bytes_per_vector : int
        Index bytes stored per row.
    """
    original: int
    codebook: int
    indices: int
    total: int
    ratio: float
    bytes_per_vector: int

    def mb(self, which="total"):
        """A size in MB, with MB = 10**6 bytes."""
        return getattr(self, which) / 1e6


def quantized_size(n, d, k, *, m=1, itemsize=4):
    """Exact bytes of an (n, d) table stored as codebook(s) plus indices.

    Parameters
    ----------
    n, d : int
        Rows and features of the table.
    k : int
        Codewords per codebook.
    m : int, default=1
        Number of sub-vectors (product quantization); 1 is plain VQ. Each of
        the `m` codebooks has shape (k, d // m) and each row stores `m`
        indices.
    itemsize : int, default=4
        Bytes per stored float (4 for float32), for the table and codebooks.

    Returns
    -------
    QuantizedSize

    Notes
    -----
    Taught in the chapter "Compressing embedding tables with vector quantization". The index dtype is :func:`index_dtype` (k), so k = 257 costs two
    bytes per index, not nine bits.

    References
    ----------
    H. Jégou, M. Douze and C. Schmid, "Product quantization for nearest
    neighbor search", IEEE TPAMI 33(1), 2011 (memory of PQ codes).

    Examples
    --------
    >>> s = quantized_size(1000, 32, 256)
    >>> s.original, s.codebook, s.indices, s.total
    (128000, 32768, 1000, 33768)
    >>> quantized_size(1000, 32, 512).indices   # k > 256 needs uint16
    2000
    """
    n, d, k = check_int(n, "n"), check_int(d, "d"), check_int(k, "k")
    m = check_int(m, "m", high=d, high_reason=f"the number of features d={d}")
    itemsize = check_int(itemsize, "itemsize")
    if d % m:
        raise ValueError(f"d={d} is not divisible by m={m}; choose m among the divisors of {d}")
    per_vector = m * index_dtype(k).itemsize
    codebook = m * k * (d // m) * itemsize
    indices = n * per_vector
    original = n * d * itemsize
    return QuantizedSize(original, codebook, indices, codebook + indices,
                         original / (codebook + indices), per_vector)


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
            raise ValueError(f"row {bad} of X has norm {norms[bad - start]}; cosine needs "
                             f"finite non-zero rows, so drop or fix that row")
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
    >>> cosine_similarities(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[2.0, 0.0], [-1.0, 1.0]]))
    array([1., 0.])
    """
    X, Y = _check_table(X), _check_table(Y, "Y")
    if X.shape != Y.shape:
        raise ValueError(f"X has shape {X.shape} but Y has shape {Y.shape}; pass two tables "
                         f"of the same shape (row i of Y reconstructs row i of X)")
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


def spherical_kmeans(X, k, *, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
                     seed=None, working_memory=None):
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
    init : {"k-means++", "greedy-k-means++", "random", "sample"} or array of shape (k, n_features)
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
        # A cluster whose unit vectors cancel out has no mean direction: keep its centroid.
        C_new = np.where(norms[:, None] > 1e-12, M / np.maximum(norms, 1e-12)[:, None], C)
        shift = np.sum((C_new - C) ** 2)
        C = C_new
        new_labels, costs = step(C)
        done = np.array_equal(new_labels, used) or shift <= tol_abs
        labels = new_labels
        if done:
            converged = True
            break
    return KMeansResult(C, labels, float(costs.sum() / 2), n_iter, converged, hist)


def _split(X, m, name="X"):
    d = X.shape[1]
    if d % m:
        raise ValueError(f"{name} has {d} features, not divisible by m={m}; choose m among "
                         f"the divisors of {d}")
    return d // m


def _check_codebooks(codebooks, d=None):
    B = np.asarray(codebooks)
    if B.ndim != 3 or not np.issubdtype(B.dtype, np.floating):
        raise ValueError(f"codebooks must be a float array of shape (m, ksub, d // m), got "
                         f"shape {B.shape} and dtype {B.dtype}; pass the output of pq_fit")
    if d is not None and B.shape[0] * B.shape[2] != d:
        raise ValueError(f"codebooks of shape {B.shape} describe {B.shape[0] * B.shape[2]} "
                         f"features but X has {d}; fit them on data with {d} features")
    return B


def pq_fit(X, m, *, ksub=256, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
           seed=None):
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
        block = X[:, j * dsub:(j + 1) * dsub]
        books[j] = kmeans(block, ksub, init=init, n_init=n_init, max_iter=max_iter,
                          tol=tol, seed=rng).centroids
    return books


def pq_encode(X, codebooks, *, chunk_size=None):
    """The `m` sub-codebook indices of every row, shape (n_samples, m).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    codebooks : ndarray of shape (m, ksub, n_features // m)
    chunk_size : int, optional
        Rows encoded at a time; see :func:`vq_encode`.

    Returns
    -------
    codes : ndarray of shape (n_samples, m), dtype ``index_dtype(ksub)``
    """
    X = _check_table(X)
    B = _check_codebooks(codebooks, X.shape[1])
    m, ksub, dsub = B.shape
    codes = np.empty((X.shape[0], m), dtype=index_dtype(ksub))
    for j in range(m):
        codes[:, j] = vq_encode(X[:, j * dsub:(j + 1) * dsub], B[j], chunk_size=chunk_size)
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
    codes = np.asarray(codes)
    m, ksub, dsub = B.shape
    if codes.ndim != 2 or codes.shape[1] != m or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an integer array of shape (n_samples, {m}), got "
                         f"shape {codes.shape} and dtype {codes.dtype}; pass pq_encode's output")
    if codes.size and (codes.min() < 0 or codes.max() >= ksub):
        raise ValueError(f"codes range over [{codes.min()}, {codes.max()}] but each codebook "
                         f"has {ksub} rows; use codes in [0, {ksub - 1}]")
    # B[j, codes[:, j]] for every j at once: shape (n, m, dsub), then flatten.
    return B[np.arange(m), codes].reshape(len(codes), m * dsub)


def pq_search_adc(queries, codes, codebooks, k=10, *, metric="sqeuclidean", chunk_size=None):
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
    k : int, default=10
        Neighbours returned per query.
    metric : {"sqeuclidean", "dot"}, default="sqeuclidean"
        Rank by smallest squared distance or by largest inner product. For
        unit-length queries and data both approximate cosine ranking.
    chunk_size : int, optional
        Database rows scored at a time per query block.

    Returns
    -------
    indices : ndarray of shape (n_queries, k), int
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
    >>> pq_search_adc(np.array([[0.9, 0.2]]), codes, B, k=2)
    array([[2, 1]])
    """
    Q = check_array(queries, "queries")
    B = _check_codebooks(codebooks, Q.shape[1])
    check_choice(metric, "metric", ADC_METRICS)
    m, ksub, dsub = B.shape
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != m or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be an integer array of shape (n_database, {m}), got "
                         f"shape {codes.shape} and dtype {codes.dtype}; pass pq_encode's output")
    n = codes.shape[0]
    k = check_int(k, "k", high=n, high_reason=f"the database size ({n})")
    rows = _check_chunk(chunk_size)
    Qs = Q.reshape(len(Q), m, dsub)
    # Look-up tables, shape (n_queries, m, ksub).
    if metric == "sqeuclidean":
        T = ((Qs[:, :, None, :] - B[None]) ** 2).sum(-1)
    else:
        T = -np.einsum("qjd,jcd->qjc", Qs, B)   # negate: smaller is better
    flat = (T.reshape(len(Q), m * ksub))
    offsets = (np.arange(m) * ksub)[None, :]
    out = np.empty((len(Q), k), dtype=np.intp)
    for qi in range(len(Q)):
        scores = np.empty(n)
        for start in range(0, n, rows):
            c = codes[start:start + rows].astype(np.intp) + offsets
            scores[start:start + rows] = flat[qi][c].sum(axis=1)
        top = np.argpartition(scores, k - 1)[:k]
        out[qi] = top[np.argsort(scores[top], kind="stable")]
    return out


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
    >>> cosine_knn(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [5.0, 1.0], [1.0, 1.0]]), k=2)
    array([[1, 2]])
    """
    Q = normalize_rows(check_array(queries, "queries"))
    X = _check_table(X)
    if X.shape[1] != Q.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but queries have {Q.shape[1]}; "
                         f"pass tables with the same number of features")
    n = X.shape[0]
    k = check_int(k, "k", high=n, high_reason=f"the database size ({n})")
    rows = _check_chunk(chunk_size)
    sims = np.empty((len(Q), n))
    for start in range(0, n, rows):
        sims[:, start:start + rows] = Q @ normalize_rows(X[start:start + rows]).T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1, kind="stable")
    return np.take_along_axis(top, order, 1)


def recall_at_k(found, truth):
    """Fraction of the true k nearest neighbours that a search found, averaged.

    Parameters
    ----------
    found : ndarray of int, shape (n_queries, k)
        Indices returned by an approximate search.
    truth : ndarray of int, shape (n_queries, k)
        The exact k nearest neighbours (e.g. from :func:`cosine_knn`).

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
        raise ValueError(f"found has shape {found.shape} and truth {truth.shape}; pass two "
                         f"(n_queries, k) index arrays of the same shape")
    # (q, k, k) comparison: which true neighbours appear anywhere in the found row.
    hit = (truth[:, :, None] == found[:, None, :]).any(axis=2)
    return float(hit.mean())
