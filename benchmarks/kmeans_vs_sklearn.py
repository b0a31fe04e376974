"""Time lib.kmeans against scikit-learn's Lloyd KMeans, in one run.

Both start from the same initial centroids and make the same number of Lloyd
iterations (tol=0, so neither stops early); the script prints the time per
iteration of each, the ratio lib/sklearn, and the largest centroid difference.
Machines here are noisy, so only the ratio, measured side by side, means
anything: each workload is timed `REPEATS` times, alternating the two, and the
best time of each is kept.

    python benchmarks/kmeans_vs_sklearn.py
"""

import os
import time

import numpy as np
from sklearn.cluster import KMeans

import lib

REPEATS = 5
N_ITER = 10


def workloads():
    china = lib.load_image("china") if hasattr(lib, "load_image") else None
    if china is None:
        from sklearn.datasets import load_sample_image

        china = load_sample_image("china.jpg")
    yield "china.jpg pixels", china.reshape(-1, 3).astype(np.float64), 48
    try:
        from lib.datasets import load_mnist

        images, _ = load_mnist("test")
        yield "MNIST test pixels", images.reshape(len(images), -1) / 255.0, 10
    except Exception as exc:  # no copy and no network: random data of the same shape
        print(f"(MNIST unavailable: {exc}; using random data of shape (10000, 784))")
        yield "random 10000x784", np.random.default_rng(0).random((10_000, 784)), 10
    rng = np.random.default_rng(0)
    V = rng.standard_normal((200_000, 32))
    yield "unit vectors", V / np.linalg.norm(V, axis=1, keepdims=True), 256


def best_time(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    print(
        f"{N_ITER} Lloyd iterations from identical centroids; best of {REPEATS}; "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        f"{'workload':<20} {'shape':>14} {'k':>4} {'lib s/it':>10} "
        f"{'sklearn s/it':>13} {'ratio':>7} {'max |dC|':>10}"
    )
    for name, X, k in workloads():
        C0 = lib.init_centroids(X, k, "k-means++", seed=0)
        t_lib = t_sk = np.inf
        for _ in range(REPEATS):
            t, ours = best_time(
                lambda: lib.kmeans(X, k, init=C0, max_iter=N_ITER, tol=0)
            )
            t_lib = min(t_lib, t)
            t, sk = best_time(
                lambda: KMeans(
                    k, init=C0, n_init=1, max_iter=N_ITER, tol=0, algorithm="lloyd"
                ).fit(X)
            )
            t_sk = min(t_sk, t)
        # Both ran N_ITER iterations unless the labels settled first, in which case
        # compare per iteration actually made.
        it_lib, it_sk = ours.n_iter, sk.n_iter_
        diff = (
            np.abs(ours.centroids - sk.cluster_centers_).max()
            if it_lib == it_sk
            else np.nan
        )
        r = (t_lib / it_lib) / (t_sk / it_sk)
        print(
            f"{name:<20} {str(X.shape):>14} {k:>4} {t_lib / it_lib:>10.4f} "
            f"{t_sk / it_sk:>13.4f} {r:>7.2f} {diff:>10.1e}"
        )


if __name__ == "__main__":
    main()
