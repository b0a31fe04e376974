"""K-means under a Mahalanobis distortion ``(x - mu)^T Sigma (x - mu)``.

Everything here works on the quadratic form directly, never by whitening the
data, so that the chapter "The mathematics of k-means" can check the theorem
"Mahalanobis k-means is Euclidean k-means on ``X Sigma^{1/2}``" with numbers
instead of assuming it.

``precision`` is the matrix *inside* the quadratic form, the chapter's
``Sigma``: for the classical Mahalanobis distance of data with covariance
``S``, pass ``precision = inv(S)``, the inverse of a covariance.
"""

from __future__ import annotations

import numpy as np

from ._chunks import check_working_memory, map_chunks, rows_for_budget
from ._validation import (
    check_array,
    check_centroids,
    check_float,
    check_int,
    check_random_state,
)
from .init import check_distinct, check_init, start_centroids
from .lloyd import lloyd_loop, tolerance, update_centroids


def check_precision(precision, n_features, name="precision"):
    """Return `precision` as a symmetric positive-definite float64 (d, d) array.

    Raises ValueError when it is not one.
    """
    S = check_array(precision, name)
    if S.shape != (n_features, n_features):
        raise ValueError(
            f"{name} has shape {S.shape} but X has {n_features} features; "
            f"pass a ({n_features}, {n_features}) matrix"
        )
    scale = max(float(np.abs(S).max()), 1e-300)
    if not np.allclose(S, S.T, rtol=0, atol=1e-10 * scale):
        raise ValueError(
            f"{name} is not symmetric (largest |precision - precision.T| is "
            f"{np.abs(S - S.T).max():.3g}); pass (precision + precision.T) / 2"
        )
    try:
        np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        low = float(np.linalg.eigvalsh(S).min())
        raise ValueError(
            f"{name} is not positive definite (smallest eigenvalue {low:.3g}); "
            f"add a ridge, e.g. precision + 1e-6 * np.eye({n_features})"
        ) from None
    return (S + S.T) / 2


def _mahalanobis_rows(d, k, working_memory=None):
    # Per row: the (k, d) differences and the (k, d) product with the precision
    # matrix, plus (k,) output.
    return rows_for_budget(8 * (2 * k * d + k + d), working_memory)


def mahalanobis_chunk(Xc, C, S):
    """(len(Xc), len(C)) matrix of (x - c)^T S (x - c).

    Computed from the differences themselves. Xc, C and the (d, d) matrix S
    are valid float64 (no checks: :func:`mahalanobis_distances` is the
    checked entry point).

    Examples
    --------
    >>> mahalanobis_chunk(np.zeros((1, 2)), np.array([[3.0, 0.0], [0.0, 1.0]]),
    ...                   np.diag([1.0, 100.0]))
    array([[  9., 100.]])
    """
    diff = Xc[:, None, :] - C[None, :, :]
    # Summing diff * (diff @ S) never forms x^T S x - 2 x^T S c + ..., so there is
    # no cancellation.
    return np.einsum("rkd,rkd->rk", diff @ S, diff)


def _mahalanobis_assign(X, C, S, rows):
    n = X.shape[0]
    labels = np.empty(n, dtype=np.intp)
    mind = np.empty(n)

    def work(sl):
        D = mahalanobis_chunk(X[sl], C, S)
        # Ties go to the lowest centroid index, as in lib.assign.
        lab = np.argmin(D, axis=1)
        labels[sl] = lab
        mind[sl] = D[np.arange(len(lab)), lab]

    map_chunks(work, n, rows)
    return labels, mind


def mahalanobis_distances(X, centroids, precision, *, working_memory=None):
    """Squared Mahalanobis distances ``(x_i - c_j)^T precision (x_i - c_j)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    centroids : array-like of shape (k, n_features)
    precision : array-like of shape (n_features, n_features)
        Symmetric positive definite. For the classical Mahalanobis distance of
        data with covariance ``S`` pass ``np.linalg.inv(S)``.
    working_memory : float, optional
        Bound in MiB on the temporaries of each chunk of rows.

    Returns
    -------
    D : ndarray of shape (n_samples, k)
        Never negative: it is computed from the differences, not expanded.

    Notes
    -----
    Taught in the chapter "The mathematics of k-means" (Mahalanobis distortion).

    References
    ----------
    P. C. Mahalanobis, "On the generalised distance in statistics",
    Proc. National Institute of Sciences of India 2(1), 1936.

    Examples
    --------
    >>> import numpy as np
    >>> precision = np.diag([1.0, 100.0])
    >>> mahalanobis_distances([[0.0, 0.0]], [[3.0, 0.0], [0.0, 1.0]], precision)
    array([[  9., 100.]])
    """
    X = check_array(X)
    C = check_centroids(centroids, X.shape[1])
    S = check_precision(precision, X.shape[1])
    rows = _mahalanobis_rows(
        X.shape[1], C.shape[0], check_working_memory(working_memory)
    )
    D = np.empty((X.shape[0], C.shape[0]))

    def work(sl):
        D[sl] = mahalanobis_chunk(X[sl], C, S)

    map_chunks(work, X.shape[0], rows)
    return D


def mahalanobis_assign(
    X, centroids, precision, *, working_memory=None, return_distances=False
):
    """Assign every point to the centroid nearest in the Mahalanobis sense.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    centroids : array-like of shape (k, n_features)
    precision : array-like of shape (n_features, n_features)
        Symmetric positive definite matrix of the quadratic form.
    working_memory : float, optional
        Bound in MiB on each chunk's temporaries; the (n, k) matrix is never built.
    return_distances : bool, default=False
        Also return each point's squared Mahalanobis distance to its centroid.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        ``argmin_j (x_i - c_j)^T P (x_i - c_j)``, ``P`` the precision; ties go
        to the lowest index.
    distances : ndarray of shape (n_samples,)
        Only if `return_distances`.

    Notes
    -----
    Taught in the chapter "The mathematics of k-means": this is in general
    *not* the Euclidean assignment, even though precision is the same for every
    cluster.

    References
    ----------
    P. C. Mahalanobis, 1936 (see :func:`mahalanobis_distances`).

    Examples
    --------
    >>> import numpy as np
    >>> C = [[3.0, 0.0], [0.0, 1.0]]
    >>> mahalanobis_assign([[0.0, 0.0]], C, np.eye(2))          # Euclidean: 9 > 1
    array([1])
    >>> mahalanobis_assign([[0.0, 0.0]], C, np.diag([1.0, 100.0]))  # now 9 < 100
    array([0])
    """
    X = check_array(X)
    C = check_centroids(centroids, X.shape[1])
    S = check_precision(precision, X.shape[1])
    rows = _mahalanobis_rows(
        X.shape[1], C.shape[0], check_working_memory(working_memory)
    )
    labels, dist = _mahalanobis_assign(X, C, S, rows)
    return (labels, dist) if return_distances else labels


def mahalanobis_kmeans(
    X,
    k,
    precision,
    *,
    init="sample",
    max_iter=300,
    tol=1e-4,
    seed=None,
    working_memory=None,
):
    """Lloyd's algorithm for the distortion ``sum_i (x_i - mu_j)^T P (x_i - mu_j)``.

    Assign each point to its Mahalanobis-nearest centroid, then move each
    centroid to the plain mean of its points (the chapter proves the mean is
    still the minimiser). Nothing is whitened.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
        Number of clusters, at most the number of distinct points.
    precision : array-like of shape (n_features, n_features)
        Symmetric positive definite: the inverse of the clusters' covariance
        for the classical Mahalanobis distance.
    init : "sample" or array of shape (k, n_features), default="sample"
        ``"sample"`` draws k distinct data points, exactly like
        ``lib.kmeans(..., init="sample")`` with the same seed.
    max_iter : int, default=300
    tol : float, default=1e-4
        Stop when the labels stop changing or when the centroid shift, measured
        in the precision norm, is at most ``tol * trace(P @ cov(X)) / d`` (``P``
        the precision).
        This is scikit-learn's relative rule for the whitened data, so the run
        matches ``lib.kmeans`` on ``X @ sqrtm(precision)`` step by step.
    seed : None, int or np.random.Generator
    working_memory : float, optional
        Bound in MiB on each chunk's temporaries.

    Returns
    -------
    KMeansResult
        ``inertia`` is the Mahalanobis distortion of the final assignment.

    Notes
    -----
    Taught in the chapter "The mathematics of k-means". Empty clusters are
    refilled as in :func:`lib.kmeans` (the worst-served point).

    References
    ----------
    S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
    28(2), 1982. P. C. Mahalanobis, 1936.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> res = mahalanobis_kmeans(X, 2, np.diag([1.0, 4.0]), init=X[[0, 2]])
    >>> res.centroids.tolist()
    [[0.0, 0.5], [10.0, 0.5]]
    >>> float(res.inertia)  # four points, each 0.5 away along the axis weighted by 4
    4.0
    """
    X = check_array(X)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    S = check_precision(precision, d)
    max_iter = check_int(max_iter, "max_iter")
    tol = check_float(tol, "tol")
    rng = check_random_state(seed)
    working_memory = check_working_memory(working_memory)
    init = check_init(init, k, d, methods=("sample",))
    if isinstance(init, str):
        check_distinct(X, k)

    rows = _mahalanobis_rows(d, k, working_memory)

    def precision_shift(C_new, C):
        step = C_new - C
        return float(np.einsum("kd,kd->", step @ S, step))

    return lloyd_loop(
        start_centroids(X, k, init, rng),
        lambda C: _mahalanobis_assign(X, C, S, rows),
        # The mean, as the chapter proves.
        lambda labels, C: update_centroids(X, labels, k),
        max_iter=max_iter,
        tol_abs=tolerance(X, tol, precision=S),
        shift=precision_shift,
    )


def sqrtm_spd(matrix):
    """The symmetric square root ``matrix^{1/2}`` of a symmetric positive-definite
    matrix.

    Parameters
    ----------
    matrix : array-like of shape (d, d)

    Returns
    -------
    root : ndarray of shape (d, d)
        Symmetric positive definite, with ``root @ root == matrix`` up to rounding.
        Whitening is ``X @ root``: then ``||(x - c) @ root||^2`` equals the
        Mahalanobis distortion ``(x - c)^T precision (x - c)``.

    Notes
    -----
    Used by the chapter "The mathematics of k-means" to test the whitening theorem.

    References
    ----------
    N. J. Higham, *Functions of Matrices*, SIAM 2008, section 6.1.

    Examples
    --------
    >>> import numpy as np
    >>> sqrtm_spd(np.diag([4.0, 9.0]))
    array([[2., 0.],
           [0., 3.]])
    """
    S = check_array(matrix, "matrix")
    S = check_precision(S, S.shape[0], name="matrix")
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(w)) @ V.T


def pooled_within_covariance(X, labels):
    """The clusters' shared shape: their scatter matrices summed, over n.

    Its inverse is the `precision` that makes :func:`mahalanobis_kmeans` measure
    distance in units of the clusters' own spread (used in the chapter
    "Initialization, failure cases and choosing k" for anisotropic blobs).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_features, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 1.0], [12.0, 1.0]])
    >>> pooled_within_covariance(X, [0, 0, 1, 1]).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    X = check_array(X)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(
            f"labels has shape {labels.shape} but X has {X.shape[0]} rows; "
            f"pass one label per row"
        )
    S = np.zeros((X.shape[1], X.shape[1]))
    for j in np.unique(labels):
        D = X[labels == j] - X[labels == j].mean(axis=0)
        S += D.T @ D
    return S / X.shape[0]
