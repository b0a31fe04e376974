"""Colour quantization: an image's pixels clustered in RGB space.

Taught in the chapter "Image compression by colour quantization", which runs
k-means (L2) and k-medians (L1) from :func:`lib.kmeans` on photographs and
measures the quality (MSE, PSNR) and the size (palette plus indices) of the
result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import check_choice, check_int, check_random_state
from .distances import METRICS, assign
from .lloyd import kmeans


def _check_image(image, name="image"):
    """Return `image` as a float64 (height, width, 3) array with values in [0, 255]."""
    if isinstance(image, (str, bytes)) or image is None:
        raise TypeError(
            f"{name} must be an array of shape (height, width, 3), got "
            f"{type(image).__name__}; load it first, e.g. with "
            f"lib.datasets.load_image"
        )
    arr = np.asarray(image)
    if not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ) or np.iscomplexobj(arr):
        raise TypeError(
            f"{name} must hold real numbers, got dtype {arr.dtype}; "
            f"pass uint8 RGB values"
        )
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (height, width, 3) with RGB channels, got "
            f"shape {arr.shape}; drop an alpha channel with {name}[..., :3] or "
            f"stack a grey image with np.repeat({name}[..., None], 3, axis=2)"
        )
    floating = arr.dtype.kind == "f"
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name} contains NaN or infinity; pass RGB values in [0, 255]"
        )
    if floating and 0 < float(arr.max()) <= 1.0 and float(arr.min()) >= 0:
        # Read as 0..255 it would be black: almost surely an image in [0, 1].
        raise ValueError(
            f"{name} is a float image with values in [0, 1]; lib works in 8-bit "
            f"units: pass ({name} * 255).round().astype(np.uint8)"
        )
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 255:
        raise ValueError(
            f"{name} has values in [{lo:g}, {hi:g}], outside [0, 255]; pass "
            f"8-bit RGB values (multiply an image in [0, 1] by 255)"
        )
    return arr


@dataclass
class QuantizedImage:
    """The result of :func:`quantize_image`.

    Attributes
    ----------
    labels : ndarray of shape (height, width), int
        Palette index of every pixel, **0-based** (``labels + 1`` gives the
        1..k numbering some assignments ask for).
    palette : ndarray of shape (k, 3), float64
        The cluster centres, RGB in [0, 255]: means (k-means) or
        coordinate-wise medians (k-medians).
    inertia : float
        The objective on the pixels used for the fit (squared L2 or L1).
    n_iter : int
    converged : bool
    n_fit : int
        Number of pixels the palette was fitted on (all, or `sample_size`).
    metric : str
    """

    labels: np.ndarray
    palette: np.ndarray
    inertia: float
    n_iter: int
    converged: bool
    n_fit: int
    metric: str

    def reconstruct(self):
        """The quantized image, uint8 of shape (height, width, 3)."""
        return reconstruct(self.labels, self.palette)


def quantize_image(
    image,
    k,
    *,
    metric="sqeuclidean",
    init="k-means++",
    n_init=1,
    max_iter=300,
    tol=1e-4,
    sample_size=None,
    sample_seed=None,
    seed=None,
    working_memory=None,
):
    """Reduce an image to `k` colours by clustering its pixels in RGB space.

    Every pixel is a point in [0, 255]^3. :func:`lib.kmeans` finds `k`
    centres (the palette), optionally on a random subsample of the pixels,
    and then every pixel of the image is assigned to its nearest palette
    colour in chunks of rows, so memory stays bounded.

    Parameters
    ----------
    image : array-like of shape (height, width, 3)
        RGB values in [0, 255], e.g. uint8 from :func:`lib.datasets.load_image`.
    k : int
        Number of colours (clusters), at most the number of distinct colours
        fitted on.
    metric : {"sqeuclidean", "manhattan"}, default="sqeuclidean"
        k-means (mean update) or k-medians (L1 assignment, median update).
    init, n_init, max_iter, tol, working_memory
        Passed to :func:`lib.kmeans`.
    sample_size : int, optional
        Fit the palette on this many pixels drawn without replacement; all
        pixels are labelled afterwards. Default: fit on all pixels.
    sample_seed : None, int or np.random.Generator, default=None
        Seed of the subsample; None uses `seed`. Pass one `sample_seed` with
        several `seed` values so that the runs fit the same pixels and their
        objectives compare.
    seed : None, int or np.random.Generator
        Seed of the initialization.

    Returns
    -------
    QuantizedImage
        ``labels`` (height, width) 0-based, ``palette`` (k, 3) in [0, 255],
        ``inertia``, ``n_iter``, ``converged``, ``n_fit``, ``metric`` and the
        method ``reconstruct()``.

    References
    ----------
    P. Heckbert, "Color image quantization for frame buffer display",
    SIGGRAPH 1982. S. P. Lloyd, "Least squares quantization in PCM", 1982.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> img[:, 1:] = [250, 10, 10]
    >>> img[1, 2] = [240, 0, 0]
    >>> q = quantize_image(img, 2, seed=0)
    >>> q.labels.shape, q.palette.shape
    ((2, 3), (2, 3))
    >>> sorted(q.palette.tolist())
    [[0.0, 0.0, 0.0], [247.5, 7.5, 7.5]]
    >>> q.reconstruct()[1, 2].tolist()
    [248, 8, 8]
    """
    img = _check_image(image)
    height, width, _ = img.shape
    pixels = img.reshape(-1, 3)
    n = pixels.shape[0]
    check_choice(metric, "metric", METRICS)
    fit = pixels
    if sample_size is not None:
        sample_size = check_int(sample_size, "sample_size")
        if sample_size < n:
            if sample_seed is None:
                rng = check_random_state(seed)
            else:
                rng = check_random_state(sample_seed, "sample_seed")
            fit = pixels[np.sort(rng.choice(n, size=sample_size, replace=False))]
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k > len(fit):
        raise ValueError(
            f"k={k} is larger than the number of pixels fitted on ({len(fit)}); "
            f"choose k <= {len(fit)} or a larger sample_size"
        )
    res = kmeans(
        fit,
        k,
        init=init,
        metric=metric,
        n_init=n_init,
        max_iter=max_iter,
        tol=tol,
        seed=seed,
        working_memory=working_memory,
    )
    labels = (
        res.labels
        if fit is pixels
        else assign(pixels, res.centroids, metric, working_memory=working_memory)
    )
    return QuantizedImage(
        labels.reshape(height, width),
        np.clip(res.centroids, 0, 255),
        res.inertia,
        res.n_iter,
        res.converged,
        len(fit),
        metric,
    )


def reconstruct(labels, palette):
    """Paint every pixel with its palette colour, rounded to uint8.

    Parameters
    ----------
    labels : ndarray of shape (height, width), int in [0, k)
    palette : ndarray of shape (k, 3), values in [0, 255]

    Returns
    -------
    image : ndarray of uint8 and shape (height, width, 3)

    Examples
    --------
    >>> import numpy as np
    >>> palette = np.array([[0.4, 0.6, 255.0], [9.5, 10.5, 0.0]])
    >>> reconstruct(np.array([[0, 1]]), palette).tolist()
    [[[0, 1, 255], [10, 10, 0]]]
    """
    labels = np.asarray(labels)
    palette = np.asarray(palette, dtype=np.float64)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f"palette must have shape (k, 3), got {palette.shape}")
    if (
        not np.issubdtype(labels.dtype, np.integer)
        or labels.size
        and (labels.min() < 0 or labels.max() >= len(palette))
    ):
        raise ValueError(
            f"labels must be integers in [0, {len(palette)}) for a palette of "
            f"{len(palette)} colours; 1-based labels need labels - 1"
        )
    colours = np.rint(np.clip(palette, 0, 255)).astype(np.uint8)
    return colours[labels]


def _pair(original, reconstruction):
    a = _check_image(original, "original")
    b = _check_image(reconstruction, "reconstruction")
    if a.shape != b.shape:
        raise ValueError(
            f"original has shape {a.shape} but reconstruction has shape "
            f"{b.shape}; compare images of the same size"
        )
    return a, b


def error_map(original, reconstruction, metric="sqeuclidean"):
    """Per-pixel error, shape (height, width): squared L2 or L1 over the 3 channels.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((1, 2, 3)); b = np.array([[[0, 0, 0], [1, 2, 2]]])
    >>> error_map(a, b).tolist(), error_map(a, b, "manhattan").tolist()
    ([[0.0, 9.0]], [[0.0, 5.0]])
    """
    a, b = _pair(original, reconstruction)
    check_choice(metric, "metric", METRICS)
    diff = a - b
    return (
        np.abs(diff).sum(axis=2)
        if metric == "manhattan"
        else np.einsum("ijc,ijc->ij", diff, diff)
    )


def mse(original, reconstruction):
    """Mean squared error per channel value, in (0-255 units)^2.

    Examples
    --------
    >>> import numpy as np
    >>> float(mse(np.zeros((1, 2, 3)), np.full((1, 2, 3), 2.0)))
    4.0
    """
    a, b = _pair(original, reconstruction)
    return float(np.mean((a - b) ** 2))


def psnr(original, reconstruction):
    """Peak signal-to-noise ratio in dB, ``10 log10(255^2 / MSE)``; inf if identical.

    Examples
    --------
    >>> import numpy as np
    >>> round(psnr(np.zeros((1, 1, 3)), np.full((1, 1, 3), 255.0)), 6)
    0.0
    >>> round(psnr(np.zeros((1, 1, 3), np.uint8), np.ones((1, 1, 3), np.uint8)), 2)
    48.13
    """
    err = mse(original, reconstruction)
    return math.inf if err == 0 else 10.0 * math.log10(255.0**2 / err)


@dataclass
class SizeReport:
    """Bytes of an image stored as 24-bit RGB and as palette plus indices."""

    n_pixels: int
    k: int
    index_bits: int  # ceil(log2 k) bits per pixel
    palette_bytes: int  # 3 bytes (uint8 RGB) per palette colour
    index_bytes: int  # the packed indices, ceil(n_pixels * index_bits / 8)
    compressed_bytes: int  # palette_bytes + index_bytes
    original_bytes: int  # 3 bytes per pixel
    ratio: float  # original_bytes / compressed_bytes
    bits_per_pixel: float  # 8 * compressed_bytes / n_pixels, palette included


def compressed_size(n_pixels, k):
    """Size accounting for a `k`-colour palette image against 24 bits per pixel.

    Each pixel stores a palette index in ``ceil(log2 k)`` bits (0 bits for
    ``k = 1``), packed; the palette stores 3 bytes per colour. No entropy
    coding: this is the size a plain indexed-colour file would need.

    Parameters
    ----------
    n_pixels : int
        height * width.
    k : int
        Number of palette colours (clusters).

    Returns
    -------
    SizeReport

    Examples
    --------
    >>> r = compressed_size(640 * 427, 16)
    >>> r.index_bits, r.palette_bytes, r.index_bytes, r.original_bytes
    (4, 48, 136640, 819840)
    >>> round(r.ratio, 3), round(r.bits_per_pixel, 4)
    (5.998, 4.0014)
    """
    n_pixels = check_int(n_pixels, "n_pixels")
    k = check_int(k, "k")
    bits = (k - 1).bit_length()  # == ceil(log2 k), exactly, for every k >= 1
    palette_bytes = 3 * k
    index_bytes = -(-n_pixels * bits // 8)
    total = palette_bytes + index_bytes
    return SizeReport(
        n_pixels,
        k,
        bits,
        palette_bytes,
        index_bytes,
        total,
        3 * n_pixels,
        3 * n_pixels / total,
        8 * total / n_pixels,
    )


# sRGB (IEC 61966-2-1) with the D65 white point, as in CIE 15:2004.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = _RGB_TO_XYZ.sum(axis=1)
_EPS, _KAPPA = 216 / 24389, 24389 / 27


def rgb_to_lab(rgb):
    """sRGB values in [0, 255] to CIELAB (D65), any shape (..., 3).

    In CIELAB, Euclidean distance roughly follows perceived colour difference;
    the first exercise of the colour-quantization chapter's exercise page
    quantizes there.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(rgb_to_lab(np.array([[255, 255, 255], [0, 0, 0]])), 6).tolist()
    [[100.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    t = (lin @ _RGB_TO_XYZ.T) / _WHITE
    f = np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16) / 116)
    return np.stack(
        [
            116 * f[..., 1] - 16,
            500 * (f[..., 0] - f[..., 1]),
            200 * (f[..., 1] - f[..., 2]),
        ],
        axis=-1,
    )


def lab_to_rgb(lab):
    """CIELAB (D65) to sRGB in [0, 255] (float, clipped to the gamut), shape (..., 3).

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[12.0, 200.0, 99.0]])
    >>> np.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb)
    True
    """
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    t = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA)
    lin = (t * _WHITE) @ np.linalg.inv(_RGB_TO_XYZ).T
    lin = np.clip(lin, 0, 1)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(255 * c, 0, 255)


def floyd_steinberg(image, palette):
    """Error-diffusion dithering to a fixed palette (Floyd and Steinberg, 1976).

    Pixels are visited row by row; each takes its nearest palette colour
    (squared L2) and pushes its quantization error onto the unvisited
    neighbours with weights 7/16 (right), 3/16, 5/16, 1/16 (next row). The
    scan is sequential by nature, so this is a Python loop: use it on crops.

    Parameters
    ----------
    image : array-like of shape (height, width, 3), values in [0, 255]
    palette : array-like of shape (k, 3)

    Returns
    -------
    labels : ndarray of shape (height, width)
        Palette indices; paint them with :func:`reconstruct`.

    References
    ----------
    R. W. Floyd and L. Steinberg, "An adaptive algorithm for spatial
    greyscale", Proc. SID 17(2), 1976.

    Examples
    --------
    >>> import numpy as np
    >>> grey = np.full((2, 4, 3), 127.5)       # half-way between black and white
    >>> labels = floyd_steinberg(grey, np.array([[0.0] * 3, [255.0] * 3]))
    >>> labels.tolist()                         # the mean colour is kept
    [[0, 1, 0, 1], [1, 0, 1, 0]]
    """
    img = _check_image(image).copy()
    pal = np.asarray(palette, dtype=np.float64)
    if pal.ndim != 2 or pal.shape[1] != 3 or len(pal) == 0:
        raise ValueError(f"palette must have shape (k, 3) with k >= 1, got {pal.shape}")
    height, width, _ = img.shape
    labels = np.empty((height, width), dtype=np.intp)
    for i in range(height):
        for j in range(width):
            old = img[i, j]
            lab = int(np.argmin(((pal - old) ** 2).sum(axis=1)))
            labels[i, j] = lab
            err = old - pal[lab]
            if j + 1 < width:
                img[i, j + 1] += err * (7 / 16)
            if i + 1 < height:
                if j > 0:
                    img[i + 1, j - 1] += err * (3 / 16)
                img[i + 1, j] += err * (5 / 16)
                if j + 1 < width:
                    img[i + 1, j + 1] += err * (1 / 16)
    return labels
