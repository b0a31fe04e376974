"""Deep clustering: a convolutional autoencoder, a clustering loss and UMAP.

The chapter "Deep clustering of MNIST" (``book/deep_clustering.ipynb``)
teaches this module. torch and umap-learn are imported inside the functions
that need them, so ``import lib`` and ``import lib.deep`` work without them;
calling a function that needs a missing package raises an ImportError that
names the package and the fix.
"""

from __future__ import annotations

import copy
import functools
import importlib
import sys
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from . import _memo
from ._validation import check_float, check_int, check_random_state
from .lloyd import kmeans

#: pip name of each optional package, for the error message.
_PIP_NAMES = {"torch": "torch==2.13.0", "umap": "umap-learn"}


def _require(module):
    """Import an optional dependency, or explain how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        pip = _PIP_NAMES.get(module, module)
        raise ImportError(
            f"lib.deep needs the package {module!r}, which is not installed; "
            f"install it with `pip install {pip}` "
            f"(or `pip install -r requirements.txt`)"
        ) from err


def int_seed(seed):
    """The int seed that torch and UMAP need: `seed` itself, checked, or when
    None one drawn from fresh entropy.

    >>> int_seed(7)
    7
    >>> 0 <= int_seed(None) < 2**31
    True
    """
    if seed is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    return check_int(seed, "seed", low=0)


def get_device(device="auto"):
    """The torch device to train on: CUDA when available, otherwise the CPU.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"

    Returns
    -------
    torch.device

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    torch = _require("torch")
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu" or (isinstance(device, str) and device.startswith("cuda")):
        if device != "cpu" and not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but CUDA is not available; "
                f"use device='auto' or device='cpu'"
            )
        return torch.device(device)
    raise ValueError(
        f"device={device!r} is not supported; choose 'auto', 'cpu' or 'cuda'"
    )


def conv_autoencoder(channels=(8, 16, 32, 64), *, seed=None):
    """A small convolutional autoencoder for 1x28x28 images.

    The encoder halves the image four times with stride-2 3x3 convolutions,
    1 -> 8 -> 16 -> 32 -> 64 channels and 28 -> 14 -> 7 -> 3 -> 1 pixels, so
    the code is the 64 channels of a single pixel: a 64-d vector. The decoder
    mirrors it with transposed convolutions and ends in a sigmoid, because
    pixels lie in [0, 1].

    Parameters
    ----------
    channels : tuple of 4 ints, default=(8, 16, 32, 64)
        Channels after each convolution; the last one is the code size.
    seed : None or int, default=None
        Seeds the weight initialization (torch's global random state is
        restored afterwards); None draws fresh weights.

    Returns
    -------
    model : torch.nn.Sequential
        ``model.encoder`` maps (batch, 1, 28, 28) to (batch, channels[-1]);
        ``model.decoder`` maps codes back to images; ``model(x)`` does both.

    Examples
    --------
    >>> import torch
    >>> model = conv_autoencoder(seed=0)
    >>> model.encoder(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 64])
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 1, 28, 28])
    """
    torch = _require("torch")
    nn = torch.nn
    if len(channels) != 4 or not all(isinstance(c, int) and c >= 1 for c in channels):
        raise ValueError(
            f"channels={channels!r} must be 4 positive ints; "
            f"pass e.g. channels=(8, 16, 32, 64)"
        )
    c1, c2, c3, c4 = channels
    seed = int_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1),
            nn.ReLU(),  # 28 -> 14
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),
            nn.ReLU(),  # 14 -> 7
            nn.Conv2d(c2, c3, 3, stride=2),
            nn.ReLU(),  # 7 -> 3
            nn.Conv2d(c3, c4, 3, stride=2),  # 3 -> 1
            nn.Flatten(),  # no ReLU on the code: k-means wants all of R^64
        )
        decoder = nn.Sequential(
            nn.Unflatten(1, (c4, 1, 1)),
            nn.ConvTranspose2d(c4, c3, 3, stride=2),
            nn.ReLU(),  # 1 -> 3
            nn.ConvTranspose2d(c3, c2, 3, stride=2),
            nn.ReLU(),  # 3 -> 7
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),  # 14 -> 28
        )
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(encoder=encoder, decoder=decoder))


def _check_images(images, name="images"):
    """(n, 28, 28), (n, 1, 28, 28) or (n, 784) pixels -> float32 (n, 1, 28, 28).

    The pixels are uint8 (0-255) or floats in [0, 1].
    """
    if isinstance(images, (str, bytes)) or images is None:
        raise TypeError(
            f"{name} must be an array of MNIST-sized images, got "
            f"{type(images).__name__}; pass an array of shape (n, 28, 28)"
        )
    arr = np.asarray(images)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(
            f"{name} must hold numbers, got dtype {arr.dtype}; "
            f"pass uint8 pixels or floats in [0, 1]"
        )
    if (arr.ndim == 2 and arr.shape[1] == 784) or (arr.ndim == 4 and arr.shape[1] == 1):
        arr = arr.reshape(len(arr), 28, 28) if arr.size == len(arr) * 784 else arr
    if arr.ndim != 3 or arr.shape[1:] != (28, 28) or arr.shape[0] < 1:
        raise ValueError(
            f"{name} has shape {arr.shape}; pass images of shape (n, 28, 28) "
            f"or flattened (n, 784)"
        )
    if arr.dtype == np.uint8:
        arr = arr / np.float32(255)
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise ValueError(
            f"{name} must be uint8 pixels or floats in [0, 1], got values in "
            f"[{arr.min()}, {arr.max()}]; divide uint8-range floats by 255"
        )
    return arr[:, None]


def _batches(n, batch_size, generator, torch):
    """A fresh shuffled order of the indices, cut into batches.

    The last batch may be short.
    """
    order = torch.randperm(n, generator=generator)
    return order.split(batch_size)


@dataclass
class TrainHistory:
    """Mean losses per epoch, in the order they were trained.

    ``stage[e]`` is ``"pretrain"`` or ``"joint"``; ``cluster`` is the
    (normalized) WCSS, 0 during pre-training, where it is not used;
    ``total = recon + lam * cluster``.
    """

    stage: list = field(default_factory=list)
    recon: list = field(default_factory=list)
    cluster: list = field(default_factory=list)
    total: list = field(default_factory=list)


def encode(model, images, *, batch_size=1000, device="auto"):
    """Codes of `images` under ``model.encoder``, as a NumPy array.

    Parameters
    ----------
    model : torch.nn.Module with an ``encoder``, e.g. from :func:`conv_autoencoder`
    images : ndarray of shape (n, 28, 28)
        uint8 pixels or floats in [0, 1].
    batch_size : int, default=1000
    device : {"auto", "cpu", "cuda"}, default="auto"

    Returns
    -------
    codes : ndarray of shape (n, code_size), float64

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((3, 28, 28), np.uint8)
    >>> encode(conv_autoencoder(seed=0), images, device="cpu").shape
    (3, 64)
    """
    torch = _require("torch")
    X = _check_images(images)
    batch_size = check_int(batch_size, "batch_size")
    dev = get_device(device)
    model = model.to(dev)
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            xb = torch.from_numpy(X[start : start + batch_size]).to(dev)
            out.append(model.encoder(xb).cpu().numpy())  # .cpu() before NumPy
    model.train(was_training)
    return np.concatenate(out).astype(np.float64)


def train_autoencoder(
    model,
    images,
    *,
    k=10,
    pretrain_epochs=10,
    joint_epochs=0,
    lam=0.1,
    normalize=True,
    batch_size=256,
    lr=1e-3,
    seed=None,
    device="auto",
    progress=True,
):
    """Stage I: pre-train on reconstruction, then train with a clustering loss.

    Pre-training minimizes the mean squared reconstruction error (MSE). Joint
    training then minimizes ``MSE + lam * WCSS``, where WCSS is the mean
    squared distance of each code in the batch to its nearest centroid,
    divided (``normalize=True``) by the mean squared distance of the codes
    to their batch mean: the fraction of the codes' variance that the
    clustering leaves unexplained. Without that division the encoder can
    lower WCSS for free by shrinking every code towards zero. The
    centroids start as k-means (:func:`lib.kmeans`) of the pre-trained codes
    and are refreshed from every batch: each code pulls its centroid towards
    itself with step ``1 / (number of codes it has received)``, the online
    k-means update of DCN (Yang et al. 2017).

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`conv_autoencoder`; trained in place.
    images : ndarray of shape (n, 28, 28)
        uint8 pixels or floats in [0, 1].
    k : int, default=10
        Number of clusters (centroids) of the clustering loss.
    pretrain_epochs, joint_epochs : int, default=10 and 0
    lam : float, default=0.1
        Weight of the clustering loss, λ.
    normalize : bool, default=True
        Divide WCSS by the codes' total sum of squares (scale-free loss).
    batch_size : int, default=256
    lr : float, default=1e-3
        Adam's learning rate.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the batch order and the k-means of the codes. On the CPU the
        same seed gives the same weights, bit for bit.
    device : {"auto", "cpu", "cuda"}, default="auto"
    progress : bool, default=True
        One tqdm bar per stage (one tick per epoch).

    Returns
    -------
    history : TrainHistory
        Mean recon, cluster and total loss per epoch.
    centroids : ndarray of shape (k, code_size) or None
        The clustering-loss centroids at the end (None without joint epochs).

    References
    ----------
    B. Yang, X. Fu, N. D. Sidiropoulos and M. Hong, "Towards K-means-friendly
    spaces: simultaneous deep learning and clustering", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8)
    >>> model = conv_autoencoder(seed=0)
    >>> hist, C = train_autoencoder(model, images, k=3, pretrain_epochs=1,
    ...                             joint_epochs=1, seed=0, device="cpu",
    ...                             progress=False)
    >>> hist.stage, C.shape
    (['pretrain', 'joint'], (3, 64))
    """
    torch = _require("torch")
    tqdm = importlib.import_module("tqdm.auto").tqdm
    X = _check_images(images)
    n = len(X)
    k = check_int(k, "k", high=n, high_reason=f"the number of images ({n})")
    pretrain_epochs = check_int(pretrain_epochs, "pretrain_epochs", low=0)
    joint_epochs = check_int(joint_epochs, "joint_epochs", low=0)
    lam = check_float(lam, "lam")
    batch_size = check_int(batch_size, "batch_size")
    lr = check_float(lr, "lr", low=1e-12)
    rng = check_random_state(seed)
    dev = get_device(device)

    gen = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    Xt = torch.from_numpy(X).to(dev)  # MNIST-test is 31 MB as float32
    model = model.to(dev)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = TrainHistory()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        for _ in tqdm(
            range(pretrain_epochs),
            desc="Stage I: pre-train (MSE)",
            disable=not progress,
        ):
            tot, m = 0.0, 0
            for idx in _batches(n, batch_size, gen, torch):
                xb = Xt[idx.to(dev)]
                loss = torch.nn.functional.mse_loss(model(xb), xb)
                _check_finite(loss, "pre-training", len(hist.stage), lr)
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += loss.item() * len(idx)
                m += len(idx)
            hist.stage.append("pretrain")
            hist.recon.append(tot / m)
            hist.cluster.append(0.0)
            hist.total.append(tot / m)
        if joint_epochs == 0:
            return hist, None
        codes = encode(model, X, device=dev)
        C = (
            torch.from_numpy(
                kmeans(codes, k, init="k-means++", n_init=3, seed=rng).centroids
            )
            .float()
            .to(dev)
        )
        counts = torch.ones(k, device=dev)
        model.train()
        for _ in tqdm(
            range(joint_epochs),
            desc=f"Stage I: joint (MSE + {lam:g} WCSS)",
            disable=not progress,
        ):
            sums = np.zeros(3)
            m = 0
            for idx in _batches(n, batch_size, gen, torch):
                xb = Xt[idx.to(dev)]
                z = model.encoder(xb)
                recon = torch.nn.functional.mse_loss(model.decoder(z), xb)
                with torch.no_grad():  # assignments are fixed within a step
                    a = torch.cdist(z, C).argmin(dim=1)
                wcss = ((z - C[a]) ** 2).sum(dim=1).mean()
                if normalize:
                    # The spread of one code (a last batch of one image) or of
                    # identical codes is 0: the scale-free loss is undefined
                    # there, and that batch trains on reconstruction alone.
                    spread = ((z - z.mean(dim=0)) ** 2).sum(dim=1).mean()
                    if spread.item() > 0:
                        wcss = wcss / spread
                    else:
                        wcss = wcss * 0.0
                loss = recon + lam * wcss
                _check_finite(loss, "joint training", len(hist.stage), lr)
                opt.zero_grad()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    refresh_centroids(C, counts, model.encoder(xb), k, torch)
                sums += [
                    recon.item() * len(idx),
                    wcss.item() * len(idx),
                    loss.item() * len(idx),
                ]
                m += len(idx)
            hist.stage.append("joint")
            hist.recon.append(float(sums[0] / m))
            hist.cluster.append(float(sums[1] / m))
            hist.total.append(float(sums[2] / m))
    finally:
        torch.use_deterministic_algorithms(deterministic)
    return hist, C.cpu().numpy().astype(np.float64)


def _check_finite(loss, stage, epoch, lr):
    value = loss.item()
    if not np.isfinite(value):
        raise FloatingPointError(
            f"the loss became {value} during {stage} (epoch {epoch + 1}): the "
            f"weights would turn to NaN; lower lr (now {lr:g}) or check the "
            f"images for extreme values"
        )


def refresh_centroids(C, counts, z, k, torch):
    """DCN's online k-means step on one batch of codes (in place).

    Each code is assigned to its nearest centroid, which moves towards the
    batch mean of its codes with step size (batch count) / (total count), so
    that a centroid is the running mean of every code it has ever received.

    Parameters
    ----------
    C : torch.Tensor of shape (k, n_codes)
        The centroids, updated in place.
    counts : torch.Tensor of shape (k,)
        Codes each centroid has received so far, updated in place.
    z : torch.Tensor of shape (batch_size, n_codes)
        The batch's codes.
    k : int
        Number of clusters.
    torch : module
        The torch module (imported by the caller: ``lib.deep`` never imports
        it at module level).

    Notes
    -----
    The centroid step of :func:`train_autoencoder` with DCN; the chapter on deep
    clustering checks it against the plain running mean.
    """
    a = torch.cdist(z, C).argmin(dim=1)
    batch_counts = torch.bincount(a, minlength=k).float()
    sums = torch.zeros_like(C).index_add_(0, a, z)
    counts += batch_counts
    hit = batch_counts > 0
    step = (batch_counts[hit] / counts[hit])[:, None]
    C[hit] += step * (sums[hit] / batch_counts[hit][:, None] - C[hit])


@functools.cache
def _cache_umap_compilation():
    """Let numba cache the compiled functions of umap-learn and pynndescent.

    umap-learn asks numba to cache none of them and pynndescent only some, so
    every new process spent about 15 s compiling before its first embedding
    (each notebook kernel, each autograded submission), and about 15 s more
    before its first nearest-neighbour search of 4,096 points or more. Caching
    is numba's own mechanism (files beside the module, or under
    ``NUMBA_CACHE_DIR``, checked against the source): the machine code, and so
    the embedding, is the same. A function numba cannot cache (pynndescent's
    ``nn_descent`` reads dynamic globals) is compiled as before.
    """
    from numba.core.dispatcher import Dispatcher

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("umap", "pynndescent") or module is None:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == name:
                obj.enable_caching()


def umap_embed(
    X, n_components=2, *, n_neighbors=15, min_dist=0.0, n_epochs=None, seed=None
):
    """Stage II: a UMAP embedding of `X`.

    With ``min_dist=0`` UMAP packs neighbours tightly, which is what a
    clustering algorithm wants (N2D). Fixing ``random_state`` makes umap-learn
    run single-threaded, which is the price of reproducibility.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : int, default=2
    n_neighbors : int, default=15
    min_dist : float, default=0.0
    n_epochs : int, optional
        Epochs of the layout optimization. umap-learn's default is 500 for
        up to 10,000 points and 200 above; the layout is most of the time.
    seed : None or int, default=None
        UMAP's ``random_state`` (None draws one, so that UMAP still runs the
        same way, on one thread).

    Returns
    -------
    embedding : ndarray of shape (n_samples, n_components), float64

    References
    ----------
    L. McInnes, J. Healy and J. Melville, "UMAP: Uniform manifold approximation
    and projection for dimension reduction", arXiv:1802.03426, 2018.
    """
    umap = _require("umap")
    _cache_umap_compilation()  # once, after umap (and pynndescent) are imported
    from ._validation import check_array

    X = check_array(X)
    n_components = check_int(n_components, "n_components")
    n_neighbors = check_int(
        n_neighbors,
        "n_neighbors",
        low=2,
        high=X.shape[0] - 1,
        high_reason=f"the number of samples minus one ({X.shape[0] - 1})",
    )
    min_dist = check_float(min_dist, "min_dist")
    if n_epochs is not None:
        n_epochs = check_int(n_epochs, "n_epochs")
    seed = int_seed(seed)
    reducer = umap.UMAP(
        n_components=n_components,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        n_epochs=n_epochs,
        random_state=seed,
    )
    # Numba's OpenMP threads and PyTorch's can be the same libgomp: UMAP's
    # nearest-neighbour search would leave PyTorch's thread count at one per
    # core, and the next training would round differently (and fight the
    # other processes on the machine for the cores). Restore it.
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:
        with warnings.catch_warnings():
            # umap-learn warns that a fixed random_state means one thread: we know.
            warnings.filterwarnings(
                "ignore", message="n_jobs value", category=UserWarning
            )
            # ... and that a function of pynndescent cannot be cached: we know.
            warnings.filterwarnings("ignore", message="Cannot cache compiled")
            return reducer.fit_transform(X).astype(np.float64)
    finally:
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


@dataclass
class N2DResult:
    """What :func:`n2d_pipeline` computed, for tables and plots.

    Attributes
    ----------
    labels : ndarray of shape (n,)
        k-means of the UMAP embedding of the final codes (the full pipeline).
    embedding : ndarray of shape (n, n_components)
        UMAP of the final codes.
    codes : ndarray of shape (n, code_size)
        Codes after joint training.
    pretrained_codes : ndarray of shape (n, code_size)
        Codes after pre-training only.
    history : TrainHistory
    model : torch.nn.Module
        The trained autoencoder (on the CPU).
    """

    labels: np.ndarray
    embedding: np.ndarray
    codes: np.ndarray
    pretrained_codes: np.ndarray
    history: TrainHistory
    model: object


def n2d_pipeline(
    images,
    k=10,
    *,
    seed=None,
    pretrain_epochs=10,
    joint_epochs=5,
    lam=0.1,
    n_components=10,
    n_neighbors=15,
    umap_epochs=None,
    batch_size=256,
    lr=1e-3,
    device="auto",
    progress=True,
    model=None,
):
    """The whole deep-clustering pipeline: autoencoder, UMAP, k-means.

    Stage I trains :func:`conv_autoencoder` with :func:`train_autoencoder`
    (reconstruction, then reconstruction + ``lam`` WCSS); Stage II embeds
    the codes with :func:`umap_embed` (``min_dist=0``); Stage III clusters
    the embedding with :func:`lib.kmeans` (k-means++, 10 restarts).

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28)
    k : int, default=10
        Number of clusters.
    seed : None or int, default=None
        Seeds the weights, the batches, UMAP and k-means (None draws one).
    pretrain_epochs, joint_epochs, lam, batch_size, lr, device, progress
        See :func:`train_autoencoder`.
    n_components, n_neighbors
        See :func:`umap_embed`.
    umap_epochs : int, optional
        UMAP's ``n_epochs`` (see :func:`umap_embed`).
    model : torch.nn.Module, optional
        An autoencoder to start from instead of a new one, e.g. one already
        pre-trained (then pass ``pretrain_epochs=0``). The pipeline trains a
        copy: `model` itself is left as it is.

    Returns
    -------
    N2DResult

    References
    ----------
    R. McConville, R. Santos-Rodriguez, R. J. Piechocki and I. Craddock,
    "N2D: (Not too) deep clustering via clustering the local manifold of an
    autoencoded embedding", ICPR 2020 (arXiv:1908.05968).
    """
    seed = int_seed(seed)
    model = conv_autoencoder(seed=seed) if model is None else copy.deepcopy(model)
    hist, _ = train_autoencoder(
        model,
        images,
        k=k,
        pretrain_epochs=pretrain_epochs,
        joint_epochs=0,
        lam=lam,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        progress=progress,
    )
    pretrained = encode(model, images, device=device)
    if joint_epochs:
        hist2, _ = train_autoencoder(
            model,
            images,
            k=k,
            pretrain_epochs=0,
            joint_epochs=joint_epochs,
            lam=lam,
            batch_size=batch_size,
            lr=lr,
            seed=seed + 1,
            device=device,
            progress=progress,
        )
        for name in ("stage", "recon", "cluster", "total"):
            getattr(hist, name).extend(getattr(hist2, name))
    codes = encode(model, images, device=device)
    emb = umap_embed(
        codes,
        n_components,
        n_neighbors=n_neighbors,
        min_dist=0.0,
        n_epochs=umap_epochs,
        seed=seed,
    )
    labels = kmeans(emb, k, init="k-means++", n_init=10, seed=seed).labels
    return N2DResult(labels, emb, codes, pretrained, hist, model.cpu())


# ---------------------------------------------------------------- shared results
# ``make test`` runs the chapter and its seed study side by side, and both train
# the autoencoders and embed the data of seeds 0 to 2. With CFS_MEMO_DIR set,
# the second to ask loads what the first computed (lib/_memo.py); without it, as
# for a reader, every call computes.


def _int_seed_or_none(seed):
    ok = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    return int(seed) if ok else None


def _train_key(a):
    torch = _require("torch")
    seed = _int_seed_or_none(a["seed"])
    if seed is None:
        return None
    weights = [t.detach().cpu().numpy() for t in a["model"].state_dict().values()]
    options = [a["pretrain_epochs"], a["joint_epochs"], a["batch_size"], a["lr"]]
    if a["joint_epochs"]:  # k, lam and normalize act only in joint training
        options += [a["k"], a["lam"], a["normalize"]]
    return (
        repr(a["model"]),
        *weights,
        np.asarray(a["images"]),
        *options,
        seed,
        get_device(a["device"]).type,
        torch.__version__,
        np.__version__,
        torch.get_num_threads(),
    )


def _train_save(a, result, path):
    torch = _require("torch")
    hist, C = result
    centroids = None if C is None else torch.from_numpy(C)
    state = {"weights": a["model"].state_dict(), "history": asdict(hist)}
    torch.save({**state, "centroids": centroids}, path)


def _train_load(a, path):
    torch = _require("torch")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = a["model"].to(get_device(a["device"]))
    model.load_state_dict(saved["weights"])
    model.train()
    C = saved["centroids"]
    return TrainHistory(**saved["history"]), None if C is None else C.numpy()


def _umap_key(a):
    umap = _require("umap")
    seed = _int_seed_or_none(a["seed"])
    if seed is None:
        return None
    options = [a["n_components"], a["n_neighbors"], a["min_dist"], a["n_epochs"]]
    return (np.asarray(a["X"]), *options, seed, umap.__version__, np.__version__)


def _umap_save(a, embedding, path):
    with open(path, "wb") as file:
        np.save(file, embedding)


def _umap_load(a, path):
    return np.load(path)


train_autoencoder = _memo.shared("train", _train_key, _train_save, _train_load)(
    train_autoencoder
)
umap_embed = _memo.shared("umap", _umap_key, _umap_save, _umap_load)(umap_embed)
