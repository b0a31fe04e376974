"""Dissimilarity and clustering for tables that mix categories and numbers.

Gower's coefficient compares each column on its own scale: a categorical
column contributes 0 if the two rows agree and 1 if not (Hamming distance,
which is half the L1 distance between one-hot codes), a numeric column
contributes ``|x - y| / range``; the contributions are averaged with weights.
Means do not exist for categories, so clusters are summarised by medoids
(:func:`kmedoids`). Taught in the chapter "The mathematics of k-means".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_array, check_choice, check_int, check_random_state


def _is_frame(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _missing(v):
    """None, NaN, NaT or pandas' NA (whose comparisons are NA, not a bool)."""
    if v is None:
        return True
    try:
        return bool(v != v)
    except TypeError:
        return True


def _columns(X, categorical, name):
    """Column names, a list of 1-D columns and the categorical mask of a table."""
    if _is_frame(X):
        names = list(X.columns)
        cols = [X[c].to_numpy() for c in names]
        if categorical is None:
            # Only int, unsigned and float are numeric; bool, object, string and
            # pandas' category are compared as categories.
            mask = [getattr(X[c].dtype, "kind", "O") not in "iuf" for c in names]
            return names, cols, mask
    else:
        if isinstance(X, (str, bytes)) or X is None:
            raise TypeError(
                f"{name} must be a table (pandas DataFrame or 2-D array), got "
                f"{type(X).__name__}"
            )
        arr = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(
                f"{name} must be a non-empty 2-D table (n_samples, n_features), "
                f"got shape {arr.shape}; use {name}.reshape(-1, 1) for one column"
            )
        names = list(range(arr.shape[1]))
        cols = [arr[:, f] for f in names]
        if categorical is None:
            if arr.dtype.kind in "iufb":
                return names, cols, [arr.dtype.kind == "b"] * len(names)
            raise ValueError(
                f"{name} has dtype {arr.dtype} and categorical=None, so the "
                f"categorical columns are unknown; pass categorical=[column "
                f"indices] or a pandas DataFrame"
            )
    cat = list(np.atleast_1d(np.asarray(categorical, dtype=object)))
    if len(cat) == len(names) and all(isinstance(c, (bool, np.bool_)) for c in cat):
        return names, cols, [bool(c) for c in cat]
    unknown = [c for c in cat if c not in names]
    if unknown:
        raise ValueError(
            f"categorical names columns {unknown} that {name} does not have; "
            f"choose among {names} or pass a boolean mask of length {len(names)}"
        )
    return names, cols, [c in cat for c in names]


def _weights(weights, names):
    if weights is None:
        return np.ones(len(names))
    if isinstance(weights, dict):
        unknown = [c for c in weights if c not in names]
        if unknown:
            raise ValueError(
                f"weights names columns {unknown} that X does not have; "
                f"choose among {names}"
            )
        w = np.array([weights.get(c, 1.0) for c in names], dtype=float)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if len(w) != len(names):
            raise ValueError(
                f"weights has {len(w)} entries but X has {len(names)} columns; "
                f"pass one weight per column"
            )
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(
            f"weights={w.tolist()} must be finite, non-negative and not all "
            f"zero; e.g. weights=np.ones({len(names)})"
        )
    return w


def _numeric(col, name, column):
    try:
        v = np.asarray(col, dtype=float)
    except (TypeError, ValueError):
        if any(_missing(x) for x in np.asarray(col, dtype=object).tolist()):
            raise ValueError(  # pandas' NA does not convert to NaN
                f"column {column!r} of {name} has missing values; drop or "
                f"impute them first"
            ) from None
        raise TypeError(
            f"column {column!r} of {name} is numeric but holds non-numbers; "
            f"list it in categorical= or convert it"
        ) from None
    if not np.all(np.isfinite(v)):
        raise ValueError(
            f"column {column!r} of {name} has missing or infinite values; "
            f"drop or impute them first"
        )
    return v


def _codes(colx, coly, name, column):
    table = {}
    out = []
    for col in (colx, coly):
        codes = np.empty(len(col), dtype=np.intp)
        for i, v in enumerate(col.tolist()):
            if _missing(v):
                raise ValueError(
                    f"column {column!r} of {name} has a missing value in row "
                    f"{i}; drop or impute it first"
                )
            codes[i] = table.setdefault(v, len(table))
        out.append(codes)
    return out


def gower_distances(X, Y=None, *, categorical=None, weights=None):
    """Gower's dissimilarity between the rows of mixed categorical/numeric tables.

    For rows x and y with columns f and weights w_f,
    ``d(x, y) = sum_f w_f d_f(x_f, y_f) / sum_f w_f``, where
    ``d_f = [x_f != y_f]`` on a categorical column (Hamming; half the L1
    distance between one-hot codes) and ``d_f = |x_f - y_f| / range_f`` on a
    numeric one, ``range_f`` being the range of the column in `X`.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        A DataFrame's non-numeric columns (object, string, category, bool) are
        categorical unless `categorical` says otherwise.
    Y : same type as X, shape (m_samples, n_features), optional
        Defaults to X. A DataFrame must have X's columns (order may differ).
    categorical : list of column names/indices, or boolean mask, optional
        Required for an object array; a numeric array is all-numeric by default.
    weights : array-like of shape (n_features,) or dict {column: weight}, optional
        Non-negative, not all zero; default 1 for every column (a dict's
        missing columns get 1).

    Returns
    -------
    D : ndarray of shape (n_samples, m_samples)
        Values in [0, 1] for rows of X (rows of Y outside X's range can exceed 1).
        A constant numeric column contributes 0 between equal values and 1
        otherwise.

    Notes
    -----
    Taught in the chapter "The mathematics of k-means" (similarity for mixed
    data). Missing values are rejected; Gower's paper skips them pairwise.

    References
    ----------
    J. C. Gower, "A general coefficient of similarity and some of its
    properties", Biometrics 27(4), 857-871, 1971.

    Examples
    --------
    >>> import numpy as np
    >>> homes = np.array([["Boston", "house", 500.0],
    ...                   ["Boston", "condo", 300.0],
    ...                   ["Austin", "house", 400.0]], dtype=object)
    >>> gower_distances(homes, categorical=[0, 1]).round(3)
    array([[0.   , 0.667, 0.5  ],
           [0.667, 0.   , 0.833],
           [0.5  , 0.833, 0.   ]])
    """
    names, colsx, mask = _columns(X, categorical, "X")
    if Y is None:
        colsy = colsx
    elif _is_frame(Y) and _is_frame(X):
        missing = [c for c in names if c not in Y.columns]
        if missing:
            raise ValueError(
                f"Y lacks the columns {missing} of X; pass a Y with columns {names}"
            )
        colsy = [Y[c].to_numpy() for c in names]
    else:
        ny, colsy, _ = _columns(Y, mask, "Y")
        if len(ny) != len(names):
            raise ValueError(
                f"Y has {len(ny)} columns but X has {len(names)}; "
                f"pass tables with the same columns"
            )
    w = _weights(weights, names)
    D = np.zeros((len(colsx[0]), len(colsy[0])))
    for f, column in enumerate(names):
        if w[f] == 0:
            continue
        if mask[f]:
            cx, cy = _codes(colsx[f], colsy[f], "X" if Y is None else "X/Y", column)
            D += w[f] * (cx[:, None] != cy[None, :])
        else:
            vx = _numeric(colsx[f], "X", column)
            vy = vx if Y is None else _numeric(colsy[f], "Y", column)
            diff = np.abs(vx[:, None] - vy[None, :])
            span = vx.max() - vx.min()
            D += w[f] * (diff / span if span > 0 else (diff > 0))
    return D / w.sum()


@dataclass
class KMedoidsResult:
    """The result of :func:`kmedoids`.

    Attributes
    ----------
    medoids : ndarray of shape (k,), int
        Row indices of the medoids; cluster j is represented by row ``medoids[j]``.
    labels : ndarray of shape (n_samples,), int
    inertia : float
        Sum of dissimilarities from each point to its medoid.
    n_iter : int
    converged : bool
    """

    medoids: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool


def _medoids_plusplus(D, k, rng):
    # k-means++ seeding with the dissimilarity itself as the sampling weight.
    n = D.shape[0]
    chosen = [int(rng.integers(n))]
    closest = D[:, chosen[0]].copy()
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # every point sits on a medoid: take any non-medoid
            rest = np.setdiff1d(np.arange(n), chosen)
            nxt = int(rng.choice(rest))
        else:
            nxt = int(rng.choice(n, p=closest / total))
        chosen.append(nxt)
        np.minimum(closest, D[:, nxt], out=closest)
    return np.array(chosen)


def kmedoids(D, k, *, init="k-medoids++", max_iter=100, seed=None):
    """K-medoids by alternation on a precomputed dissimilarity matrix.

    Assign each point to its nearest medoid; in each cluster make the member
    with the smallest total dissimilarity to the others the new medoid; stop
    when the medoids stop changing. Works with any dissimilarity, e.g.
    :func:`gower_distances`, where a mean would make no sense.

    Parameters
    ----------
    D : array-like of shape (n_samples, n_samples)
        Non-negative, finite; ``D[i, j]`` is the dissimilarity of rows i and j.
    k : int
        Number of clusters, ``1 <= k <= n_samples``.
    init : {"k-medoids++", "sample"} or array of ints, default="k-medoids++"
        An array holds k distinct row indices.
        ``"k-medoids++"`` samples each new medoid with probability proportional
        to its dissimilarity to the nearest chosen one; ``"sample"`` picks k rows.
    max_iter : int, default=100
    seed : None, int or np.random.Generator

    Returns
    -------
    KMedoidsResult

    Notes
    -----
    Ties go to the lowest index in the assignment, and a medoid is replaced
    only by a strictly better member, so the total dissimilarity strictly
    decreases whenever the medoids change and the loop cannot cycle. This is
    the fast alternating heuristic, not the full swap search of PAM. Taught
    in the chapter "The mathematics of k-means".

    References
    ----------
    L. Kaufman and P. J. Rousseeuw, *Finding Groups in Data*, Wiley 1990.
    H.-S. Park and C.-H. Jun, "A simple and fast algorithm for K-medoids
    clustering", Expert Systems with Applications 36(2), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
    >>> res = kmedoids(np.abs(x[:, None] - x[None, :]), 2, init=[0, 3])
    >>> res.medoids.tolist(), res.labels.tolist(), float(res.inertia)
    ([1, 3], [0, 0, 0, 1, 1], 3.0)
    """
    D = check_array(D, "D")
    n = D.shape[0]
    if D.shape != (n, n):
        raise ValueError(
            f"D must be a square (n, n) dissimilarity matrix, got shape {D.shape}; "
            f"compute it with e.g. gower_distances(X)"
        )
    if np.any(D < 0):
        raise ValueError(
            f"D has negative entries (min {D.min():.3g}); dissimilarities must be >= 0"
        )
    k = check_int(k, "k", high=n, high_reason=f"the number of samples ({n})")
    # Points at dissimilarity 0 from each other are one point to a medoid: with
    # fewer such groups than k, some cluster would be empty.
    n_distinct = len(np.unique(D, axis=0))
    if k > n_distinct:
        raise ValueError(
            f"k={k} is larger than the number of distinct points ({n_distinct}: "
            f"rows of D that differ); choose k <= {n_distinct}"
        )
    max_iter = check_int(max_iter, "max_iter")
    rng = check_random_state(seed)
    if isinstance(init, str):
        check_choice(init, "init", ("k-medoids++", "sample"))
        med = (
            _medoids_plusplus(D, k, rng)
            if init == "k-medoids++"
            else rng.choice(n, size=k, replace=False)
        )
    else:
        med = np.asarray(init)
        if (
            med.shape != (k,)
            or med.dtype.kind not in "iu"
            or len(np.unique(med)) != k
            or med.min() < 0
            or med.max() >= n
        ):
            raise ValueError(
                f"init={np.asarray(init).tolist()} must be {k} distinct row "
                f"indices in [0, {n - 1}]"
            )
    med = med.astype(np.intp)
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        labels = np.argmin(D[:, med], axis=1)  # ties: the lowest cluster index
        new = med.copy()
        for j in range(k):
            members = np.flatnonzero(labels == j)
            if len(members) == 0:
                continue
            cost = D[np.ix_(members, members)].sum(axis=0)
            best = members[np.argmin(cost)]
            # Replace only on strict improvement, so equal-cost members cannot cycle.
            current = np.flatnonzero(members == med[j])
            if len(current) == 0 or cost[np.argmin(cost)] < cost[current[0]]:
                new[j] = best
        if np.array_equal(new, med):
            converged = True
            break
        med = new
    labels = np.argmin(D[:, med], axis=1)
    inertia = float(D[np.arange(n), med[labels]].sum())
    return KMedoidsResult(med, labels, inertia, n_iter, converged)
