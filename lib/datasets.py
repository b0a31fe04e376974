"""The book's data: MNIST, the political blogs, photographs, embeddings.

Every downloaded file goes through one mechanism, :func:`fetch` (in
``lib/datafiles.py``): a ready copy in ``$CFS_DATA_DIR``, else the cache
(``$CFS_CACHE_DIR`` or ``pooch.os_cache("clustering-from-scratch")``), else a
pooch download checked against the SHA-256 that the registry records. The
appendix "Data" (``book/data.ipynb``) describes each data set, its source,
its licence and how to work offline.

Environment variables
---------------------
CFS_DATA_DIR
    A folder of ready copies laid out as ``mnist/t10k-images-idx3-ubyte.gz``,
    ``polblogs/polblogs.gml``, ... A file found there with the right hash is
    used without touching the network; one with the wrong hash is an error.
CFS_CACHE_DIR
    Where downloads are cached, instead of the per-user cache folder.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._chunks import chunks
from ._validation import check_float, check_int, check_random_state
from .datafiles import (
    CACHE_DIR_ENV,
    FILES,
    CacheDirError,
    CorruptDataError,
    DataNotFoundError,
    HashMismatchError,
    UnsafeArchiveError,
    cache_dir,
    fetch,
)

__all__ = [
    "Graph",
    "load_image",
    "load_mnist",
    "load_polblogs",
    "make_embeddings",
    "fetch",
    "cache_dir",
    "FILES",
    "CacheDirError",
    "CorruptDataError",
    "DataNotFoundError",
    "HashMismatchError",
    "UnsafeArchiveError",
]

# ----------------------------------------------------------------------------
# MNIST
# ----------------------------------------------------------------------------

# split -> (images file, labels file, number of examples)
_MNIST = {
    "train": (
        "mnist/train-images-idx3-ubyte.gz",
        "mnist/train-labels-idx1-ubyte.gz",
        60_000,
    ),
    "test": (
        "mnist/t10k-images-idx3-ubyte.gz",
        "mnist/t10k-labels-idx1-ubyte.gz",
        10_000,
    ),
}
_IDX_UBYTE = 0x08


def _read_idx(path, shape):
    """Read a gzip'd IDX file of unsigned bytes and check its header.

    Parameters
    ----------
    path : path-like
        The ``.gz`` file.
    shape : tuple of int
        The expected dimensions, e.g. ``(10000, 28, 28)`` or ``(10000,)``.

    Returns
    -------
    data : ndarray of uint8 and shape ``shape``
    """
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptDataError(
            f"{path} is not a complete gzip file ({type(exc).__name__}: {exc}); "
            f"delete it and load again to get a fresh copy"
        ) from exc
    ndim = len(shape)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataError(
            f"{path}: {len(raw)} bytes is too short for an IDX header; "
            f"the file is truncated"
        )
    magic = raw[:4]
    if magic[:2] != b"\0\0" or magic[2] != _IDX_UBYTE or magic[3] != ndim:
        raise CorruptDataError(
            f"{path}: IDX magic number {magic.hex()} is not "
            f"0000{_IDX_UBYTE:02x}{ndim:02x} (unsigned bytes, {ndim} dimensions)"
        )
    dims = tuple(int(v) for v in np.frombuffer(raw, ">u4", ndim, offset=4))
    if dims != tuple(shape):
        raise CorruptDataError(
            f"{path}: IDX dimensions {dims} differ from the expected {tuple(shape)}"
        )
    expected = int(np.prod(shape)) + header
    if len(raw) != expected:
        raise CorruptDataError(
            f"{path}: {len(raw)} bytes after decompression, expected {expected} "
            f"for dimensions {dims}; the file is truncated or padded"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()


def _load_mnist_split(split):
    images_name, labels_name, n = _MNIST[split]
    images = _read_idx(fetch(images_name), (n, 28, 28))
    labels_path = fetch(labels_name)
    labels = _read_idx(labels_path, (n,)).astype(np.int64)
    if labels.max(initial=0) > 9:
        raise CorruptDataError(
            f"{labels_path}: label {labels.max()} is not a digit 0-9"
        )
    return images, labels


def load_mnist(split="test"):
    """The MNIST handwritten digits.

    The gzip'd IDX files are fetched (see :func:`fetch`) and parsed here; the
    magic numbers, dimensions and counts are checked.

    Parameters
    ----------
    split : {"test", "train", "all"}, default="test"
        ``"test"``: 10,000 digits (the only split with an offline copy in CI).
        ``"train"``: 60,000 digits. ``"all"``: the training digits followed by
        the test digits, 70,000 in all.

    Returns
    -------
    images : ndarray of uint8 and shape (n, 28, 28)
        Grey levels, 0 (background) to 255 (ink).
    labels : ndarray of int64 and shape (n,)
        The digit, 0 to 9.

    Raises
    ------
    CorruptDataError
        A file is truncated or not in IDX format (the message names it).

    References
    ----------
    Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
    handwritten digits". Used in the chapters on k-means and on embeddings.
    """
    if split not in ("test", "train", "all"):
        raise ValueError(
            f"split={split!r} is not a MNIST split; use 'test', 'train' or 'all'"
        )
    if split != "all":
        return _load_mnist_split(split)
    parts = [_load_mnist_split(s) for s in ("train", "test")]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
    )


# ----------------------------------------------------------------------------
# Political blogs
# ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected simple graph with a label per node.

    Attributes
    ----------
    adjacency : scipy.sparse.csr_array of float64 and shape (n_nodes, n_nodes)
        Symmetric 0/1 matrix with an empty diagonal.
    labels : ndarray of int64 and shape (n_nodes,)
        The ground-truth community of each node (for the blogs: 0 liberal,
        1 conservative).
    names : ndarray of str and shape (n_nodes,)
        Node names (for the blogs: the blog's URL).
    sources : ndarray of str and shape (n_nodes,)
        Where each node's label came from (for the blogs: comma-separated
        directory names such as ``"Blogarama,BlogCatalog"``).
    """

    adjacency: object
    labels: np.ndarray
    names: np.ndarray
    sources: np.ndarray

    @property
    def n_nodes(self):
        """Number of nodes."""
        return self.adjacency.shape[0]

    @property
    def n_edges(self):
        """Number of undirected edges."""
        return int(self.adjacency.nnz // 2)

    @property
    def degrees(self):
        """ndarray of int64 and shape (n_nodes,): the degree of every node."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    def subgraph(self, nodes):
        """The graph induced by ``nodes`` (indices or a boolean mask)."""
        nodes = np.arange(self.n_nodes)[np.asarray(nodes)]
        a = self.adjacency[nodes][:, nodes]
        return Graph(
            a.tocsr(), self.labels[nodes], self.names[nodes], self.sources[nodes]
        )

    def __repr__(self):
        return f"Graph(n_nodes={self.n_nodes}, n_edges={self.n_edges})"


def _graph_from_gml(path):
    from scipy import sparse

    from ._gml import read_gml

    nodes, edges, _ = read_gml(path)
    index = {}
    for i, node in enumerate(nodes):
        if "id" not in node:
            raise CorruptDataError(f"{path}: GML node {i} has no id")
        index[node["id"]] = i
    try:
        pairs = np.array(
            [(index[s], index[t]) for s, t in edges], dtype=np.int64
        ).reshape(-1, 2)
    except KeyError as exc:
        raise CorruptDataError(
            f"{path}: an edge names node {exc}, which is not declared"
        ) from exc
    n = len(nodes)
    # Directed, repeated edges and self-loops become one undirected edge, no
    # loops: a link either way says the two blogs are related.
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    a = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0
    labels = np.array([int(node.get("value", -1)) for node in nodes], dtype=np.int64)
    names = np.array([str(node.get("label", node["id"])) for node in nodes])
    sources = np.array([str(node.get("source", "")) for node in nodes])
    return Graph(a, labels, names, sources)


def load_polblogs(*, drop_isolated=False, giant_component=False):
    """The political blogs of the 2004 US election, as an undirected graph.

    Links between 1,490 blogs crawled in February 2005, each blog labelled
    liberal (0) or conservative (1). The file is a directed multigraph; here a
    link in either direction, once or many times, is one undirected edge, and
    the 3 self-loops are dropped: 16,715 edges.

    Parameters
    ----------
    drop_isolated : bool, default=False
        Drop the 266 blogs without links (1,224 remain).
    giant_component : bool, default=False
        Keep only the largest connected component (1,222 blogs); implies
        ``drop_isolated``.

    Returns
    -------
    graph : Graph
        ``graph.adjacency`` is a symmetric 0/1 ``scipy.sparse.csr_array``;
        ``graph.labels`` holds 0 (liberal) or 1 (conservative).

    References
    ----------
    L. A. Adamic and N. Glance, "The political blogosphere and the 2004 US
    Election", WWW-2005 Workshop on the Weblogging Ecosystem (2005). Used in
    the chapter on spectral clustering.
    """
    for arg, value in (
        ("drop_isolated", drop_isolated),
        ("giant_component", giant_component),
    ):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{arg}={value!r} must be True or False")
    graph = _graph_from_gml(fetch("polblogs/polblogs.gml"))
    if giant_component:
        from scipy.sparse.csgraph import connected_components

        _, comp = connected_components(graph.adjacency, directed=False)
        biggest = np.argmax(np.bincount(comp))
        return graph.subgraph(comp == biggest)
    if drop_isolated:
        return graph.subgraph(graph.degrees > 0)
    return graph


# ----------------------------------------------------------------------------
# Photographs
# ----------------------------------------------------------------------------

# Bundled with scikit-learn, so no download: see sklearn/datasets/images/.
_SAMPLE_IMAGES = {"china": "china.jpg", "flower": "flower.jpg"}


def load_image(name_or_path, *, sha256=None):
    """A colour photograph as an RGB array.

    Parameters
    ----------
    name_or_path : str or path-like
        ``"china"`` or ``"flower"`` (the photographs bundled with
        scikit-learn), a local file, or an ``http(s)://`` URL (downloaded once
        into the cache).
    sha256 : str, optional
        For a URL: the expected SHA-256 of the file. Without it a URL's
        content is trusted as downloaded.

    Returns
    -------
    image : ndarray of uint8 and shape (height, width, 3)
        Transparent pixels are composited on white; palette images are
        expanded; a greyscale image is repeated into three channels (with a
        warning).

    Raises
    ------
    FileNotFoundError
        ``name_or_path`` is not a known name, a file or a URL.
    CorruptDataError
        The file cannot be read as an image (the message names it).

    References
    ----------
    Used in the chapter on colour quantisation.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"name_or_path={name_or_path!r} must be a name, a path or a URL "
            f"(str or path-like)"
        )
    key = str(name_or_path)
    if key in _SAMPLE_IMAGES or key in _SAMPLE_IMAGES.values():
        from sklearn.datasets import load_sample_image

        image = load_sample_image(_SAMPLE_IMAGES.get(key, key))
        return np.ascontiguousarray(image, dtype=np.uint8)
    if key.startswith(("http://", "https://")):
        path = _fetch_url(key, sha256)
    else:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"name_or_path={key!r} is neither a named image "
                f"({', '.join(map(repr, _SAMPLE_IMAGES))}) nor an existing file "
                f"nor an http(s) URL; check the path"
            )
    return _read_image(path)


def _fetch_url(url, sha256):
    import hashlib

    import pooch
    import requests

    from .datafiles import downloader

    known = None if sha256 is None else f"sha256:{sha256}"
    fname = (
        hashlib.sha256(url.encode()).hexdigest()[:16]
        + "-"
        + (Path(url.split("?")[0]).name or "image")
    )
    try:
        return Path(
            pooch.retrieve(
                url,
                known_hash=known,
                fname=fname,
                path=cache_dir() / "images",
                downloader=downloader(url),
            )
        )
    except requests.exceptions.RequestException as exc:
        raise DataNotFoundError(
            f"name_or_path={url!r} could not be downloaded ({exc}); download "
            f"it yourself and pass the local path"
        ) from exc
    except ValueError as exc:
        raise HashMismatchError(f"{url}: {exc}") from exc
    except OSError as exc:  # after RequestException, which is an OSError too
        raise CacheDirError(
            f"name_or_path={url!r} cannot be cached in {cache_dir() / 'images'} "
            f"({type(exc).__name__}: {exc}); set {CACHE_DIR_ENV} to a writable "
            f"folder (now {os.environ.get(CACHE_DIR_ENV)!r}), or download the image "
            f"yourself and pass its local path"
        ) from exc


def _read_image(path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            image = _to_rgb(img, path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptDataError(
            f"{path} cannot be read as an image ({type(exc).__name__}: {exc}); "
            f"check that it is a PNG, JPEG or another format Pillow reads"
        ) from exc
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def _to_rgb(img, path):
    from PIL import Image

    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode.startswith(("I", "F")):
        # 16- and 32-bit integer and float greyscale: Pillow's convert("L")
        # would clip them to 0..255 (a 16-bit ramp comes back all white).
        return _grey_to_rgb(np.asarray(img), img.mode, path)
    if img.mode in ("L", "LA", "1"):
        warnings.warn(
            f"{path} is a greyscale image (mode {img.mode}); "
            f"repeating it into three channels",
            stacklevel=4,
        )
        img = img.convert("LA" if img.mode == "LA" else "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _grey_to_rgb(values, mode, path):
    """A wide greyscale image as 8-bit RGB, rescaled from its type's range."""
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        raise CorruptDataError(f"{path} (mode {mode}) holds NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    if mode.startswith("F") and lo >= 0 and hi <= 1:
        scale, unit = 255.0, "[0, 1]"
    elif lo >= 0 and hi <= 255 and not mode.startswith("I;16"):
        scale, unit = 1.0, "[0, 255]"
    elif lo >= 0 and hi <= 65535:
        scale, unit = 255.0 / 65535.0, "[0, 65535] (16 bits)"
    else:
        raise CorruptDataError(
            f"{path} is a greyscale image of mode {mode} with values in "
            f"[{lo:g}, {hi:g}], which has no known range to map to 0..255; "
            f"rescale it to 8 bits yourself and save it as PNG"
        )
    warnings.warn(
        f"{path} is a greyscale image (mode {mode}, values in {unit}); "
        f"rescaling it to 0..255 and repeating it into three channels",
        stacklevel=5,
    )
    grey = np.rint(values * scale).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


# ----------------------------------------------------------------------------
# Synthetic embeddings
# ----------------------------------------------------------------------------

_CHUNK_ROWS = 1 << 15  # fixed, so that the output never depends on it


def make_embeddings(
    n, d, *, n_topics=16, seed=None, spread=1.0, norm_spread=1.0, return_labels=False
):
    """A synthetic table of item embeddings, shaped like a recommender's.

    Each row is ``norm * direction``. The direction is a random topic's unit
    vector plus isotropic Gaussian noise of total length about ``spread``,
    renormalised; so cosine similarity groups rows by topic. Topics are
    unequally popular (probability proportional to ``1 / (rank + 1)``, a
    Zipf law). The norms are log-normal, heavy-tailed like the popularity of
    items, so a few rows are much longer than the rest: a good test of
    clustering by angle (cosine) rather than by Euclidean distance.

    Rows are generated in chunks of a fixed size, in float32, so the memory
    used is the result plus a few MB; 1,000,000 x 64 takes 256 MB.

    Parameters
    ----------
    n : int
        Number of rows (items).
    d : int
        Dimension of each embedding.
    n_topics : int, default=16
        Number of topic directions (true clusters).
    seed : None, int or numpy.random.Generator, default=None
        Source of randomness; the same int gives the same table, None a new
        one each call.
    spread : float, default=1.0
        Length of the noise added to a unit topic direction; 0 puts every row
        exactly on its topic, about 1 and above blurs the topics together.
    norm_spread : float, default=1.0
        Standard deviation of the log of the norms; 0 gives unit norms.
    return_labels : bool, default=False
        Also return each row's topic.

    Returns
    -------
    X : ndarray of float32 and shape (n, d)
        The embedding table.
    labels : ndarray of int64 and shape (n,)
        Each row's topic, 0 (most popular) to ``n_topics - 1``; only if
        ``return_labels`` is True.

    Examples
    --------
    >>> from lib.datasets import make_embeddings
    >>> X = make_embeddings(1000, 16, n_topics=5, seed=0)
    >>> X.shape, X.dtype
    ((1000, 16), dtype('float32'))
    >>> X2, labels = make_embeddings(1000, 16, n_topics=5, seed=0,
    ...                              return_labels=True)
    >>> bool((X == X2).all()), sorted(set(labels.tolist()))
    (True, [0, 1, 2, 3, 4])
    """
    n = check_int(n, "n")
    d = check_int(d, "d")
    n_topics = check_int(n_topics, "n_topics")
    spread = check_float(spread, "spread")
    norm_spread = check_float(norm_spread, "norm_spread")
    rng = check_random_state(seed)

    topics = rng.standard_normal((n_topics, d))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    topics = topics.astype(np.float32)
    popularity = 1.0 / np.arange(1, n_topics + 1)
    popularity /= popularity.sum()

    X = np.empty((n, d), dtype=np.float32)
    labels = np.empty(n, dtype=np.int64)
    noise_scale = np.float32(spread / np.sqrt(d))
    for sl in chunks(n, _CHUNK_ROWS):
        chunk = X[sl]  # a view: written in place
        lab = rng.choice(n_topics, size=len(chunk), p=popularity)
        rng.standard_normal(out=chunk, dtype=np.float32)
        chunk *= noise_scale
        chunk += topics[lab]
        norms = rng.lognormal(0.0, norm_spread, size=len(chunk)).astype(np.float32)
        lengths = np.linalg.norm(chunk, axis=1)
        np.maximum(lengths, np.float32(1e-12), out=lengths)
        chunk *= (norms / lengths)[:, None]
        labels[sl] = lab
    return (X, labels) if return_labels else X
