"""Bad input gets a clear error, never a silent wrong answer (issue: reliability).

Each class of defect is checked over every public function it concerns; the
property battery at the end feeds random finite data within lib's documented
range to the core functions and accepts only a finite answer or a clear
ValueError/TypeError.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lib

X = np.random.default_rng(0).normal(size=(30, 2))
LABELS = np.arange(30) % 3

# Everything that computes squared distances of X.
ON_X = {
    "kmeans": lambda X: lib.kmeans(X, 3, seed=0),
    "kmedians": lambda X: lib.kmeans(X, 3, metric="manhattan", seed=0),
    "minibatch_kmeans": lambda X: lib.minibatch_kmeans(X, 3, seed=0),
    "assign": lambda X: lib.assign(X, X[:3]),
    "init_centroids": lambda X: lib.init_centroids(X, 3, "k-means++", seed=0),
    "silhouette_score": lambda X: lib.silhouette_score(X, LABELS),
    "soft_assign": lambda X: lib.soft_assign(X, X[:3], 1.0),
    "soft_kmeans": lambda X: lib.soft_kmeans(X, 3, 1.0, seed=0),
    "spherical_gmm": lambda X: lib.spherical_gmm(X, 3, seed=0),
    "knn_graph": lambda X: lib.knn_graph(X, 3),
    "dbscan": lambda X: lib.dbscan(X, 0.5, 3),
    "gap_statistic": lambda X: lib.gap_statistic(X, [1, 2], n_refs=2, seed=0),
}


@pytest.mark.parametrize("name", sorted(ON_X))
@pytest.mark.parametrize("scale,words", [(1e160, "overflow"), (1e-160, "underflow")])
def test_squares_that_overflow_or_underflow_are_refused(name, scale, words):
    with pytest.raises(ValueError, match=rf"{words}.*rescale it"):
        ON_X[name](X * scale)


@pytest.mark.parametrize("name", sorted(ON_X))
def test_the_edges_of_the_range_still_work(name):
    for scale in (1e150 / np.abs(X).max(), 1e-149 / np.abs(X).max()):
        ON_X[name](X * scale)  # no error, and (below) no NaN
    res = ON_X["kmeans"](X * 1e-150 / np.abs(X).max())
    assert np.isfinite(res.inertia) and len(np.unique(res.labels)) == 3


@pytest.mark.parametrize(
    "metric",
    [
        lib.adjusted_rand_index,
        lib.hungarian_accuracy,
        lib.majority_accuracy,
        lib.normalized_mutual_info,
    ],
)
def test_float_labels_too_large_to_be_integers_are_refused(metric):
    with pytest.raises(ValueError, match="too large to be an exact integer"):
        metric([0.0, 1e20, 0.0, 1e20], [0, 1, 0, 1])
    assert metric([0.0, 3.0, 0.0, 3.0], [0, 1, 0, 1]) == pytest.approx(1.0)


def test_minibatch_batch_is_capped_at_n():
    # A batch of 10**9 rows would ask for gigabytes; it means "all of them".
    big = lib.minibatch_kmeans(X, 3, batch_size=10**9, max_iter=5, seed=0)
    full = lib.minibatch_kmeans(X, 3, batch_size=len(X), max_iter=5, seed=0)
    np.testing.assert_array_equal(big.centroids, full.centroids)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


def _core(data):
    """The core calls, sized to the drawn data."""
    k = min(3, len(data))
    labels = np.arange(len(data)) % k
    return {
        "kmeans": lambda: lib.kmeans(data, k, seed=0),
        "kmedians": lambda: lib.kmeans(data, k, metric="manhattan", seed=0),
        "minibatch_kmeans": lambda: lib.minibatch_kmeans(data, k, seed=0),
        "assign": lambda: lib.assign(data, data[:k]),
        "silhouette_score": lambda: lib.silhouette_score(data, labels),
        "soft_assign": lambda: lib.soft_assign(data, data[:k], 1.0),
        "spherical_gmm": lambda: lib.spherical_gmm(data, k, seed=0),
        "soft_kmeans": lambda: lib.soft_kmeans(data, k, 1.0, seed=0),
        "spherical_kmeans": lambda: lib.spherical_kmeans(data, k, seed=0),
        "mahalanobis_kmeans": lambda: lib.mahalanobis_kmeans(
            data, k, np.eye(data.shape[1]), seed=0
        ),
        "init_centroids": lambda: lib.init_centroids(data, k, seed=0),
        "kmedoids": lambda: lib.kmedoids(np.abs(data[:, :1] - data[:, 0]), k, seed=0),
        "gower_distances": lambda: lib.gower_distances(data),
        "silhouette_samples": lambda: lib.silhouette_samples(data, labels),
        "dbscan": lambda: lib.dbscan(data, 1.0, 2).labels,
        "modified_dbscan": lambda: lib.modified_dbscan(data, 1.0, 2, k).labels,
        "knn_graph": lambda: lib.knn_graph(data, k).toarray(),
        "spectral_clustering": lambda: lib.spectral_clustering(
            np.ones((len(data), len(data))) - np.eye(len(data)), k, seed=0
        ),
        "vq_encode": lambda: lib.vq_encode(data, data[:k]),
        "pq_fit": lambda: lib.pq_fit(data, 1, ksub=k, seed=0),
        "soft_assign_sharp": lambda: lib.soft_assign(data, data[:k], 1e3),
        "metrics": lambda: np.array(
            [
                f(labels, np.argsort(data[:, 0]) % k)
                for f in (
                    lib.adjusted_rand_index,
                    lib.normalized_mutual_info,
                    lib.hungarian_accuracy,
                    lib.majority_accuracy,
                )
            ]
        ),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=arrays(
        np.float64, st.tuples(st.integers(1, 25), st.integers(1, 3)), elements=finite
    )
)
def test_core_functions_answer_finite_or_refuse_clearly(data):
    for name, call in sorted(_core(data).items()):
        try:
            out = call()
        except (ValueError, TypeError) as err:
            # The house style: what is wrong; how to fix it.
            assert ";" in str(err) and len(str(err)) > 30, (name, err)
            continue
        if isinstance(out, (np.ndarray, float, int)):
            values = [out]
        else:
            values = [
                getattr(out, a)
                for a in ("inertia", "centroids", "labels", "means", "responsibilities")
                if hasattr(out, a)
            ]
        for v in values:
            assert np.all(np.isfinite(np.asarray(v, dtype=float))), (name, v)


def test_wide_greyscale_images_are_rescaled_not_clipped(tmp_path):
    from PIL import Image

    from lib.datasets import load_image

    ramp16 = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (4, 1))
    Image.fromarray(ramp16).save(tmp_path / "ramp16.png")
    ramp01 = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (4, 1))
    Image.fromarray(ramp01, mode="F").save(tmp_path / "ramp01.tiff")
    for name in ("ramp16.png", "ramp01.tiff"):
        with pytest.warns(UserWarning, match="rescaling it to 0..255"):
            img = load_image(tmp_path / name)
        assert img.dtype == np.uint8 and img.shape == (4, 64, 3)
        row = img[0, :, 0].astype(int)
        assert row[0] == 0 and row[-1] == 255 and np.all(np.diff(row) >= 0), name
        assert len(np.unique(row)) > 50, f"{name} was clipped: {np.unique(row)}"


@pytest.mark.parametrize(
    "call",
    [
        lambda img: lib.quantize_image(img, 2, seed=0),
        lambda img: lib.psnr(img, img),
        lambda img: lib.images.mse(img, img),
        lambda img: lib.images.error_map(img, img),
    ],
    ids=["quantize_image", "psnr", "mse", "error_map"],
)
def test_float_images_in_0_1_are_refused(call):
    img = np.random.default_rng(0).uniform(0, 1, size=(8, 8, 3))
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*\* 255"):
        call(img)
    call((img * 255).round().astype(np.uint8))  # the fix works


def test_cosine_knn_memory_is_bounded_by_working_memory():
    import tracemalloc

    from lib.spherical import cosine_knn

    rng = np.random.default_rng(0)
    Q, D = rng.normal(size=(200, 8)), rng.normal(size=(20_000, 8))
    want = cosine_knn(Q, D, n_neighbors=5)
    tracemalloc.start()
    got = cosine_knn(Q, D, n_neighbors=5, working_memory=1.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(got, want)
    full = 8 * len(Q) * len(D)  # the (n_queries, n) matrix it used to build
    assert peak < full / 4, (peak, full)
    # Ties go to the lower database index.
    ties = cosine_knn(
        np.ones((1, 2)), np.ones((6, 2)), n_neighbors=3, working_memory=1e-4
    )
    assert ties.tolist() == [[0, 1, 2]]


@pytest.mark.parametrize(
    "call",
    [lambda X: lib.dbscan(X, 0.5, 5), lambda X: lib.modified_dbscan(X, 0.5, 5, 2)],
    ids=["dbscan", "modified_dbscan"],
)
def test_dbscan_says_when_eps_links_too_many_pairs(call, monkeypatch):
    import lib.density as density

    monkeypatch.setattr(density, "MAX_PAIRS", 1000)
    with pytest.raises(MemoryError, match=r"finds 1,600 neighbour pairs.*smaller eps"):
        call(np.zeros((40, 2)))


def test_degenerate_results_are_refused_not_returned():
    dup = np.repeat(np.random.default_rng(0).normal(size=(5, 2)), 10, axis=0)
    with pytest.raises(ValueError, match="collapsed to 0.*reg_covar > 0"):
        lib.spherical_gmm(dup, 3, reg_covar=0, seed=0)
    assert np.isfinite(lib.spherical_gmm(dup, 3, seed=0).means).all()
    with pytest.raises(ValueError, match=r"number of distinct points \(1"):
        lib.kmedoids(np.zeros((10, 10)), 3, seed=0)
    # x and 3x: one direction, whose two roundings once kept two centroids.
    rng = np.random.default_rng(29)
    m, d = rng.integers(2, 6), rng.integers(2, 4)
    X = np.repeat(rng.normal(size=(m, d)), rng.integers(1, 6, size=m), axis=0)
    X *= rng.uniform(0.5, 2)
    X = np.vstack([X, -X[:1], 3 * X[:1]])
    res = lib.spherical_kmeans(X, 5, init="random", seed=29)
    assert len(np.unique(res.centroids.round(9), axis=0)) == 5
    assert np.all(np.bincount(res.labels, minlength=5) > 0)
    # Two cliques, no edge between: the 2 "clusters" are just the components.
    A = np.kron(np.eye(2), np.ones((4, 4))) - np.eye(8)
    with pytest.warns(UserWarning, match=r"2 connected components \(sizes 4, 4\)"):
        lib.spectral_clustering(A, 2, seed=0)
    bridged = A.copy()
    bridged[3, 4] = bridged[4, 3] = 1.0  # connected: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lib.spectral_clustering(bridged, 2, seed=0)
        lib.spectral_clustering(A, 2, laplacian="regularized", seed=0)


def test_missing_values_and_bad_codebooks_are_refused():
    pd = pytest.importorskip("pandas")
    from lib.pq import pq_search_adc

    frames = [
        pd.DataFrame({"a": [1.0, 2.0], "b": pd.array(["x", pd.NA], dtype="string")}),
        pd.DataFrame({"a": pd.array([1.0, None], dtype="Float64"), "b": ["x", "y"]}),
        pd.DataFrame({"a": [1.0, 2.0], "b": pd.Categorical(["x", None])}),
    ]
    for df in frames:
        with pytest.raises(ValueError, match="missing.*drop or impute"):
            lib.gower_distances(df)
    B = np.array([[[0.0], [np.nan]], [[0.0], [1.0]]])
    with pytest.raises(ValueError, match=r"codebooks hold a non-finite value \(nan"):
        pq_search_adc(np.array([[0.9, 0.2]]), np.array([[0, 0]]), B, n_neighbors=1)
