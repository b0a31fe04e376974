"""The book's figure vocabulary: one palette, one scatter-by-label, one image grid.

Every chapter draws with these, so a cluster has the same colour on every page
and every digit is drawn with the same colour map. matplotlib is imported only
inside the functions, so ``import lib`` (and ``import lib.plots``) stays light.
"""

from __future__ import annotations

import re

import numpy as np

# seaborn's "colorblind" palette, after Okabe and Ito: cluster j is PALETTE[j % 10].
# Hex strings, so that the list reads in the docs and needs no matplotlib.
PALETTE = (
    "#0173b2",  # blue
    "#de8f05",  # orange
    "#029e73",  # green
    "#d55e00",  # vermilion
    "#cc78bc",  # pink
    "#ca9161",  # tan
    "#fbafe4",  # light pink
    "#949494",  # grey
    "#ece133",  # yellow
    "#56b4e9",  # sky blue
)
# Ink dark on white paper, for handwritten digits, their centroids and any
# single-channel image.
IMAGE_CMAP = "gray_r"
# Noise (DBSCAN's -1) is a lighter grey than PALETTE's, drawn as crosses, so it
# never reads as a cluster.
NOISE_COLOR = "#aaaaaa"


def style():
    """Set the book's matplotlib defaults; each chapter calls it once.

    Lines and scatters without an explicit colour cycle through :data:`PALETTE`,
    and single-channel images default to :data:`IMAGE_CMAP`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> with matplotlib.rc_context():
    ...     style()
    ...     matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]
    '#0173b2'
    """
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(PALETTE))
    mpl.rcParams["image.cmap"] = IMAGE_CMAP


def scatter_by_label(
    ax,
    X,
    labels,
    centroids=None,
    *,
    names=None,
    noise_label=-1,
    s=8,
    alpha=None,
    centroid_color="black",
    centroid_size=120,
):
    """Scatter 2-D points coloured by cluster, with noise and centroids.

    Points of label ``j`` are one collection in ``PALETTE[j % 10]``, named for
    the legend (``ax.legend()`` shows it); points of ``noise_label`` are light
    grey crosses named "noise"; centroids are X marks named "centroids".

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    X : ndarray of shape (n_samples, 2)
    labels : ndarray of int of shape (n_samples,)
    centroids : ndarray of shape (k, 2), default=None
        Row ``j`` is drawn in the colour of cluster ``j`` when
        ``centroid_color=None``.
    names : dict or sequence, default=None
        Legend name of each label; ``str(label)`` by default.
    noise_label : int or None, default=-1
        The label that marks noise (DBSCAN's -1); None when there is none.
    s : float, default=8
        Marker area of the points, in points squared.
    alpha : float, default=None
    centroid_color : colour or None, default="black"
        None: each centroid in its cluster's colour, with a black edge.
    centroid_size : float, default=120

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [9.0, 0.0]])
    >>> fig, ax = plt.subplots()
    >>> ax = scatter_by_label(ax, X, [0, 0, 1, -1], centroids=X[[0, 2]])
    >>> ax.get_legend_handles_labels()[1]
    ['noise', '0', '1', 'centroids']
    >>> plt.close(fig)

    The chapter "Initialization, failure cases and choosing k" draws its
    comparisons with it.
    """
    X = np.asarray(X)
    labels = np.asarray(labels)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"X has shape {X.shape}; scatter_by_label draws 2-D points, "
            "pass an array of shape (n_samples, 2)"
        )
    if labels.shape != (len(X),):
        raise ValueError(
            f"labels has shape {labels.shape} but X has {len(X)} rows; "
            "pass one label per row of X"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels has dtype {labels.dtype}; pass integer cluster labels")
    noise = labels == noise_label if noise_label is not None else np.zeros(len(X), bool)
    if noise.any():
        ax.scatter(*X[noise].T, s=s, c=NOISE_COLOR, marker="x", lw=0.8, label="noise")
    for j in np.unique(labels[~noise]):
        name = str(j) if names is None else names[j]
        ax.scatter(
            *X[labels == j].T, s=s, c=PALETTE[j % len(PALETTE)], alpha=alpha, label=name
        )
    if centroids is not None:
        centroids = np.asarray(centroids)
        if centroid_color is None:
            colors = [PALETTE[j % len(PALETTE)] for j in range(len(centroids))]
            edge = dict(edgecolors="black", linewidths=1.5)
        else:
            colors, edge = centroid_color, {}
        ax.scatter(
            *centroids.T,
            marker="X",
            s=centroid_size,
            c=colors,
            zorder=3,
            label="centroids",
            **edge,
        )
    return ax


def image_grid(
    images,
    *,
    ncols=10,
    titles=None,
    row_labels=None,
    col_labels=None,
    cmap=IMAGE_CMAP,
    vmin=None,
    vmax=None,
    figsize=None,
    fontsize=9,
):
    """Images in a grid of axes, without ticks, in one colour map.

    Parameters
    ----------
    images : ndarray of shape (n, h, w), (n, h * w), (n, h, w, 3), or a list
        Flat rows of a square image (MNIST's 784 pixels) are reshaped to
        ``(h, h)``; a list may hold images of different sizes (photographs).
    ncols : int, default=10
        Images per row; the grid has ``ceil(n / ncols)`` rows.
    titles : sequence of str, default=None
        One title per image.
    row_labels : sequence of str, default=None
        One label per row, left of its first image.
    col_labels : sequence of str, default=None
        One label per column, above the first row; not with ``titles``.
    cmap : str, default=IMAGE_CMAP
        For single-channel images; RGB images keep their colours.
    vmin, vmax : float, default=None
        The grey scale's ends; by default each image is scaled to its own range.
    figsize : (float, float), default=None
        ``(ncols, nrows)`` inches, a little taller with titles.
    fontsize : float, default=9

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : ndarray of Axes of shape (nrows, ncols)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, axes = image_grid(np.zeros((12, 784)), ncols=5)
    >>> axes.shape
    (3, 5)
    >>> plt.close(fig)

    The chapters "Data" and "MNIST: k-means on raw pixels" draw their digits
    with it.
    """
    import matplotlib.pyplot as plt

    images = [_as_image(np.asarray(im)) for im in images]
    n = len(images)
    if n == 0:
        raise ValueError("images is empty; pass at least one image")
    if ncols < 1:
        raise ValueError(f"ncols={ncols}; pass ncols >= 1")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    for name, values, want, what in [
        ("titles", titles, n, "images"),
        ("row_labels", row_labels, nrows, "rows"),
        ("col_labels", col_labels, ncols, "columns"),
    ]:
        if values is not None and len(values) != want:
            raise ValueError(
                f"{name} has {len(values)} entries for {want} {what}; pass {want}"
            )
    if titles is not None and col_labels is not None:
        raise ValueError("pass titles or col_labels, not both")
    if figsize is None:
        figsize = (ncols, nrows * (1.25 if titles is not None else 1.0))
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
        # Ticks and frame off, but not the axis, so that a row label shows.
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if titles is not None:
            ax.set_title(titles[i], fontsize=fontsize)
    for ax, label in zip(axes[:, 0], row_labels or []):
        ax.set_ylabel(label, fontsize=fontsize)
    for ax, label in zip(axes[0], col_labels or []):
        ax.set_title(label, fontsize=fontsize)
    return fig, axes


def _as_image(image):
    # A flat row of h * h pixels is an h-by-h image (MNIST's 784 = 28 * 28).
    if image.ndim == 1:
        side = int(round(np.sqrt(image.size)))
        if side * side != image.size:
            raise ValueError(
                f"an image is a flat row of {image.size} pixels, not a square; "
                "pass images of shape (h, w)"
            )
        return image.reshape(side, side)
    return image


def objective_curve(
    ax,
    values,
    x=None,
    *,
    start=0,
    fmt="o-",
    log=False,
    xlabel="iteration",
    ylabel="objective",
    **kwargs,
):
    """The objective against the iteration: how a run converged.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : array-like of shape (n_steps,)
        The objective after each step (``result.history.inertia``).
    x : array-like of shape (n_steps,), default=None
        Where the steps sit on the x-axis (epochs, seconds, k); by default the
        iterations ``start, start + 1, ...``.
    start : int, default=0
        The first iteration's number: 0 for a history that starts with the
        initialization, 1 for epochs.
    fmt : str, default="o-"
        matplotlib's line format.
    log : bool, default=False
        A logarithmic y-axis, for objectives that fall by orders of magnitude.
    xlabel, ylabel : str or None, default="iteration", "objective"
        None leaves the axis label as it is.
    **kwargs
        Passed to ``ax.plot``: ``color``, ``label``, ``lw``, ``ms``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = objective_curve(ax, [9.0, 4.0, 3.5], ylabel="inertia")
    >>> ax.lines[0].get_xdata().tolist(), ax.get_ylabel()
    ([0, 1, 2], 'inertia')
    >>> plt.close(fig)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(
            f"values has shape {values.shape}; pass one objective value per step"
        )
    if x is None:
        x = np.arange(start, start + len(values))
    elif len(x) != len(values):
        raise ValueError(
            f"x has {len(x)} entries for {len(values)} values; pass one per value"
        )
    ax.plot(x, values, fmt, **kwargs)
    if log:
        ax.set_yscale("log")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


_CDN_LINK = re.compile(
    r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*'
)


def animation_html(anim, *, default_mode="once"):
    """A matplotlib animation as self-contained HTML that plays on a static site.

    ``Animation.to_jshtml`` links Font Awesome 4 from a CDN for its buttons; the
    book's theme already serves Font Awesome itself, and the site must render
    without internet access, so the link is dropped.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    default_mode : {"once", "loop", "reflect"}, default="once"

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    return HTML(_CDN_LINK.sub("", anim.to_jshtml(default_mode=default_mode)))


def covariance_ellipse(ax, mean, cov, *, n_std=1.0, **kwargs):
    """The ellipse ``(x - mean)^T cov^{-1} (x - mean) = n_std**2`` of a 2-D Gaussian.

    Its axes are the eigenvectors of ``cov``, with half-lengths ``n_std`` times
    the square roots of the eigenvalues: the contour of the Mahalanobis
    distance ``n_std`` from ``mean``. The set ``{x : x^T S x = c}`` of a
    quadratic form ``S`` is the ellipse of ``cov = inv(S)`` and
    ``n_std = sqrt(c)``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    mean : array-like of shape (2,)
    cov : array-like of shape (2, 2)
        Symmetric positive definite.
    n_std : float, default=1.0
        The Mahalanobis radius of the contour.
    **kwargs
        Passed to ``matplotlib.patches.Ellipse``: ``edgecolor``, ``lw``,
        ``ls``, ``label``; the ellipse is not filled unless ``facecolor`` is
        given.

    Returns
    -------
    matplotlib.patches.Ellipse

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> e = covariance_ellipse(ax, [0, 0], [[4.0, 0.0], [0.0, 1.0]], n_std=2)
    >>> float(e.width), float(e.height), float(e.angle) % 180
    (8.0, 4.0, 0.0)
    >>> plt.close(fig)

    The chapter "The mathematics of k-means" draws its Mahalanobis balls and
    the wines' covariance with it.
    """
    from matplotlib.patches import Ellipse

    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if mean.shape != (2,) or cov.shape != (2, 2):
        raise ValueError(
            f"mean has shape {mean.shape} and cov {cov.shape}; "
            "pass a mean of shape (2,) and a cov of shape (2, 2)"
        )
    if not np.allclose(cov, cov.T):
        raise ValueError(f"cov={cov.tolist()} is not symmetric; pass a covariance")
    vals, vecs = np.linalg.eigh(cov)
    if vals[0] <= 0:
        raise ValueError(
            f"cov has eigenvalues {vals.tolist()}; pass a positive definite matrix"
        )
    if not n_std > 0:
        raise ValueError(f"n_std={n_std!r}; pass a positive radius")
    # eigh sorts ascending: the last eigenvector is the long axis.
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    kwargs.setdefault("facecolor", "none")
    kwargs.setdefault("edgecolor", "black")
    ellipse = Ellipse(
        mean,
        width=2 * n_std * np.sqrt(vals[1]),
        height=2 * n_std * np.sqrt(vals[0]),
        angle=angle,
        **kwargs,
    )
    ax.add_patch(ellipse)
    return ellipse


def draw_graph(ax, A, pos, *, labels=None, names=None, node_size=600, fontsize=11):
    """A small graph: its edges as lines, its nodes as named discs.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    A : array-like of shape (n_nodes, n_nodes)
        Symmetric adjacency; an edge is drawn for every ``A[i, j] > 0``,
        ``i < j``, with a line width that grows with the weight.
    pos : array-like of shape (n_nodes, 2)
        Where each node sits.
    labels : array-like of int of shape (n_nodes,), default=None
        Node ``i`` is filled with ``PALETTE[labels[i] % 10]`` (a component or
        a cluster); white by default.
    names : sequence of str, default=None
        Written on the nodes; ``1, 2, ...`` by default, as a text numbers them.
    node_size : float, default=600
        Disc area in points squared.
    fontsize : float, default=11

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> A = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> ax = draw_graph(ax, A, [[0, 0], [1, 0], [2, 0]], labels=[0, 0, 1])
    >>> len(ax.lines), [t.get_text() for t in ax.texts]
    (1, ['1', '2', '3'])
    >>> plt.close(fig)

    The chapter "Spectral clustering and the political blogs" draws its small
    example with it.
    """
    A = np.asarray(A, dtype=float)
    pos = np.asarray(pos, dtype=float)
    n = len(A)
    if A.ndim != 2 or A.shape != (n, n) or not np.allclose(A, A.T):
        raise ValueError(
            f"A has shape {A.shape}; pass a symmetric (n_nodes, n_nodes) adjacency"
        )
    if pos.shape != (n, 2):
        raise ValueError(
            f"pos has shape {pos.shape} for {n} nodes; pass one (x, y) per node"
        )
    for arg, values in (("labels", labels), ("names", names)):
        if values is not None and len(values) != n:
            raise ValueError(f"{arg} has {len(values)} entries for {n} nodes")
    colors = (
        ["white"] * n
        if labels is None
        else [PALETTE[int(j) % len(PALETTE)] for j in labels]
    )
    names = [str(i + 1) for i in range(n)] if names is None else names
    top = A.max() if A.size and A.max() > 0 else 1.0
    for i, j in zip(*np.nonzero(np.triu(A, 1))):
        ax.plot(*pos[[i, j]].T, color="black", lw=1 + 2 * A[i, j] / top, zorder=1)
    ax.scatter(*pos.T, s=node_size, c=colors, edgecolors="black", zorder=2)
    for (x, y), name in zip(pos, names):
        ax.text(x, y, name, ha="center", va="center", fontsize=fontsize, zorder=3)
    ax.set_aspect("equal")
    ax.margins(0.15)
    ax.set_axis_off()
    return ax
