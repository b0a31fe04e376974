"""Spectral clustering: graph Laplacians, their eigenvectors, and SCORE.

The chapter "Spectral clustering and the political blogs" derives these
functions and runs them on the political blogs network and on point clouds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh

from ._chunks import check_working_memory, chunks
from ._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from .distances import chunk_rows, sq_norms
from .lloyd import KMeansResult, kmeans

LAPLACIANS = ("unnormalized", "symmetric", "random-walk", "regularized")

#: Graphs with at most this many nodes are solved densely (``scipy.linalg.eigh``).
DENSE_MAX_NODES = 256


def check_adjacency(A, name="A"):
    """Return `A` as a symmetric, non-negative float64 CSR matrix, or raise.

    Accepts a dense array or any SciPy sparse matrix/array. Self-loops are
    kept (they add to the degree); weights must be finite and >= 0.
    """
    if A is None or isinstance(A, (str, bytes)):
        raise TypeError(
            f"{name} must be a square adjacency matrix, got "
            f"{type(A).__name__}; pass a NumPy array or a scipy.sparse matrix"
        )
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=np.float64)
    else:
        A = sp.csr_matrix(check_array(A, name))
    n, m = A.shape
    if n != m:
        raise ValueError(
            f"{name} must be square (n_nodes, n_nodes), got shape {A.shape}; "
            f"pass an adjacency matrix, or build one with knn_graph(X)"
        )
    if not np.isfinite(A.data).all():
        raise ValueError(
            f"{name} contains NaN or infinite weights; replace them by finite "
            f"values (0 for no edge)"
        )
    if (A.data < 0).any():
        raise ValueError(
            f"{name} has negative weights (smallest {A.data.min():g}); "
            f"edge weights must be >= 0: shift or clip them, or use |A|"
        )
    asym = abs(A - A.T)
    if asym.nnz and asym.max() > 1e-10 * max(1.0, abs(A).max()):
        raise ValueError(
            f"{name} is not symmetric (largest |A - A.T| = {asym.max():g}); "
            f"treat the graph as undirected with ({name} + {name}.T) / 2 or "
            f"{name}.maximum({name}.T)"
        )
    A.sum_duplicates()
    A.eliminate_zeros()
    return A


def _inv_sqrt(d):
    """d ** -1/2 where d > 0 and 0 where d == 0: a pseudo-inverse, never 1/0."""
    out = np.zeros_like(d)
    np.divide(1.0, np.sqrt(d), out=out, where=d > 0)
    return out


def laplacian(A, kind="symmetric", *, tau=None):
    """A graph Laplacian of the (weighted, undirected) adjacency matrix `A`.

    With degrees ``d = A.sum(1)`` and ``D = diag(d)``:

    - ``"unnormalized"``: ``L = D - A``;
    - ``"symmetric"``: ``L_sym = D^{-1/2} (D - A) D^{-1/2}``;
    - ``"random-walk"``: ``L_rw = D^{-1} (D - A)``;
    - ``"regularized"``: ``L_tau = I - D_tau^{-1/2} A D_tau^{-1/2}`` with
      ``D_tau = D + tau I`` (Qin & Rohe 2013).

    Parameters
    ----------
    A : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, non-negative weights.
    kind : {"unnormalized", "symmetric", "random-walk", "regularized"}
    tau : float, optional
        Regularization for ``kind="regularized"``; default the mean degree.
        ``tau=0`` gives back ``"symmetric"``.

    Returns
    -------
    L : scipy.sparse.csr_matrix of shape (n_nodes, n_nodes)

    Notes
    -----
    An isolated node (degree 0) has ``D^{-1/2}`` and ``D^{-1}`` set to 0 (the
    pseudo-inverse), so its row of ``L_sym`` and ``L_rw`` is zero, exactly as
    in ``L``: it is a connected component of its own and adds one zero
    eigenvalue. Under regularization its degree is ``tau > 0`` and its row is
    that of the identity.

    References
    ----------
    U. von Luxburg, "A tutorial on spectral clustering", Statistics and
    Computing 17, 2007. T. Qin and K. Rohe, "Regularized spectral clustering
    under the degree-corrected stochastic blockmodel", NeurIPS 2013.

    Examples
    --------
    >>> A = [[0, 1, 0], [1, 0, 0], [0, 0, 0]]          # an edge and an isolated node
    >>> laplacian(A, "unnormalized").toarray()
    array([[ 1., -1.,  0.],
           [-1.,  1.,  0.],
           [ 0.,  0.,  0.]])
    >>> laplacian(A, "symmetric").toarray()
    array([[ 1., -1.,  0.],
           [-1.,  1.,  0.],
           [ 0.,  0.,  0.]])
    """
    A = check_adjacency(A)
    check_choice(kind, "kind", LAPLACIANS)
    if tau is not None and kind != "regularized":
        raise ValueError(
            f"tau={tau!r} only applies to kind='regularized', not kind={kind!r}; "
            f"drop tau or pass kind='regularized'"
        )
    if tau is not None:
        tau = check_float(tau, "tau")
    return build_laplacian(A, kind, tau)


def build_laplacian(A, kind, tau):
    """:func:`laplacian` without the checks: `A` is a valid CSR adjacency matrix.

    `kind` is one of ``LAPLACIANS`` and `tau` None or a float (for
    ``"regularized"``). :func:`spectral_embedding`, which has checked its
    arguments already, calls this directly.

    Examples
    --------
    >>> A = sp.csr_matrix(np.array([[0.0, 2.0], [2.0, 0.0]]))
    >>> build_laplacian(A, "unnormalized", None).toarray()
    array([[ 2., -2.],
           [-2.,  2.]])
    """
    d = np.asarray(A.sum(axis=1)).ravel()
    if kind == "unnormalized":
        return sp.csr_matrix(sp.diags(d) - A)
    if kind == "random-walk":
        inv = np.zeros_like(d)
        np.divide(1.0, d, out=inv, where=d > 0)
        return sp.csr_matrix(sp.diags(inv) @ (sp.diags(d) - A))
    if kind == "regularized":
        tau = float(d.mean()) if tau is None else tau
        s = _inv_sqrt(d + tau)
        # Keep a zero row for a node whose regularized degree is still 0.
        return sp.csr_matrix(
            sp.diags((d + tau > 0).astype(float)) - sp.diags(s) @ A @ sp.diags(s)
        )
    s = _inv_sqrt(d)
    return sp.csr_matrix(sp.diags(s) @ (sp.diags(d) - A) @ sp.diags(s))


def smallest_eigh(L, n_eigs, solver, rng):
    """The `n_eigs` smallest eigenpairs of the symmetric sparse matrix L, ascending.

    `solver` is ``"dense"``, ``"arpack"`` or ``"auto"`` (dense up to
    ``DENSE_MAX_NODES`` nodes); `rng`, a Generator, seeds ARPACK's start
    vector. No checks (internal API): :func:`spectral_embedding` validates.

    Returns
    -------
    vals : ndarray of shape (n_eigs,)
    vecs : ndarray of shape (n_nodes, n_eigs)

    Examples
    --------
    >>> L = sp.csr_matrix(np.diag([3.0, 1.0, 2.0]))
    >>> smallest_eigh(L, 2, "dense", np.random.default_rng(0))[0]
    array([1., 2.])
    """
    n = L.shape[0]
    if solver == "dense" or (
        solver == "auto" and (n <= DENSE_MAX_NODES or n_eigs >= n - 1)
    ):
        vals, vecs = eigh(L.toarray(), subset_by_index=[0, n_eigs - 1])
        return vals, vecs
    # Shift-invert about a point just below 0 (L is positive semi-definite, so
    # L - sigma I is positive definite and factorizes); the eigenvalues nearest
    # sigma are the smallest. A seeded v0 makes ARPACK deterministic.
    scale = max(float(abs(L.diagonal()).max()), 1.0)
    vals, vecs = eigsh(
        L.tocsc(),
        k=n_eigs,
        sigma=-1e-3 * scale,
        which="LM",
        v0=rng.uniform(-1, 1, n),
        ncv=min(n, max(2 * n_eigs + 1, 20)),
    )
    order = np.argsort(vals)
    return vals[order], vecs[:, order]


def _fix_signs(V):
    # Eigenvectors are defined up to sign: make each column's largest entry
    # positive, so that plots and runs agree.
    idx = np.argmax(np.abs(V), axis=0)
    return V * np.sign(V[idx, np.arange(V.shape[1])])


def _normalize_rows(V):
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    out = np.zeros_like(V)
    np.divide(V, norms, out=out, where=norms > 0)  # an all-zero row stays at 0
    return out


def spectral_embedding(
    A,
    n_components,
    *,
    laplacian="symmetric",
    tau=None,
    normalize_rows=None,
    solver="auto",
    seed=None,
    return_eigenvalues=False,
):
    """Embed a graph's nodes by the `n_components` smallest eigenvectors of a Laplacian.

    Parameters
    ----------
    A : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, non-negative weights.
    n_components : int
        Number of eigenvectors, ``1 <= n_components <= n_nodes``; spectral
        clustering into k clusters uses k.
    laplacian : {"unnormalized", "symmetric", "random-walk", "regularized"}
        Default ``"symmetric"``; see :func:`laplacian`. For ``"random-walk"``
        the eigenvectors of ``L_rw`` are computed as ``D^{-1/2}`` times those of
        ``L_sym`` (isolated nodes keep their ``L_sym`` entries).
    tau : float, optional
        For ``laplacian="regularized"``; default the mean degree.
    normalize_rows : bool, optional
        Scale every row to unit length (Ng, Jordan & Weiss 2002). Default True
        for ``"symmetric"`` and ``"regularized"``, False otherwise.
    solver : {"auto", "arpack", "dense"}, default="auto"
        ``"auto"`` uses ``scipy.linalg.eigh`` up to ``DENSE_MAX_NODES`` nodes
        and ``scipy.sparse.linalg.eigsh`` (shift-invert) above.
    seed : None, int or np.random.Generator
        Start vector of ARPACK.
    return_eigenvalues : bool, default=False

    Returns
    -------
    embedding : ndarray of shape (n_nodes, n_components)
        Row ``i`` is node ``i``; columns are in order of increasing eigenvalue.
    eigenvalues : ndarray of shape (n_components,)
        Only if ``return_eigenvalues``.

    References
    ----------
    A. Y. Ng, M. I. Jordan and Y. Weiss, "On spectral clustering: analysis and
    an algorithm", NeurIPS 2001. J. Shi and J. Malik, "Normalized cuts and
    image segmentation", IEEE TPAMI 22(8), 2000.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.kron(np.eye(2), np.ones((3, 3))) - np.eye(6)    # two triangles
    >>> E, vals = spectral_embedding(A, 2, laplacian="unnormalized",
    ...                              return_eigenvalues=True)
    >>> np.round(vals, 12) + 0.0                               # two components
    array([0., 0.])
    >>> len(np.unique(np.round(E, 8), axis=0))                 # one point per triangle
    2
    """
    A = check_adjacency(A)
    n = A.shape[0]
    n_components = check_int(
        n_components, "n_components", high=n, high_reason=f"the number of nodes ({n})"
    )
    check_choice(laplacian, "laplacian", LAPLACIANS)
    check_choice(solver, "solver", ("auto", "arpack", "dense"))
    if solver == "arpack" and n_components >= n - 1:
        raise ValueError(
            f"solver='arpack' needs n_components < n_nodes - 1, got "
            f"n_components={n_components} with {n} nodes; "
            f"use solver='dense'"
        )
    if normalize_rows is None:
        normalize_rows = laplacian in ("symmetric", "regularized")
    rng = check_random_state(seed)
    kind = "symmetric" if laplacian == "random-walk" else laplacian
    if tau is not None and laplacian != "regularized":
        raise ValueError(
            f"tau={tau!r} only applies to laplacian='regularized', not "
            f"laplacian={laplacian!r}; drop tau or pass laplacian='regularized'"
        )
    if tau is not None:
        tau = check_float(tau, "tau")
    L = build_laplacian(A, kind, tau)
    vals, V = smallest_eigh(L, n_components, solver, rng)
    if laplacian == "random-walk":
        d = np.asarray(A.sum(axis=1)).ravel()
        V = V * np.where(d > 0, _inv_sqrt(d), 1.0)[:, None]
    V = _fix_signs(V)
    if normalize_rows:
        V = _normalize_rows(V)
    return (V, vals) if return_eigenvalues else V


@dataclass
class SpectralResult:
    """The result of :func:`spectral_clustering`.

    Attributes
    ----------
    labels : ndarray of shape (n_nodes,), int
        0-based cluster of every node.
    embedding : ndarray of shape (n_nodes, k)
        The rows k-means clustered (after row normalization, if any).
    kmeans : KMeansResult
        The k-means run on ``embedding``.
    """

    labels: np.ndarray
    embedding: np.ndarray
    kmeans: KMeansResult


def spectral_clustering(
    A,
    k,
    *,
    laplacian="symmetric",
    tau=None,
    normalize_rows=None,
    n_init=10,
    seed=None,
    embedding=None,
    solver="auto",
):
    """Cluster the nodes of a graph: spectral embedding, then :func:`lib.kmeans`.

    Parameters
    ----------
    A : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, non-negative weights.
    k : int
        Number of clusters (and of eigenvectors), ``1 <= k <= n_nodes``.
    laplacian, tau, normalize_rows, solver
        As in :func:`spectral_embedding`.
    n_init : int, default=10
        k-means restarts (k-means++ initialization); the best is kept.
    seed : None, int or np.random.Generator
        Drives ARPACK's start vector and k-means.
    embedding : ndarray of shape (n_nodes, m), optional
        Eigenvectors already computed with ``spectral_embedding(A, m,
        laplacian=..., normalize_rows=False)`` for some ``m >= k``; the first
        `k` columns are used, so a sweep over k needs one eigensolve.

    Returns
    -------
    SpectralResult
        ``labels``, ``embedding`` and the ``kmeans`` result.

    References
    ----------
    U. von Luxburg, "A tutorial on spectral clustering", Statistics and
    Computing 17, 2007. The chapter "Spectral clustering and the political
    blogs" teaches it.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.kron(np.eye(2), np.ones((3, 3))) - np.eye(6)
    >>> A[2, 3] = A[3, 2] = 0.1                         # a weak bridge
    >>> spectral_clustering(A, 2, seed=0).labels.tolist() in ([0, 0, 0, 1, 1, 1],
    ...                                                       [1, 1, 1, 0, 0, 0])
    True
    """
    A = check_adjacency(A)
    n = A.shape[0]
    k = check_int(k, "k", high=n, high_reason=f"the number of nodes ({n})")
    n_init = check_int(n_init, "n_init")
    rng = check_random_state(seed)
    check_choice(laplacian, "laplacian", LAPLACIANS)
    if normalize_rows is None:
        normalize_rows = laplacian in ("symmetric", "regularized")
    if embedding is None:
        V = spectral_embedding(
            A,
            k,
            laplacian=laplacian,
            tau=tau,
            normalize_rows=False,
            solver=solver,
            seed=rng,
        )
    else:
        V = check_array(embedding, "embedding")
        if V.shape[0] != n or V.shape[1] < k:
            raise ValueError(
                f"embedding has shape {V.shape} but the graph has {n} nodes and "
                f"k={k}; pass spectral_embedding(A, m) with m >= {k}"
            )
        V = V[:, :k]
    if laplacian != "regularized":
        _warn_if_components(A, k)
    if normalize_rows:
        V = _normalize_rows(V)
    res = kmeans(V, k, init="k-means++", n_init=n_init, seed=rng)
    return SpectralResult(res.labels, V, res)


def _warn_if_components(A, k):
    """Say so when the k smallest eigenvectors can only find components."""
    n_comp, comp = connected_components(A, directed=False)
    if 1 < n_comp >= k:
        sizes = np.sort(np.bincount(comp))[::-1]
        shown = ", ".join(f"{s:,}" for s in sizes[:5]) + (", ..." if n_comp > 5 else "")
        warnings.warn(
            f"A has {n_comp} connected components (sizes {shown}), at least "
            f"k={k}: the Laplacian's {k} smallest eigenvalues are all 0 and the "
            f"clusters are unions of components, not communities; cluster the "
            f"giant component (e.g. load_polblogs(giant_component=True)) or "
            f"pass laplacian='regularized'",
            UserWarning,
            stacklevel=3,
        )


def spectral_score(A, k, *, threshold=None, n_init=10, seed=None):
    """SCORE: spectral clustering on ratios of eigenvectors (Jin 2015).

    Take the `k` leading eigenvectors ``eta_1, ..., eta_k`` of `A` (largest
    eigenvalues in magnitude), divide ``eta_2..eta_k`` entrywise by ``eta_1``
    (this cancels each node's degree parameter), clip the ratios to
    ``[-threshold, threshold]``, and run k-means with `k` clusters on the
    ``(n_nodes, k - 1)`` matrix of ratios.

    Parameters
    ----------
    A : array-like or sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, non-negative, connected.
    k : int
        Number of communities, ``2 <= k < n_nodes``.
    threshold : float, optional
        Default ``log(n_nodes)``, Jin's choice.
    n_init : int, default=10
    seed : None, int or np.random.Generator

    Returns
    -------
    labels : ndarray of shape (n_nodes,), int

    References
    ----------
    J. Jin, "Fast community detection by SCORE", Annals of Statistics 43(1),
    2015. The chapter "Spectral clustering and the political blogs" compares
    it with regularization.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.kron(np.eye(2), np.ones((4, 4))) - np.eye(8)
    >>> A[3, 4] = A[4, 3] = 1.0                          # one bridge
    >>> spectral_score(A, 2, seed=0).tolist() in ([0] * 4 + [1] * 4, [1] * 4 + [0] * 4)
    True
    """
    A = check_adjacency(A)
    n = A.shape[0]
    k = check_int(k, "k", low=2, high=n - 1, high_reason=f"n_nodes - 1 ({n - 1})")
    n_init = check_int(n_init, "n_init")
    threshold = (
        np.log(n)
        if threshold is None
        else check_float(threshold, "threshold", low=1e-12)
    )
    n_comp, _ = connected_components(A, directed=False)
    if n_comp > 1:
        raise ValueError(
            f"A has {n_comp} connected components; SCORE divides by the leading "
            f"eigenvector, which is 0 off the largest component: pass the "
            f"giant component (e.g. load_polblogs(giant_component=True))"
        )
    rng = check_random_state(seed)
    if n <= DENSE_MAX_NODES or k >= n - 1:
        vals, vecs = eigh(A.toarray())
    else:
        vals, vecs = eigsh(A, k=k, which="LM", v0=rng.uniform(-1, 1, n))
    order = np.argsort(-np.abs(vals))[:k]
    eta = vecs[:, order]
    # Perron-Frobenius: the leading eigenvector of a connected graph has one
    # sign and no zeros; fix it positive.
    eta1 = eta[:, 0] * np.sign(eta[:, 0].sum())
    R = np.clip(eta[:, 1:] / eta1[:, None], -threshold, threshold)
    return kmeans(R, k, init="k-means++", n_init=n_init, seed=rng).labels


def knn_graph(X, n_neighbors=10, *, bandwidth=None, working_memory=None):
    """A symmetric k-nearest-neighbour similarity graph of a point cloud.

    Nodes ``i`` and ``j`` are joined when either is among the other's
    `n_neighbors` nearest points (Euclidean, self excluded). The weight is 1,
    or ``exp(-|x_i - x_j|^2 / (2 bandwidth^2))`` when `bandwidth` is given.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_neighbors : int, default=10
        ``1 <= n_neighbors < n_samples``.
    bandwidth : float, optional
        Length scale of the Gaussian weights; None gives 0/1 weights.
    working_memory : float, optional
        Bound in MiB on each distance block (as in :func:`lib.assign`).

    Returns
    -------
    A : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Symmetric, non-negative, empty diagonal.

    References
    ----------
    U. von Luxburg, "A tutorial on spectral clustering", Statistics and
    Computing 17, 2007, section 2.2. Used in the chapter "Spectral clustering
    and the political blogs".

    Examples
    --------
    >>> A = knn_graph([[0.0], [1.0], [5.0], [6.0]], n_neighbors=1)
    >>> A.toarray()
    array([[0., 1., 0., 0.],
           [1., 0., 0., 0.],
           [0., 0., 0., 1.],
           [0., 0., 1., 0.]])
    """
    X = check_array(X)
    n = X.shape[0]
    n_neighbors = check_int(
        n_neighbors, "n_neighbors", high=n - 1, high_reason=f"n_samples - 1 ({n - 1})"
    )
    if bandwidth is not None:
        bandwidth = check_float(bandwidth, "bandwidth", low=1e-300)
    rows = chunk_rows(
        n, X.shape[1], "sqeuclidean", check_working_memory(working_memory)
    )
    xx = sq_norms(X)
    nbr = np.empty((n, n_neighbors), dtype=np.intp)
    for sl in chunks(n, rows):
        D = np.maximum(xx[sl, None] - 2 * X[sl] @ X.T + xx[None, :], 0.0)
        D[np.arange(sl.stop - sl.start), np.arange(sl.start, sl.stop)] = np.inf
        # A stable sort breaks distance ties by the lower index, so the graph
        # does not depend on the platform's partition algorithm.
        part = np.argsort(D, axis=1, kind="stable")[:, :n_neighbors]
        nbr[sl] = part
    i, j = np.repeat(np.arange(n), n_neighbors), nbr.ravel()
    if bandwidth is None:
        w = np.ones(len(i))
    else:
        # Exact differences for the weights: the expanded form above is only
        # good enough to rank neighbours, and would make w depend on chunking.
        w = np.exp(
            -np.einsum("ij,ij->i", X[i] - X[j], X[i] - X[j]) / (2 * bandwidth**2)
        )
    A = sp.csr_matrix((w, (i, j)), shape=(n, n))
    return sp.csr_matrix(A.maximum(A.T))  # "or": an edge if either side chose it
