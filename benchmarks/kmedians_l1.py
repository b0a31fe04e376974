"""Time k-medians' compiled loops against the NumPy/SciPy path they replace (#18).

The workload is the L1 sweep of the chapter "Image compression by colour
quantization" (``book/color_quantization.ipynb``): ``lib.quantize_image`` with
``metric="manhattan"`` on the three photographs, ``k`` in 3, 6, 12, 24, 48,
seeds 0, 1, 2, fitted on 10,000 pixels (``sample_seed=0``), then every pixel
labelled. Two paths, in one run, whole sweeps, alternating, best of 5:

- **compiled**: lib as it is, with numba: ``lib.loops.nearest_l1_rgb`` (the L1
  assignment, one row at a time), ``lib.loops.sorted_medians`` (the median
  update of a run, read off the pixels' channels sorted once per run;
  ``cluster_medians`` for a single update) and ``lib.loops.closest_l1`` (the
  L1 step of k-means++);
- **NumPy/SciPy**: the fallback lib takes without numba, for those steps
  only (SciPy's ``cdist(..., "cityblock")`` on blocks of rows, one
  ``np.median`` per cluster, NumPy's ``np.abs(X - x).sum(axis=1)`` on blocks
  of rows); everything else is the same code.

Both start from the same seeds, so they must give the same labels and
palettes bit for bit: the script checks it and prints the speed-up, the
NumPy/SciPy time over the compiled one. It also times two steps alone on all
the pixels of each photograph at k = 48: the assignment, and one median
update (``update_centroids``) of the labels it gave. Timings on a shared
2-core machine are noisy; only the ratio, measured side by side, means
anything.

    .venv/bin/python benchmarks/kmedians_l1.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

import lib
import lib.distances
import lib.init
import lib.lloyd
from lib.images import quantize_image

KS = (3, 6, 12, 24, 48)
SEEDS = (0, 1, 2)
SAMPLE = 10_000
#: The loops of lib.loops that k-medians uses; the fallback replaces only these.
L1_LOOPS = (
    "nearest_l1",
    "nearest_l1_rgb",
    "cluster_medians",
    "sorted_medians",
    "closest_l1",
)


def photographs():
    import matplotlib.cbook as cbook

    hopper = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return {
        "china": lib.load_image("china"),
        "flower": lib.load_image("flower"),
        "hopper": lib.load_image(hopper),
    }


@contextlib.contextmanager
def numpy_path():
    """k-medians' steps as lib runs them without numba; the rest unchanged."""
    modules = (lib.distances, lib.init, lib.lloyd)
    saved = [m.compiled_loop for m in modules]

    def without_l1(name, compiled=saved[0]):
        return None if name in L1_LOOPS else compiled(name)

    for m in modules:
        m.compiled_loop = without_l1
    try:
        yield
    finally:
        for m, f in zip(modules, saved):
            m.compiled_loop = f


def sweep(images):
    """The chapter's L1 sweep: every (image, k, seed) run."""
    return {
        (name, k, seed): quantize_image(
            im,
            k,
            metric="manhattan",
            init="k-means++",
            n_init=1,
            sample_size=SAMPLE,
            sample_seed=0,
            seed=seed,
        )
        for name, im in images.items()
        for k in KS
        for seed in SEEDS
    }


def assign_all(images, palettes):
    return {
        name: lib.assign(im.reshape(-1, 3), palettes[name], "manhattan")
        for name, im in images.items()
    }


def timed(work, paths, repeats):
    """Seconds of every repeat and the last result of ``work()`` on every path.

    The paths alternate; each repeat gives (wall, CPU) seconds, CPU being the
    process time of all its threads, which other work on the machine disturbs
    less than the wall clock.
    """
    times, out = {name: [] for name in paths}, {}
    for r in range(repeats):
        for name in paths[r % 2 :] + paths[: r % 2]:
            with paths_context(name):
                wall, cpu = time.perf_counter(), time.process_time()
                out[name] = work()
                times[name].append(
                    (time.perf_counter() - wall, time.process_time() - cpu)
                )
    return times, out


def report(times, paths):
    """Best wall and CPU seconds per path, and the speed-ups they give."""
    best = {name: np.min(times[name], axis=0) for name in paths}
    for name in paths:
        wall, cpu = best[name]
        print(f"  {name:<12} {wall:8.3f} s  (CPU {cpu:.3f} s)")
    wall, cpu = best[paths[1]] / best[paths[0]]
    paired = np.array(times[paths[1]])[:, 0] / np.array(times[paths[0]])[:, 0]
    print(
        f"  speed-up (NumPy/SciPy / compiled): {wall:.2f} (CPU {cpu:.2f}); "
        f"repeat by repeat {paired.min():.2f} to {paired.max():.2f}"
    )


def paths_context(name):
    return numpy_path() if name == "NumPy/SciPy" else contextlib.nullcontext()


def same_runs(a, b):
    return all(
        np.array_equal(a[key].labels, b[key].labels)
        and np.array_equal(a[key].palette, b[key].palette)
        and a[key].n_iter == b[key].n_iter
        for key in a
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    images = photographs()
    paths = ["compiled", "NumPy/SciPy"]
    small = {"china": images["china"][:40]}
    sweep(small)  # untimed: numba loads (or compiles) its loops once

    times, out = timed(lambda: sweep(images), paths, args.repeats)
    same = same_runs(out["compiled"], out["NumPy/SciPy"])
    n_runs = len(out["compiled"])
    print(
        f"L1 sweep of the colour chapter: {n_runs} quantize_image calls, "
        f"best of {args.repeats} whole sweeps, alternating"
    )
    report(times, paths)
    print(f"  same labels, palettes and iterations on every run: {same}")

    palettes = {
        name: out["compiled"][name, 48, 0].palette for name in images
    }  # k = 48, seed 0
    times, labels = timed(lambda: assign_all(images, palettes), paths, args.repeats)
    same = all(
        np.array_equal(labels["compiled"][n], labels["NumPy/SciPy"][n]) for n in images
    )
    pixels = sum(im.shape[0] * im.shape[1] for im in images.values())
    print(
        f"\nL1 assignment alone: {pixels:,} pixels of the three photographs, k = 48, "
        f"best of {args.repeats}"
    )
    report(times, paths)
    print(f"  same labels: {same}")

    # The median update alone: all pixels of each photograph, labelled above.
    pixels64 = {n: im.reshape(-1, 3).astype(np.float64) for n, im in images.items()}
    times, medians = timed(
        lambda: [
            lib.lloyd.update_centroids(
                pixels64[n], labels["compiled"][n], 48, "manhattan"
            )
            for n in images
        ],
        paths,
        args.repeats,
    )
    same = all(
        np.array_equal(a, b)
        for a, b in zip(medians["compiled"], medians["NumPy/SciPy"])
    )
    print(
        f"\nL1 median update alone: the same pixels and labels, best of {args.repeats}"
    )
    report(times, paths)
    print(f"  same medians: {same}")


if __name__ == "__main__":
    main()
