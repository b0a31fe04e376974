"""Time lib.kmeans against its peers, whole calls from the same start (issue #18).

Contenders: lib with ``algorithm="lloyd"``, ``"hamerly"``, ``"elkan"`` and
``"yinyang"``;
scikit-learn ``KMeans`` with ``algorithm="lloyd"`` and ``"elkan"``;
scikit-learn-intelex (``sklearnex.cluster.KMeans``, oneDAL); faiss
(``faiss.Kmeans``, float32). The peers are benchmark-only dependencies
(``benchmarks/requirements.txt``); a peer that is not installed is reported and
skipped. Every contender starts from the same k-means++ centroids,
``lib.init_centroids(X, k, "k-means++", seed=0)``, and runs with the machine's
default threads (printed first).

Two tables, each timed in one run, best of 5 whole calls (estimator creation
and fit), the contenders alternating within every repeat:

1. **Fixed iterations**: ``tol=0`` (faiss: ``niter``), 20 iterations (10 for
   the unit vectors). Every contender then makes the same updates, so the times
   compare the same work. A contender may still stop early at a fixed point
   (labels, or for faiss the objective, unchanged); the "iterations made" grid
   shows what each made, from ``n_iter`` / ``n_iter_`` / faiss's
   ``iteration_stats``, with ``!`` where it is not the number asked for.
2. **To convergence**: each library's default stopping rule: ``tol=1e-4``
   relative to X's variance for lib, scikit-learn and sklearnex
   (``max_iter=300``); faiss has no tolerance (it stops when the objective is
   unchanged), so it gets ``niter=300``, the others' cap, instead of its
   default of 25. Iteration counts then differ, and so do the times' meaning.

How to read it: "seconds" gives each contender's best time; "lib best" is
lib's fastest algorithm and "ratio" is its time over the fastest peer's (below
1: lib is faster). The last two grids compare each contender with lib's Lloyd:
the largest absolute centroid difference, and the relative difference of the
objective, ``inertia / lib lloyd's - 1``, both computed here in float64 from
the contender's centroids and labels (faiss returns centroids only; its labels
are ``lib.assign``'s). lib's Hamerly, Elkan and Yinyang must give 0 in both;
a peer differs by rounding, by its float32 arithmetic (faiss), or, where ties
or empty clusters are broken another way, by a drift that grows with the
iterations. faiss takes float32 X: the conversion is made once, outside the
timing. Elkan in lib keeps (n, k) float64 bounds; where they exceed lib's
default working memory it gets a larger ``working_memory`` (marked ``*``), or
``-`` if lib still refuses.

Timings on a shared 2-core machine are noisy: only ratios measured side by
side in one run mean anything, and even they move from run to run.

    .venv/bin/python benchmarks/kmeans_peers.py [--quick] [--workloads pixels mnist]
        [--tables 2] [--skip "lib elkan"]

``--tables`` runs only some of the two tables; ``--skip`` leaves contenders out
(their columns show ``-``): lib's NumPy Elkan takes minutes a call to
convergence on the unit vectors.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import lib

REPEATS = 5
#: lib's default working memory, in MiB (lib.kmeans's docstring).
DEFAULT_WORKING_MEMORY = 64
#: The cap on iterations to convergence: lib's and scikit-learn's default.
MAX_ITER = 300
LIB_ALGORITHMS = ("lloyd", "hamerly", "elkan", "yinyang")
PEERS = ("sklearn lloyd", "sklearn elkan", "sklearnex", "faiss")
CONTENDERS = tuple(f"lib {a}" for a in LIB_ALGORITHMS) + PEERS


# --- workloads ---------------------------------------------------------------


@dataclass
class Workload:
    name: str
    X: np.ndarray
    k: int
    n_iter: int  # iterations in the fixed-iteration table


def pixels(quick):
    X = lib.load_image("china").reshape(-1, 3).astype(np.float64)
    return Workload("china.jpg pixels", X[::10] if quick else X, 48, 20)


def mnist(quick):
    images, _ = lib.load_mnist("test")
    X = images.reshape(len(images), -1) / 255.0
    return Workload("MNIST test", X[:2_000] if quick else X, 10, 20)


def unit_vectors(quick):
    V = np.random.default_rng(0).standard_normal((20_000 if quick else 200_000, 32))
    return Workload(
        "unit vectors", V / np.linalg.norm(V, axis=1, keepdims=True), 256, 10
    )


def blobs(quick):
    # Low dimension, many points: where the bounds of Hamerly and Elkan pay most.
    rng = np.random.default_rng(0)
    n, centres = (50_000 if quick else 1_000_000), rng.uniform(-10, 10, (32, 2))
    X = centres[rng.integers(0, 32, n)] + rng.standard_normal((n, 2))
    return Workload("2-D blobs", X, 32, 20)


WORKLOADS = {"pixels": pixels, "mnist": mnist, "unit": unit_vectors, "blobs": blobs}


# --- contenders --------------------------------------------------------------


@dataclass
class Fit:
    centroids: np.ndarray  # float64
    labels: np.ndarray | None  # None: lib.assign's, computed after the timing
    n_iter: int
    note: str = ""


@dataclass
class Row:
    workload: Workload
    seconds: dict = field(default_factory=dict)
    fits: dict = field(default_factory=dict)


def optional(module, quiet=False):
    """The module, or None (said, unless `quiet`) when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if not quiet:
            print(f"{module} is not installed ({exc}): skipped, its columns show '-'.")
        return None


def elkan_memory(n, k):
    """A working_memory (MiB) that holds lib Elkan's (n, k) bounds, or None."""
    need = 8 * n * k / 2**20
    return None if need <= DEFAULT_WORKING_MEMORY else float(math.ceil(need) + 1)


class SklearnexLog(logging.Handler):
    """Remembers whether sklearnex ran oneDAL or fell back to scikit-learn."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.last = ""

    def emit(self, record):
        self.last = record.getMessage()


def make_contenders(modules, log):
    """name -> fit(X, X32, C0, n_iter or None), for every installed contender."""
    from sklearn.cluster import KMeans

    def lib_fit(algorithm):
        def fit(X, X32, C0, n_iter):
            k = len(C0)
            wm = elkan_memory(len(X), k) if algorithm == "elkan" else None
            stop = dict(max_iter=n_iter, tol=0) if n_iter else {}
            res = lib.kmeans(
                X, k, init=C0, algorithm=algorithm, working_memory=wm, **stop
            )
            return Fit(res.centroids, res.labels, res.n_iter, "*" if wm else "")

        return fit

    def sklearn_fit(cls, algorithm, oneDAL=False):
        def fit(X, X32, C0, n_iter):
            stop = dict(max_iter=n_iter, tol=0) if n_iter else {}
            km = cls(
                len(C0), init=C0, n_init=1, algorithm=algorithm, random_state=0, **stop
            )
            log.last = ""
            km.fit(X)
            note = "" if not oneDAL or "accelerated" in log.last else " (fallback)"
            return Fit(
                km.cluster_centers_.astype(np.float64), km.labels_, km.n_iter_, note
            )

        return fit

    def faiss_fit(X, X32, C0, n_iter):
        faiss = modules["faiss"]
        km = faiss.Kmeans(
            X.shape[1],
            len(C0),
            niter=n_iter or MAX_ITER,
            # By default faiss trains on at most 256 points per centroid,
            # a silent subsample: these two make it use every point, quietly.
            max_points_per_centroid=10**9,
            min_points_per_centroid=1,
            seed=0,
            verbose=False,
        )
        km.train(X32, init_centroids=np.ascontiguousarray(C0, dtype=np.float32))
        return Fit(km.centroids.astype(np.float64), None, len(km.iteration_stats))

    fits = {f"lib {a}": lib_fit(a) for a in LIB_ALGORITHMS}
    fits["sklearn lloyd"] = sklearn_fit(KMeans, "lloyd")
    fits["sklearn elkan"] = sklearn_fit(KMeans, "elkan")
    if modules["sklearnex"] is not None:
        fits["sklearnex"] = sklearn_fit(
            modules["sklearnex.cluster"].KMeans, "lloyd", oneDAL=True
        )
    if modules["faiss"] is not None:
        fits["faiss"] = faiss_fit
    return fits


# --- measuring ---------------------------------------------------------------


def inertia(X, C, labels):
    """Sum of squared distances to the assigned centroids, float64, from x - c."""
    total = 0.0
    for start in range(0, len(X), 65_536):
        diff = X[start : start + 65_536] - C[labels[start : start + 65_536]]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def measure(w, fits, fixed, repeats):
    """Best-of-`repeats` seconds and the last fit of every contender on `w`."""
    X = w.X
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    C0 = lib.init_centroids(X, w.k, "k-means++", seed=0)
    n_iter = w.n_iter if fixed else None
    row = Row(w)
    names = list(fits)
    # Untimed warm-up on every few rows: numba compiles lib's kernels on first
    # use. A small sample may have fewer distinct points than k: no warnings.
    small = slice(None, None, max(1, len(X) // max(20 * w.k, 2_000)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            try:
                fits[name](X[small], X32[small], C0, 2)
            except ValueError:
                pass
    for r in range(repeats):
        # Rotate the order too, so that no contender always runs first.
        for name in names[r % len(names) :] + names[: r % len(names)]:
            try:
                start = time.perf_counter()
                fit = fits[name](X, X32, C0, n_iter)
                seconds = time.perf_counter() - start
            except ValueError as exc:  # lib's Elkan beyond its working memory
                row.fits[name] = exc
                continue
            row.seconds[name] = min(row.seconds.get(name, np.inf), seconds)
            if fit.labels is None:  # faiss: centroids only
                fit.labels = lib.assign(X, fit.centroids)
            row.fits[name] = fit
    return row


# --- printing ----------------------------------------------------------------


def print_threads(modules):
    from threadpoolctl import threadpool_info

    print(
        f"CPUs: os.cpu_count()={os.cpu_count()}, usable={len(os.sched_getaffinity(0))}"
    )
    for pool in threadpool_info():
        print(
            f"  {pool['internal_api']:<9} {pool['num_threads']:>3} threads  "
            f"{os.path.basename(pool['filepath'])}"
        )
    numba = optional("numba", quiet=True)
    if numba is not None:
        print(f"  numba     {numba.get_num_threads():>3} threads (lib's kernels)")
    if modules["faiss"] is not None:
        print(
            f"  faiss     {modules['faiss'].omp_get_max_threads():>3} threads (OpenMP)"
        )
    if modules["daal4py"] is not None:
        print(f"  oneDAL    {modules['daal4py'].num_threads():>3} threads (sklearnex)")
    print()


def grid(title, rows, cell, extra=()):
    """One line per workload, one column per contender."""
    head = f"{'workload':<18}" + "".join(f"{c:>15}" for c in CONTENDERS)
    print(f"{title}\n{head}" + "".join(f"{h:>16}" for h, _ in extra))
    for row in rows:
        cells = "".join(f"{cell(row, c):>15}" for c in CONTENDERS)
        print(
            f"{row.workload.name:<18}{cells}"
            + "".join(f"{f(row):>16}" for _, f in extra)
        )
    print()


def fastest(row, names):
    timed = [n for n in names if n in row.seconds]
    return min(timed, key=row.seconds.get) if timed else None


def print_table(title, rows, fixed):
    print(f"=== {title} ===")
    for row in rows:
        w = row.workload
        iters = f"{w.n_iter} iterations" if fixed else "to convergence"
        print(f"  {w.name}: {w.X.shape[0]:,} x {w.X.shape[1]}, k={w.k}, {iters}")
    print()

    def seconds(row, c):
        if c not in row.seconds:
            return "-"
        return f"{row.seconds[c]:.4f}{getattr(row.fits[c], 'note', '')}"

    def lib_best(row):
        best = fastest(row, [f"lib {a}" for a in LIB_ALGORITHMS])
        return best.removeprefix("lib ") if best else "-"

    def peer_best(row):
        return fastest(row, PEERS) or "-"

    def ratio(row):
        lib_name = fastest(row, [f"lib {a}" for a in LIB_ALGORITHMS])
        peer = fastest(row, PEERS)
        if lib_name is None or peer is None:
            return "-"
        return f"{row.seconds[lib_name] / row.seconds[peer]:.2f}"

    extra = [("lib best", lib_best), ("fastest peer", peer_best), ("ratio", ratio)]
    grid("seconds, best whole call", rows, seconds, extra)

    def n_iter(row, c):
        fit = row.fits.get(c)
        if not isinstance(fit, Fit):
            return "-"
        flag = "!" if fixed and fit.n_iter != row.workload.n_iter else ""
        return f"{fit.n_iter}{flag}"

    grid("iterations made", rows, n_iter)

    def against_lloyd(how):
        def cell(row, c):
            fit, ref = row.fits.get(c), row.fits.get("lib lloyd")
            if not isinstance(fit, Fit) or not isinstance(ref, Fit):
                return "-"
            return how(row.workload.X, fit, ref)

        return cell

    def centroid_gap(X, fit, ref):
        return f"{np.abs(fit.centroids - ref.centroids).max():.1e}"

    def inertia_gap(X, fit, ref):
        ours = inertia(X, ref.centroids, ref.labels)
        return f"{inertia(X, fit.centroids, fit.labels) / ours - 1:+.1e}"

    grid("largest |centroid - lib lloyd's|", rows, against_lloyd(centroid_gap))
    grid(
        "inertia / lib lloyd's inertia - 1 (float64, computed here)",
        rows,
        against_lloyd(inertia_gap),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller n and 1 repeat: a smoke test"
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=list(WORKLOADS),
        default=list(WORKLOADS),
        help="which workloads to run (default: all)",
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        type=int,
        choices=[1, 2],
        default=[1, 2],
        help="1: fixed iterations, 2: to convergence (default: both)",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        choices=CONTENDERS,
        default=[],
        help="contenders to leave out, e.g. 'lib elkan'",
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else REPEATS

    modules = {m: optional(m) for m in ("faiss", "sklearnex")}
    modules["daal4py"] = optional("daal4py", quiet=True)
    if modules["sklearnex"] is not None:
        modules["sklearnex.cluster"] = importlib.import_module("sklearnex.cluster")
    log = SklearnexLog()
    # sklearnex says at INFO level whether each fit ran oneDAL: keep that
    # here, in place of its own handler, instead of printing it on every fit.
    sklearnex_logger = logging.getLogger("sklearnex")
    sklearnex_logger.handlers = [log]
    sklearnex_logger.setLevel(logging.INFO)
    sklearnex_logger.propagate = False
    fits = make_contenders(modules, log)
    for name in args.skip:
        fits.pop(name, None)
    print_threads(modules)

    workloads = []
    for key in args.workloads:
        try:
            workloads.append(WORKLOADS[key](args.quick))
        except Exception as exc:  # no offline copy and no network
            print(f"workload {key!r} skipped: {type(exc).__name__}: {exc}")
    print(
        f"best of {repeats} whole calls; {'quick run, ' if args.quick else ''}"
        "'*': lib elkan with a larger working_memory\n"
    )
    tables = {
        1: (True, "Table 1: fixed iterations (tol=0), same k-means++ start"),
        2: (False, "Table 2: to convergence, default tolerances, same k-means++ start"),
    }
    if args.skip:
        print(f"left out: {', '.join(args.skip)}\n")
    for fixed, title in (tables[t] for t in sorted(set(args.tables))):
        rows = [measure(w, fits, fixed, repeats) for w in workloads]
        print_table(title, rows, fixed)


if __name__ == "__main__":
    main()
