"""The shared contract of the k-means family.

k-means, k-medians, Mahalanobis k-means and spherical k-means run the one
Lloyd loop, ``lib.lloyd.lloyd_loop``; mini-batch and soft k-means share its init
resolver and tolerance. These tests hold every variant to the same promises.
"""

import numpy as np
import pytest

import lib
from lib.distances import nearest_centroid, sq_norms
from lib.init import check_init, start_centroids
from lib.lloyd import fill_empty, lloyd_loop, tolerance, update_centroids
from lib.mahalanobis import mahalanobis_assign, mahalanobis_kmeans
from lib.minibatch import minibatch_kmeans
from lib.soft import soft_kmeans
from lib.spherical import normalize_rows, spherical_kmeans

RNG = np.random.default_rng(0)
CENTRES = np.array([[6.0, 1.0, 1.0], [1.0, 6.0, 1.0], [1.0, 1.0, 6.0], [4, 4, 4]])
X = np.vstack([c + RNG.normal(0, 0.8, (60, 3)) for c in CENTRES])
K = 4
SIGMA = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, 0.5]])


def _objective_labels(name, X, C):
    """Each variant's own assignment of X to C: what its labels must equal."""
    if name == "k-medians":
        return lib.assign(X, C, "manhattan")
    if name == "mahalanobis":
        return mahalanobis_assign(X, C, SIGMA)
    if name == "spherical":
        return lib.assign(normalize_rows(X), C)
    return lib.assign(X, C)


LLOYD = {
    "k-means": lambda X, k, **kw: lib.kmeans(X, k, **kw),
    "hamerly": lambda X, k, **kw: lib.kmeans(X, k, algorithm="hamerly", **kw),
    "elkan": lambda X, k, **kw: lib.kmeans(X, k, algorithm="elkan", **kw),
    "yinyang": lambda X, k, **kw: lib.kmeans(X, k, algorithm="yinyang", **kw),
    "k-medians": lambda X, k, **kw: lib.kmeans(X, k, metric="manhattan", **kw),
    "mahalanobis": lambda X, k, **kw: mahalanobis_kmeans(X, k, SIGMA, **kw),
    "spherical": lambda X, k, **kw: spherical_kmeans(X, k, **kw),
}
FAMILY = {
    **LLOYD,
    "mini-batch": lambda X, k, **kw: minibatch_kmeans(X, k, batch_size=64, **kw),
    "soft": lambda X, k, **kw: soft_kmeans(X, k, 0.5, **kw),
}
# Mahalanobis k-means knows only init="sample"; use it for every variant.
INIT = {"init": "sample"}


@pytest.mark.parametrize("name", FAMILY)
def test_the_same_seed_gives_the_same_result(name):
    a = FAMILY[name](X, K, seed=3, **INIT)
    b = FAMILY[name](X, K, seed=3, **INIT)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.inertia == b.inertia and a.n_iter == b.n_iter


@pytest.mark.parametrize("name", FAMILY)
def test_a_generator_seed_is_the_int_seed(name):
    a = FAMILY[name](X, K, seed=5, **INIT)
    b = FAMILY[name](X, K, seed=np.random.default_rng(5), **INIT)
    np.testing.assert_array_equal(a.centroids, b.centroids)


@pytest.mark.parametrize("name", FAMILY)
def test_nothing_touches_the_global_random_state(name):
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    FAMILY[name](X, K, seed=1, **INIT)
    assert np.random.random() == before


@pytest.mark.parametrize("name", [n for n in FAMILY if n != "soft"])
def test_history_has_one_entry_per_update_plus_the_start(name):
    res = FAMILY[name](X, K, seed=0, max_iter=50, **INIT)
    assert len(res.history.centroids) == len(res.history.inertia) == res.n_iter + 1
    np.testing.assert_array_equal(res.history.centroids[-1], res.centroids)
    assert 1 <= res.n_iter <= 50


@pytest.mark.parametrize("name", LLOYD)
@pytest.mark.parametrize("seed", range(5))
def test_the_objective_never_increases(name, seed):
    # Every variant's update minimizes its objective for fixed labels and its
    # assignment for fixed centroids (fill_empty keeps that), so the history
    # descends, up to the rounding of the expanded-form distances.
    res = LLOYD[name](X, K, seed=seed, tol=0.0, **INIT)
    J = np.array(res.history.inertia)
    assert np.all(np.diff(J) <= 1e-9 * J[0])
    assert res.inertia == pytest.approx(J[-1], rel=1e-9)


@pytest.mark.parametrize("name", LLOYD)
@pytest.mark.parametrize("max_iter", [1, 2, 300])
def test_labels_are_the_final_assignment_to_the_centroids(name, max_iter):
    # Converged or stopped by max_iter, labels always match the centroids.
    res = LLOYD[name](X, K, seed=2, max_iter=max_iter, tol=0.0, **INIT)
    np.testing.assert_array_equal(res.labels, _objective_labels(name, X, res.centroids))


@pytest.mark.parametrize("name", ["k-means", "k-medians", "mahalanobis"])
def test_every_variant_starts_from_the_same_sampled_points(name):
    # One init resolver: the same seed draws the same k data points.
    ref = lib.kmeans(X, K, seed=9, **INIT).history.centroids[0]
    np.testing.assert_array_equal(
        LLOYD[name](X, K, seed=9, **INIT).history.centroids[0], ref
    )


@pytest.mark.parametrize("name", [n for n in FAMILY if n != "soft"])
def test_an_init_array_is_used_as_given_and_not_modified(name):
    C0 = X[[0, 60, 120, 180]].copy()
    keep = C0.copy()
    res = FAMILY[name](X, K, init=C0, max_iter=3)
    np.testing.assert_array_equal(C0, keep)
    start = normalize_rows(C0) if name == "spherical" else C0
    np.testing.assert_allclose(res.history.centroids[0], start, rtol=1e-15)


BAD = [
    (dict(k=10**6), ValueError, "k=1000000 is larger than the number of samples"),
    (dict(k=0), ValueError, "k=0 is too small"),
    (dict(max_iter=0), ValueError, "max_iter=0 is too small"),
    (dict(tol=-1.0), ValueError, "tol=-1.0 is invalid"),
    (dict(seed="a"), TypeError, "seed must be None, an int or a np.random.Generator"),
    (dict(seed=-1), ValueError, "seed=-1 is negative"),
    (dict(init=np.zeros((2, 3))), ValueError, "init has shape"),
    (dict(working_memory=0), ValueError, "working_memory=0.0 is invalid"),
]


@pytest.mark.parametrize("kwargs, exc, words", BAD, ids=lambda v: str(v)[:30])
def test_every_variant_raises_the_same_message(kwargs, exc, words):
    messages = {}
    for name, fit in FAMILY.items():
        if "working_memory" in kwargs and name == "soft":
            continue  # soft k-means builds the full (n, k) matrix by design
        kw = {**INIT, "seed": 0, **kwargs}
        k = kw.pop("k", K)
        with pytest.raises(exc, match=words) as info:
            fit(X, k, **kw)
        messages[name] = str(info.value)
    assert len(set(messages.values())) == 1, messages


def test_too_few_distinct_points_is_the_same_error_everywhere():
    Xd = np.repeat(X[:2], 10, axis=0)
    messages = set()
    for fit in FAMILY.values():
        with pytest.raises(ValueError, match="only 2 distinct") as info:
            fit(Xd, 3, seed=0, **INIT)
        messages.add(str(info.value).replace("directions", "points"))
    assert len(messages) == 1


# ------------------------------------------------------------- the pieces


def test_tolerance_is_the_mean_variance_times_tol():
    assert tolerance(X, 1e-3) == pytest.approx(1e-3 * np.var(X, axis=0).mean())
    assert tolerance(X, 1e-3, xx=sq_norms(X)) == pytest.approx(tolerance(X, 1e-3))
    assert tolerance(X, 1e-3, precision=np.eye(3)) == pytest.approx(tolerance(X, 1e-3))
    assert tolerance(X, 0.0) == 0.0


def test_tolerance_with_precision_is_that_of_the_whitened_data():
    root = lib.mahalanobis.sqrtm_spd(SIGMA)
    assert tolerance(X, 1e-4, precision=SIGMA) == pytest.approx(
        tolerance(X @ root, 1e-4)
    )


def test_start_centroids_copies_an_array_and_runs_a_method():
    C0 = check_init(X[:4], 4, 3)
    C = start_centroids(X, 4, C0, None)
    assert C is not C0 and np.array_equal(C, X[:4])
    a = start_centroids(X, 4, check_init("k-means++", 4, 3), np.random.default_rng(0))
    b = lib.init_centroids(X, 4, "k-means++", seed=0)
    np.testing.assert_array_equal(a, b)


def test_fill_empty_gives_each_empty_cluster_the_worst_served_point():
    labels = np.array([0, 0, 0, 1, 1])
    costs = np.array([1.0, 9.0, 2.0, 3.0, 8.0])
    assert fill_empty(labels, costs, 4).tolist() == [0, 2, 0, 1, 3]
    same = np.array([0, 1])
    assert fill_empty(same, np.zeros(2), 2) is same


def test_lloyd_with_the_kmeans_pieces_is_kmeans():
    C0 = X[[0, 60, 120, 180]]
    rows = lib.distances.chunk_rows(K, 3)
    res = lloyd_loop(
        C0,
        lambda C: nearest_centroid(X, C, "sqeuclidean", rows, sq_norms(X)),
        lambda labels, C: update_centroids(X, labels, K),
        max_iter=300,
        tol_abs=tolerance(X, 1e-4, xx=sq_norms(X)),
    )
    ref = lib.kmeans(X, K, init=C0)
    np.testing.assert_array_equal(res.centroids, ref.centroids)
    assert res.n_iter == ref.n_iter
    assert res.history.inertia == ref.history.inertia
