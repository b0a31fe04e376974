"""Deskewing: undo the slant of handwritten digits, from their image moments.

People slant their digits by different amounts, and to a nearest-neighbour
graph a slanted 1 and an upright 1 are far apart. Deskewing shears every
image so that its ink has no correlation between row and column, and moves
its centre of mass to the middle. The chapter "Deep clustering of MNIST"
uses it as Stage 0; it needs no labels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._validation import check_array


def image_moments(images):
    """Centre of mass and second moments of the ink of each image.

    Parameters
    ----------
    images : ndarray of shape (n, h, w), non-negative

    Returns
    -------
    centre : ndarray of shape (n, 2)
        Row and column of the centre of mass (the image centre if blank).
    var_rows, cov_rows_cols : ndarray of shape (n,)
        Variance of the ink's row coordinate, and covariance of its row and
        column coordinates (both 0 for a blank image).

    Examples
    --------
    >>> im = np.zeros((1, 5, 5)); im[0, 1, 1] = im[0, 3, 3] = 1.0   # a diagonal
    >>> centre, vr, vrc = image_moments(im)
    >>> centre.tolist(), vr.tolist(), vrc.tolist()
    ([[2.0, 2.0]], [1.0], [1.0])
    """
    n, h, w = images.shape
    r, c = np.mgrid[:h, :w].astype(float)
    mass = images.sum(axis=(1, 2))
    blank = mass == 0
    safe = np.where(blank, 1.0, mass)
    mr = np.where(blank, (h - 1) / 2, (images * r).sum(axis=(1, 2)) / safe)
    mc = np.where(blank, (w - 1) / 2, (images * c).sum(axis=(1, 2)) / safe)
    dr = r - mr[:, None, None]
    var_rows = (images * dr**2).sum(axis=(1, 2)) / safe
    cov = (images * dr * (c - mc[:, None, None])).sum(axis=(1, 2)) / safe
    return np.stack([mr, mc], axis=1), var_rows, cov


def slant(images):
    """The slant of each image: ``cov(row, col) / var(row)``, 0 where undefined.

    How many pixels the ink moves right per row down (its regression of
    column on row); 0 for a blank image or ink in a single row.

    Examples
    --------
    >>> im = np.zeros((1, 5, 5)); im[0, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]] = 1.0
    >>> slant(im).tolist()
    [1.0]
    """
    _, var_rows, cov = image_moments(images)
    return _slant(var_rows, cov)


def _slant(var_rows, cov):
    """``cov / var_rows``, 0 where the row variance is 0 (blank or one-row ink)."""
    return np.divide(cov, var_rows, out=np.zeros(len(cov)), where=var_rows > 0)


def deskew(images):
    """Shear each image so its ink is upright, and centre it.

    The slant of an image is ``alpha = cov(row, col) / var(row)``: how far
    the ink moves right per row down. Output pixel ``(i, j)`` takes the
    input at row ``i + m_r - r_0`` and column ``j + alpha (i - r_0) + m_c - c_0``
    (bilinear interpolation, 0 outside), where ``(m_r, m_c)`` is the centre of
    mass and ``(r_0, c_0) = ((h - 1)/2, (w - 1)/2)`` the image centre. Blank
    images stay blank.

    Parameters
    ----------
    images : array-like of shape (n, h, w)
        Pixels: uint8 (0-255) or floats; any non-negative intensity.

    Returns
    -------
    ndarray of shape (n, h, w), float32
        Deskewed images in the input's scale (uint8 input: floats in [0, 1]).

    References
    ----------
    Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
    applied to document recognition", Proc. IEEE 86(11), 1998 (deskewing
    lowers the error of every nearest-neighbour method on MNIST).

    Examples
    --------
    >>> im = np.zeros((1, 5, 5)); im[0, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]] = 1.0
    >>> out = deskew(im)                     # the diagonal becomes a vertical bar
    >>> np.round(out[0, :, 2], 2).tolist(), float(out[0].sum() - out[0, :, 2].sum())
    ([1.0, 1.0, 1.0, 1.0, 1.0], 0.0)
    """
    arr = np.asarray(images)
    if arr.ndim != 3:
        raise ValueError(
            f"images has shape {arr.shape}; pass a stack of 2-D images of "
            f"shape (n, height, width), e.g. images.reshape(-1, 28, 28)"
        )
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    X = check_array(arr.reshape(len(arr), -1), "images").reshape(arr.shape) / scale
    if X.min() < 0:
        raise ValueError(
            f"images has a negative pixel ({X.min()}); deskewing weighs "
            f"coordinates by ink, so pass non-negative intensities"
        )
    n, h, w = X.shape
    centre, var_rows, cov = image_moments(X)  # one pass over the stack
    alpha = _slant(var_rows, cov)
    r0, c0 = (h - 1) / 2, (w - 1) / 2
    i, j = np.mgrid[:h, :w].astype(float)
    rows = i[None] + (centre[:, 0] - r0)[:, None, None]
    cols = (
        j[None]
        + alpha[:, None, None] * (i[None] - r0)
        + (centre[:, 1] - c0)[:, None, None]
    )
    index = np.broadcast_to(np.arange(n, dtype=float)[:, None, None], rows.shape)
    # One call for the whole stack: the image index is an exact integer, so
    # the bilinear interpolation never mixes two images.
    out = ndimage.map_coordinates(
        X, [index, rows, cols], order=1, mode="constant", cval=0.0
    )
    return out.astype(np.float32)
