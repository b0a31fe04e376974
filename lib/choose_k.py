"""Choosing k: the elbow (kneedle), the silhouette and the gap statistic.

The chapter "Initialization, failure cases and choosing k" compares the
three criteria and shows where they disagree.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_array, check_choice, check_float, check_int, check_random_state
from .distances import WORKING_MEMORY_MB

CURVES = ("convex", "concave")


def _check_curve(ks, values):
    ks = np.asarray(ks)
    values = np.asarray(values)
    if ks.ndim != 1 or values.ndim != 1 or len(ks) != len(values):
        raise ValueError(f"ks and values must be 1-D and of equal length, got shapes "
                         f"{ks.shape} and {values.shape}; pass one value per k")
    if len(ks) < 3:
        raise ValueError(f"an elbow needs at least 3 points, got {len(ks)}; "
                         f"evaluate more values of k")
    for name, a in (("ks", ks), ("values", values)):
        if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a.astype(float)).all():
            raise ValueError(f"{name} must be finite numbers, got {a!r}; "
                             f"drop NaN or infinite entries")
    if not np.all(np.diff(ks) > 0):
        raise ValueError(f"ks must be strictly increasing, got {ks.tolist()}; sort them "
                         f"(and their values) first")
    return ks, values.astype(float)


def elbow_scores(ks, values, *, curve="convex"):
    """Kneedle's difference curve: distance of each point from the chord.

    Both axes are rescaled to [0, 1]; the score of point ``i`` is how far
    it lies below (``curve="convex"``) or above (``curve="concave"``) the
    straight line through the first and last points. See :func:`find_elbow`.

    Parameters
    ----------
    ks : array-like of shape (m,)
        Strictly increasing.
    values : array-like of shape (m,)
    curve : {"convex", "concave"}, default="convex"

    Returns
    -------
    scores : ndarray of shape (m,)
        Zero at both ends.

    Examples
    --------
    >>> elbow_scores([1, 2, 3], [10.0, 2.0, 0.0]).round(2)
    array([0. , 0.3, 0. ])
    """
    ks, values = _check_curve(ks, values)
    check_choice(curve, "curve", CURVES)
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = values.max() - values.min()
    y = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    chord = y[0] + (y[-1] - y[0]) * x
    return chord - y if curve == "convex" else y - chord


def find_elbow(ks, values, *, curve="convex"):
    """The elbow of a curve such as inertia against k, by the kneedle rule.

    The rule (Satopää et al. 2011, offline form): rescale k and the values
    to [0, 1], draw the chord from the first point to the last, and return
    the k whose point lies farthest below the chord (for a convex curve like
    inertia against k) or above it (``curve="concave"``, e.g. explained
    variance). If no point lies strictly on that side, the curve has no
    elbow and None is returned. The online version's sensitivity threshold is
    not needed when the whole curve is known.

    Parameters
    ----------
    ks : array-like of shape (m,)
        Strictly increasing candidate numbers of clusters, ``m >= 3``.
    values : array-like of shape (m,)
        The criterion at each k, e.g. ``kmeans(X, k).inertia``.
    curve : {"convex", "concave"}, default="convex"

    Returns
    -------
    k : int, float or None
        The element of `ks` at the elbow, or None.

    References
    ----------
    V. Satopää, J. Albrecht, D. Irwin and B. Raghavan, "Finding a 'kneedle'
    in a haystack: detecting knee points in system behavior", ICDCS
    Workshops 2011. Taught in "Initialization, failure cases and choosing k".

    Examples
    --------
    >>> find_elbow([1, 2, 3, 4, 5, 6], [100.0, 40.0, 10.0, 8.0, 7.0, 6.5])
    3
    >>> find_elbow([1, 2, 3], [3.0, 2.0, 1.0]) is None  # a straight line
    True
    """
    ks_arr = np.asarray(ks)
    scores = elbow_scores(ks, values, curve=curve)
    i = int(np.argmax(scores))
    if scores[i] <= 1e-12:
        return None
    return ks_arr[i].item()
