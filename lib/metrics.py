"""Scoring a clustering against known classes: accuracy, NMI and ARI.

A clustering names its groups 0, 1, ... in an arbitrary order, so it can only
be compared with the true classes up to relabelling. Two relabellings are
common: the Hungarian matching (one class per cluster, a bijection) and the
majority vote (each cluster takes its most frequent class; several clusters
may share one). The chapter "MNIST: k-means on raw pixels" compares them.

NMI and ARI are computed here from the contingency table (the formulas are
short); they agree with ``sklearn.metrics.normalized_mutual_info_score`` and
``adjusted_rand_score``, which the tests check.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import ndtri

from ._validation import check_float, check_int


def _check_labels(y, name):
    """`y` as a 1-D int array, or a clear error."""
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(
            f"{name} must be a 1-D array of integer labels, got "
            f"{type(y).__name__}; pass e.g. np.array([0, 1, 1])"
        )
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got shape {arr.shape}; "
            f"pass one label per sample, e.g. {name}.ravel()"
        )
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iub":
        if (
            arr.dtype.kind == "f"
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            # Above 2**53 a float is no longer an exact integer, and above 2**63
            # the cast to int64 wraps: 1e20 and 2e20 would become one label.
            big = float(np.abs(arr).max())
            if big > 2.0**53:
                raise ValueError(
                    f"{name} holds a float label {big:.3g}, too large to be an exact "
                    f"integer; encode the labels first, e.g. "
                    f"np.unique({name}, return_inverse=True)[1]"
                )
            arr = arr.astype(np.int64)
        else:
            raise TypeError(
                f"{name} must hold integer labels, got dtype {arr.dtype}; "
                f"encode them first, e.g. np.unique({name}, return_inverse=True)[1]"
            )
    return arr.astype(np.int64, copy=False)


def _check_pair(y_true, y_pred):
    y_true = _check_labels(y_true, "y_true")
    y_pred = _check_labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}; "
            f"pass one true and one predicted label per sample"
        )
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty; pass at least one sample")
    return y_true, y_pred


def contingency_matrix(y_true, y_pred):
    """Count how many samples of each class fall in each cluster.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), int
        The true classes.
    y_pred : array-like of shape (n_samples,), int
        The cluster labels (any integers, e.g. -1 for DBSCAN noise).

    Returns
    -------
    table : ndarray of shape (n_classes, n_clusters), int
        ``table[i, j]`` counts the samples of class ``classes[i]`` in cluster
        ``clusters[j]``.
    classes : ndarray of shape (n_classes,)
        The sorted distinct values of `y_true`.
    clusters : ndarray of shape (n_clusters,)
        The sorted distinct values of `y_pred`.

    Examples
    --------
    >>> table, classes, clusters = contingency_matrix([0, 0, 1, 1], [5, 5, 5, 7])
    >>> table.tolist(), clusters.tolist()
    ([[2, 0], [1, 1]], [5, 7])
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    classes, ti = np.unique(y_true, return_inverse=True)
    clusters, pi = np.unique(y_pred, return_inverse=True)
    table = np.zeros((len(classes), len(clusters)), dtype=np.int64)
    np.add.at(table, (ti, pi), 1)
    return table, classes, clusters


def match_labels(y_true, y_pred):
    """The Hungarian relabelling: the one-to-one map of clusters to classes
    that agrees with `y_true` on the most samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), int
    y_pred : array-like of shape (n_samples,), int

    Returns
    -------
    mapping : dict
        ``{cluster: class}``. When there are more clusters than classes, the
        unmatched clusters are absent (their samples count as errors); when
        there are fewer, some classes receive no cluster.

    Notes
    -----
    Maximizing the matched count is a linear assignment problem, solved
    exactly by the Hungarian method (``scipy.optimize.linear_sum_assignment``)
    in :math:`O(k^3)` for k clusters, instead of trying all k! relabellings.

    References
    ----------
    H. W. Kuhn, "The Hungarian method for the assignment problem", Naval
    Research Logistics Quarterly 2, 1955.

    Examples
    --------
    >>> match_labels([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])
    {0: 1, 1: 2, 2: 0}
    """
    table, classes, clusters = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return {
        int(clusters[c]): int(classes[r])
        for r, c in sorted(zip(rows, cols), key=lambda rc: rc[1])
    }


def hungarian_accuracy(y_true, y_pred):
    """Unsupervised clustering accuracy (ACC) under the best one-to-one relabelling.

    The standard "ACC" of deep-clustering papers: the fraction of samples whose
    cluster, mapped to a class by :func:`match_labels`, is their true class.
    Each class can be claimed by one cluster only, so 20 clusters on 10
    digits are penalized: the 10 unmatched clusters count as wrong.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), int
    y_pred : array-like of shape (n_samples,), int

    Returns
    -------
    accuracy : float in [0, 1]

    References
    ----------
    J. Xie, R. Girshick and A. Farhadi, "Unsupervised deep embedding for
    clustering analysis", ICML 2016 (the definition of ACC).

    Examples
    --------
    >>> hungarian_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> hungarian_accuracy([0, 0, 1, 1], [0, 1, 2, 3])
    0.5
    """
    table, _, _ = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def majority_mapping(y_true, y_pred, *, n_clusters=None):
    """Map each cluster to its most frequent class (fit on labelled data).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), int
        Classes of the samples used to fit the map (e.g. the training set).
    y_pred : array-like of shape (n_samples,), int
        Their cluster labels, in ``0 .. n_clusters - 1``.
    n_clusters : int, optional
        Number of clusters; default ``y_pred.max() + 1``. Clusters with no
        sample here map to -1 (a prediction that is always wrong).

    Returns
    -------
    mapping : ndarray of shape (n_clusters,), int
        ``mapping[j]`` is the majority class of cluster j; ties go to the
        smallest class. Apply it with ``mapping[labels]``.

    See Also
    --------
    majority_accuracy

    Examples
    --------
    >>> majority_mapping([3, 3, 5, 5, 5], [0, 0, 0, 1, 1]).tolist()
    [3, 5]
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if y_pred.min() < 0:
        raise ValueError(
            f"y_pred contains the negative label {y_pred.min()}; majority "
            f"mapping needs cluster labels 0 .. n_clusters - 1 (reassign "
            f"noise points first, e.g. with lib.density.modified_dbscan)"
        )
    low = int(y_pred.max()) + 1
    if n_clusters is None:
        n_clusters = low
    n_clusters = check_int(n_clusters, "n_clusters", low=low)
    classes, ti = np.unique(y_true, return_inverse=True)
    table = np.zeros((n_clusters, len(classes)), dtype=np.int64)
    np.add.at(table, (y_pred, ti), 1)
    # argmax returns the first maximum: ties go to the smallest class.
    mapping = classes[np.argmax(table, axis=1)]
    mapping[table.sum(axis=1) == 0] = -1
    return mapping


def majority_accuracy(y_true, y_pred, mapping=None):
    """Accuracy when every cluster predicts its majority class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), int
    y_pred : array-like of shape (n_samples,), int
        Cluster labels in ``0 .. n_clusters - 1``.
    mapping : ndarray of shape (n_clusters,), optional
        A map fitted on other data by :func:`majority_mapping` (the honest
        protocol: fit on a training set, score on held-out samples). Default:
        fit it on these very samples, which gives the *purity* of the
        clustering, an optimistic in-sample score.

    Returns
    -------
    accuracy : float in [0, 1]

    Notes
    -----
    Several clusters may vote for the same class, so majority accuracy is at
    least the Hungarian accuracy on the same samples, and it grows towards 1
    as k grows (n clusters of one sample each are perfectly "pure").

    Examples
    --------
    >>> majority_accuracy([0, 0, 1, 1], [0, 1, 2, 3])
    1.0
    >>> m = majority_mapping([0, 0, 1], [0, 0, 1])
    >>> majority_accuracy([0, 1, 1], [0, 0, 1], mapping=m)
    0.6666666666666666
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if mapping is None:
        mapping = majority_mapping(y_true, y_pred)
    mapping = np.asarray(mapping)
    if mapping.ndim != 1:
        raise ValueError(
            f"mapping must be 1-D (one class per cluster), got shape "
            f"{mapping.shape}; build it with majority_mapping"
        )
    if y_pred.min() < 0 or y_pred.max() >= len(mapping):
        raise ValueError(
            f"y_pred has labels in [{y_pred.min()}, {y_pred.max()}] but mapping "
            f"covers clusters 0 .. {len(mapping) - 1}; fit the mapping with "
            f"n_clusters={max(int(y_pred.max()) + 1, len(mapping))}"
        )
    return float(np.mean(mapping[y_pred] == y_true))


def accuracy_interval(n_correct, n, *, confidence=0.95):
    """Wilson score interval for an accuracy measured on `n` test samples.

    Parameters
    ----------
    n_correct : int
        Number of correctly predicted samples, ``0 <= n_correct <= n``.
    n : int
        Number of test samples.
    confidence : float, default=0.95

    Returns
    -------
    low, high : float
        The interval; its width shrinks like :math:`1/\\sqrt{n}`.

    References
    ----------
    E. B. Wilson, "Probable inference, the law of succession, and statistical
    inference", JASA 22(158), 1927.

    Examples
    --------
    >>> low, high = accuracy_interval(45, 50)
    >>> round(low, 3), round(high, 3)
    (0.786, 0.957)
    """
    n = check_int(n, "n")
    n_correct = check_int(
        n_correct,
        "n_correct",
        low=0,
        high=n,
        high_reason=f"the number of samples n={n}",
    )
    confidence = check_float(confidence, "confidence", low=0.0)
    if not 0 < confidence < 1:
        raise ValueError(
            f"confidence={confidence} must lie strictly between 0 and 1; "
            f"pass e.g. confidence=0.95"
        )
    z = float(ndtri(0.5 + confidence / 2))
    p = n_correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(centre - half), float(centre + half)


def _entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


def normalized_mutual_info(y_true, y_pred):
    """Normalized mutual information, :math:`I(Y;C) / ((H(Y) + H(C)) / 2)`.

    The arithmetic-mean normalization is scikit-learn's default
    (``normalized_mutual_info_score``), with which this agrees. 1 means the
    two labellings determine each other; 0 means independent.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,), int

    Returns
    -------
    nmi : float in [0, 1]

    References
    ----------
    A. Strehl and J. Ghosh, "Cluster ensembles", JMLR 3, 2002.

    Examples
    --------
    >>> normalized_mutual_info([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table, _, _ = contingency_matrix(y_true, y_pred)
    n = table.sum()
    h_true, h_pred = _entropy(table.sum(1)), _entropy(table.sum(0))
    if h_true == 0 or h_pred == 0:
        # One side is a single group: scikit-learn's convention.
        return 1.0 if h_true == h_pred else 0.0
    nz = table > 0
    pij = table[nz] / n
    outer = np.outer(table.sum(1), table.sum(0))[nz] / (n * n)
    mi = float(np.sum(pij * np.log(pij / outer)))
    return float(np.clip(mi / ((h_true + h_pred) / 2), 0.0, 1.0))


def adjusted_rand_index(y_true, y_pred):
    """Adjusted Rand index: agreement on pairs of samples, corrected for chance.

    Agrees with ``sklearn.metrics.adjusted_rand_score``. 1 means identical
    partitions; about 0 for a random labelling; it can be negative.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,), int

    Returns
    -------
    ari : float in [-0.5, 1]

    References
    ----------
    L. Hubert and P. Arabie, "Comparing partitions", Journal of
    Classification 2, 1985.

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table, _, _ = contingency_matrix(y_true, y_pred)
    n = float(table.sum())
    sum_ij = float(np.sum(table * (table - 1)) / 2)
    a, b = table.sum(1), table.sum(0)
    sum_a, sum_b = float(np.sum(a * (a - 1)) / 2), float(np.sum(b * (b - 1)) / 2)
    pairs = n * (n - 1) / 2
    expected = sum_a * sum_b / pairs if pairs else 0.0
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        # Both trivial (one cluster each, or all singletons): scikit-learn returns 1.
        return 1.0
    return float((sum_ij - expected) / (maximum - expected))
