"""Vector quantization: compress a table of vectors to a codebook plus indices.

The chapter "Compressing embedding tables with vector quantization"
(``book/vector_quantization.ipynb``) teaches every function here: plain k-means
VQ with honest byte accounting. Its cosine geometry (spherical k-means, exact
cosine k-NN) lives in :mod:`lib.spherical`, and product quantization with
asymmetric distance computation (ADC) in :mod:`lib.pq`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._chunks import check_working_memory, chunks, rows_for_budget
from ._validation import check_array, check_centroids, check_int
from .distances import assign


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


def check_table(X, name="X"):
    """A 2-D real array, validated without copying a large float32 table.

    Only its shape and dtype are checked here: the functions that take a table
    stream through it in chunks, and each chunk's values are checked (finite)
    when it is converted to float64. Raises the messages of
    :func:`lib._validation.check_array`.

    Examples
    --------
    >>> check_table(np.zeros((2, 3), dtype=np.float32)).dtype
    dtype('float32')
    >>> check_table([[1, 2]]).shape
    (1, 2)
    """
    arr = np.asarray(X)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number) or arr.size == 0:
        check_array(arr, name)  # raises the house error message
    return arr


def vq_encode(X, codebook, *, working_memory=None):
    """Index of the nearest codeword (squared Euclidean) for every row of `X`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Any real dtype; it is never copied whole, so a float32 table of
        hundreds of MB costs only one chunk of float64 temporaries.
    codebook : array-like of shape (k, n_features)
    working_memory : float, optional
        Bound in MiB on the float64 copy of each chunk of rows, and on each
        distance block :func:`lib.assign` builds for it (default
        ``lib.distances.WORKING_MEMORY_MB`` = 64). The result does not depend
        on it.

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
    X = check_table(X)
    C = check_centroids(codebook, X.shape[1], "codebook")
    working_memory = check_working_memory(working_memory)
    rows = rows_for_budget(8 * X.shape[1], working_memory)
    out = np.empty(X.shape[0], dtype=index_dtype(C.shape[0]))
    for sl in chunks(X.shape[0], rows):
        # lib.assign validates each chunk (finite values) and bounds its own memory.
        out[sl] = assign(X[sl], C, working_memory=working_memory)
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
        raise ValueError(
            f"codebook must be 2-D (k, n_features), got shape {C.shape}; "
            f"pass the array returned by kmeans(...).centroids"
        )
    idx = np.asarray(indices)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(
            f"indices must be a 1-D integer array, got dtype {idx.dtype} and "
            f"shape {idx.shape}; pass the output of vq_encode"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= C.shape[0]):
        raise ValueError(
            f"indices range over [{idx.min()}, {idx.max()}] but the codebook "
            f"has {C.shape[0]} rows; use indices in [0, {C.shape[0] - 1}]"
        )
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
        Codewords per codebook: the number of clusters of its k-means.
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
    Taught in the chapter "Compressing embedding tables with vector
    quantization". The index dtype is :func:`index_dtype` (k), so k = 257 costs
    two bytes per index, not nine bits.

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
        raise ValueError(
            f"d={d} is not divisible by m={m}; choose m among the divisors of {d}"
        )
    per_vector = m * index_dtype(k).itemsize
    codebook = m * k * (d // m) * itemsize
    indices = n * per_vector
    original = n * d * itemsize
    return QuantizedSize(
        original,
        codebook,
        indices,
        codebook + indices,
        original / (codebook + indices),
        per_vector,
    )
