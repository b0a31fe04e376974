"""Soft assignment: soft k-means and EM for a spherical Gaussian mixture.

The chapter "Initialization, failure cases and choosing k" shows that large
``beta`` recovers hard k-means and that the soft assignment is the E-step of
a Gaussian mixture with one shared spherical covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ._validation import (
    check_array,
    check_centroids,
    check_float,
    check_int,
    check_random_state,
)
from .distances import sq_norms
from .init import check_distinct, check_init, start_centroids
from .lloyd import kmeans, tolerance


def _sq_dist(X, C):
    D = X @ C.T
    D *= -2.0
    D += sq_norms(C)[None, :]
    D += sq_norms(X)[:, None]
    return np.maximum(D, 0.0, out=D)


def _log_resp(logits):
    # log-sum-exp: subtracting each row's max keeps exp() from under/overflowing.
    return logits - logsumexp(logits, axis=1, keepdims=True)


def soft_assign(X, centroids, beta):
    """Responsibilities ``r[i, j] ∝ exp(-beta * ||x_i - c_j||^2)``, rows summing to 1.

    Computed as ``exp(l - logsumexp(l))`` with ``l = -beta * D``, so neither a
    huge `beta` (every exponent very negative) nor a far-away point underflows
    to 0/0.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    centroids : array-like of shape (k, n_features)
    beta : float
        Stiffness, ``beta > 0``; ``beta -> inf`` gives the one-hot hard
        assignment of k-means (ties shared equally), ``beta -> 0`` gives
        ``1/k`` everywhere. For a Gaussian mixture with equal weights and
        shared covariance ``sigma^2 I``, ``beta = 1 / (2 sigma^2)`` and
        these are its E-step responsibilities.

    Returns
    -------
    R : ndarray of shape (n_samples, k)

    References
    ----------
    D. J. C. MacKay, *Information Theory, Inference, and Learning
    Algorithms*, ch. 20 (soft k-means), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> soft_assign(X, np.array([[0.0], [2.0]]), beta=1.0).round(3)
    array([[0.982, 0.018],
           [0.5  , 0.5  ],
           [0.018, 0.982]])
    >>> soft_assign(X, np.array([[0.0], [2.0]]), beta=1e6)[0].tolist()
    [1.0, 0.0]
    """
    X = check_array(X)
    C = check_centroids(centroids, X.shape[1])
    beta = check_float(beta, "beta", low=0.0)
    if beta == 0.0:
        raise ValueError(
            "beta=0.0 is invalid; choose beta > 0 (small beta blurs, "
            "large beta approaches hard k-means)"
        )
    return np.exp(_log_resp(-beta * _sq_dist(X, C)))


@dataclass
class SoftKMeansResult:
    """The result of :func:`soft_kmeans`.

    Attributes
    ----------
    centroids : ndarray of shape (k, n_features)
    responsibilities : ndarray of shape (n_samples, k)
        Soft assignment to the returned centroids; rows sum to 1.
    labels : ndarray of shape (n_samples,)
        ``responsibilities.argmax(axis=1)``.
    inertia : float
        Hard k-means objective of ``labels`` with the returned centroids
        (sum of squared distances of each point to its nearest centroid).
    n_iter : int
    converged : bool
    """

    centroids: np.ndarray
    responsibilities: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool


def soft_kmeans(X, k, beta, *, init="k-means++", max_iter=300, tol=1e-6, seed=None):
    """Soft k-means: every point pulls every centroid, weighted by responsibility.

    Alternate ``R = soft_assign(X, C, beta)`` and ``C_j = sum_i R_ij x_i /
    sum_i R_ij`` until the squared centroid shift is at most ``tol`` times
    the mean per-feature variance of X.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
        Number of clusters.
    beta : float
        Stiffness, see :func:`soft_assign`. Scale it with the data: it
        multiplies squared distances.
    init : {"k-means++", "greedy-k-means++", "random", "sample"} or ndarray
        An array has shape (k, n_features).
    max_iter : int, default=300
    tol : float, default=1e-6
    seed : None, int or np.random.Generator

    Returns
    -------
    SoftKMeansResult

    References
    ----------
    D. J. C. MacKay, *Information Theory, Inference, and Learning
    Algorithms*, ch. 20, 2003.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.2], [5.0], [5.2]])
    >>> res = soft_kmeans(X, 2, beta=10.0, init=np.array([[0.0], [5.0]]))
    >>> res.centroids.round(3).ravel().tolist()
    [0.1, 5.1]
    """
    X = check_array(X)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    beta = check_float(beta, "beta", low=0.0)
    if beta == 0.0:
        raise ValueError("beta=0.0 is invalid; choose beta > 0")
    max_iter = check_int(max_iter, "max_iter")
    tol = check_float(tol, "tol")
    rng = check_random_state(seed)
    C = _initial(X, k, init, rng)
    tol_abs = tolerance(X, tol)
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        R = np.exp(_log_resp(-beta * _sq_dist(X, C)))
        mass = R.sum(axis=0)
        # A centroid no point wants (mass ~ 0) stays where it is.
        C_new = np.where(
            mass[:, None] > 1e-300, (R.T @ X) / np.maximum(mass, 1e-300)[:, None], C
        )
        shift = np.sum((C_new - C) ** 2)
        C = C_new
        if shift <= tol_abs:
            converged = True
            break
    D = _sq_dist(X, C)
    R = np.exp(_log_resp(-beta * D))
    labels = R.argmax(axis=1)
    inertia = float(np.sum((X - C[labels]) ** 2))
    return SoftKMeansResult(C, R, labels, inertia, n_iter, converged)


def _initial(X, k, init, rng):
    init = check_init(init, k, X.shape[1])
    if isinstance(init, str):
        check_distinct(X, k)
    return start_centroids(X, k, init, rng)


@dataclass
class GMMResult:
    """The result of :func:`spherical_gmm`.

    Attributes
    ----------
    means : ndarray of shape (k, n_features)
    variances : ndarray of shape (k,)
        ``sigma_j^2`` of each component (all equal when ``shared=True``).
    weights : ndarray of shape (k,)
    responsibilities : ndarray of shape (n_samples, k)
        E-step at the returned parameters.
    labels : ndarray of shape (n_samples,)
    log_likelihood : float
        Mean log-likelihood per sample at the returned parameters
        (scikit-learn's ``GaussianMixture.score``).
    n_iter : int
    converged : bool
    """

    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray
    responsibilities: np.ndarray
    labels: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def e_step(X, means, variances, weights):
    """The E-step of :func:`spherical_gmm`: mean log-likelihood and responsibilities.

    ``r_ij ∝ w_j N(x_i | mu_j, sigma_j^2 I)``, normalized with log-sum-exp.
    No checks (internal API): X and means are float64 of shapes (n, d) and
    (k, d), variances and weights positive of shape (k,).

    Returns
    -------
    log_likelihood : float
        Mean over the samples.
    R : ndarray of shape (n_samples, k)
        Rows sum to 1.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0]])
    >>> ll, R = e_step(X, np.array([[0.0], [1.0]]), np.ones(2), np.full(2, 0.5))
    >>> R.sum(axis=1).tolist()
    [1.0, 1.0]
    """
    d = X.shape[1]
    logits = (
        -0.5 * _sq_dist(X, means) / variances[None, :]
        - 0.5 * d * np.log(2 * np.pi * variances)[None, :]
        + np.log(weights)[None, :]
    )
    norm = logsumexp(logits, axis=1)
    return float(norm.mean()), np.exp(logits - norm[:, None])


def _m_step(X, R, shared, reg_covar):
    n, d = X.shape
    nk = R.sum(axis=0) + 10 * np.finfo(float).eps  # as scikit-learn, no 0/0
    means = (R.T @ X) / nk[:, None]
    # E_R ||x - mu_j||^2 per component, averaged over the d features.
    sq = (R * _sq_dist(X, means)).sum(axis=0)
    if shared:
        variances = np.full(len(nk), sq.sum() / (n * d) + reg_covar)
    else:
        variances = sq / (nk * d) + reg_covar
    if not np.all(variances > 0):
        j = int(np.argmin(variances))
        raise ValueError(
            f"the variance of component {j} collapsed to 0 (it sits on identical "
            f"points), so its density is infinite; pass reg_covar > 0, e.g. "
            f"reg_covar=1e-6, or fewer components"
        )
    return means, variances, nk / n


def spherical_gmm(
    X,
    k,
    *,
    shared=False,
    means_init=None,
    max_iter=100,
    tol=1e-3,
    reg_covar=1e-6,
    seed=None,
):
    """EM for a Gaussian mixture with spherical covariances ``sigma_j^2 I``.

    E-step: ``r_ij ∝ w_j N(x_i | mu_j, sigma_j^2 I)`` (log-sum-exp).
    M-step: ``w_j = N_j / n``, ``mu_j`` the r-weighted mean and ``sigma_j^2``
    the r-weighted mean squared distance per feature (plus `reg_covar`).
    With ``shared=True`` one ``sigma^2`` is pooled over all components.
    Stops when the mean log-likelihood changes by less than `tol`
    (scikit-learn's rule).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k : int
        Number of clusters (mixture components).
    shared : bool, default=False
        False: one variance per component (scikit-learn's
        ``covariance_type="spherical"``). True: a single shared variance,
        which scikit-learn does not offer (its "tied" is a shared *full*
        covariance).
    means_init : array of shape (k, n_features), optional
        Default: centroids of ``lib.kmeans(X, k, n_init=1, seed=seed)``.
        The initial weights and variances come from one M-step on the hard
        k-means assignment of these means.
    max_iter : int, default=100
    tol : float, default=1e-3
    reg_covar : float, default=1e-6
        Added to every variance, so a component that collapses onto one
        point keeps a positive variance.
    seed : None, int or np.random.Generator

    Returns
    -------
    GMMResult

    References
    ----------
    A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood from
    incomplete data via the EM algorithm", J. R. Stat. Soc. B 39, 1977.
    C. M. Bishop, *Pattern Recognition and Machine Learning*, sec. 9.3.2
    (k-means as the small-variance limit of EM), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1.0, (300, 2)), rng.normal(8, 2.0, (300, 2))])
    >>> res = spherical_gmm(X, 2, seed=0)
    >>> np.sqrt(np.sort(res.variances)).round(1).tolist()
    [1.0, 1.9]
    """
    X = check_array(X)
    n, d = X.shape
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    max_iter = check_int(max_iter, "max_iter")
    tol = check_float(tol, "tol")
    reg_covar = check_float(reg_covar, "reg_covar")
    if not isinstance(shared, (bool, np.bool_)):
        raise TypeError(f"shared must be True or False, got {shared!r}")
    if means_init is None:
        means = kmeans(
            X, k, init="k-means++", n_init=1, seed=check_random_state(seed)
        ).centroids
    else:
        means = check_array(means_init, "means_init")
        if means.shape != (k, d):
            raise ValueError(
                f"means_init has shape {means.shape}; pass shape ({k}, {d})"
            )
    hard = np.zeros((n, k))
    hard[np.arange(n), np.argmin(_sq_dist(X, means), axis=1)] = 1.0
    _, variances, weights = _m_step(X, hard, shared, reg_covar)
    ll, converged, n_iter = -np.inf, False, 0
    for n_iter in range(1, max_iter + 1):
        prev = ll
        ll, R = e_step(X, means, variances, weights)
        means, variances, weights = _m_step(X, R, shared, reg_covar)
        if abs(ll - prev) < tol:
            converged = True
            break
    ll, R = e_step(X, means, variances, weights)
    return GMMResult(
        means, variances, weights, R, R.argmax(axis=1), ll, n_iter, converged
    )
