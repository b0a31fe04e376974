"""Tests for lib.images: colour quantization, quality and size accounting."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

import lib
from lib.images import (
    compressed_size,
    error_map,
    floyd_steinberg,
    lab_to_rgb,
    mse,
    psnr,
    quantize_image,
    reconstruct,
    rgb_to_lab,
)


def _blobs_image(seed=0, height=12, width=10):
    """An image whose pixels are noisy copies of three well-separated colours."""
    rng = np.random.default_rng(seed)
    colours = np.array([[20, 30, 200], [230, 40, 40], [60, 220, 90]])
    truth = rng.integers(0, 3, size=(height, width))
    img = colours[truth] + rng.integers(-6, 7, size=(height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8), truth


# ------------------------------------------------- brute-force L1 (k-medians) reference


def _brute_assign_l1(X, C):
    labels = []
    for x in X.tolist():
        costs = [sum(abs(a - b) for a, b in zip(x, c)) for c in C.tolist()]
        labels.append(min(range(len(costs)), key=lambda j: (costs[j], j)))
    return np.array(labels)


def _brute_median(values):
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def _brute_update_l1(X, labels, k):
    C = []
    for j in range(k):
        members = [x for x, lab in zip(X.tolist(), labels) if lab == j]
        C.append([_brute_median([m[c] for m in members]) for c in range(X.shape[1])])
    return np.array(C, dtype=float)


def _brute_kmedians(X, C, max_iter=100):
    """Plain k-medians with Python loops; None if a cluster ever empties."""
    labels = _brute_assign_l1(X, C)
    for it in range(1, max_iter + 1):
        if len(set(labels.tolist())) < len(C):
            return None
        C = _brute_update_l1(X, labels, len(C))
        new = _brute_assign_l1(X, C)
        if np.array_equal(new, labels):
            return C, new, it
        labels = new
    return C, labels, max_iter


@st.composite
def pixels_and_init(draw):
    n = draw(st.integers(4, 30))
    k = draw(st.integers(1, 4))
    X = draw(arrays(np.uint8, (n, 3), elements=st.integers(0, 255)))
    distinct = np.unique(X, axis=0)
    assume(len(distinct) >= k)
    idx = draw(st.permutations(range(len(distinct))))[:k]
    return X, distinct[list(idx)].astype(float)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pixels_and_init())
def test_kmedians_one_step_matches_brute_force(data):
    X, C0 = data
    k = len(C0)
    res = lib.kmeans(X, k, init=C0, metric="manhattan", max_iter=1, tol=0)
    labels0 = _brute_assign_l1(X.astype(float), C0)
    # Every initial centroid is a distinct data point, so no cluster starts empty.
    np.testing.assert_allclose(
        res.history.centroids[1], _brute_update_l1(X.astype(float), labels0, k)
    )
    np.testing.assert_array_equal(
        res.labels, _brute_assign_l1(X.astype(float), res.centroids)
    )
    np.testing.assert_allclose(res.history.inertia[0], np.abs(X - C0[labels0]).sum())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pixels_and_init())
def test_kmedians_to_convergence_matches_brute_force(data):
    X, C0 = data
    ref = _brute_kmedians(X.astype(float), C0)
    assume(ref is not None)
    C, labels, n_iter = ref
    res = lib.kmeans(X, len(C0), init=C0, metric="manhattan", tol=0)
    np.testing.assert_allclose(res.centroids, C)
    np.testing.assert_array_equal(res.labels, labels)
    assert res.n_iter == n_iter and res.converged


def test_quantize_image_kmedians_matches_brute_force_on_a_tiny_image():
    img, _ = _blobs_image(seed=3, height=5, width=4)
    pixels = img.reshape(-1, 3).astype(float)
    C0 = pixels[[0, 7, 13]]
    assume_distinct = len(np.unique(C0, axis=0)) == 3
    assert assume_distinct
    ref = _brute_kmedians(pixels, C0)
    assert ref is not None
    q = quantize_image(img, 3, metric="manhattan", init=C0, tol=0)
    np.testing.assert_allclose(q.palette, ref[0])
    np.testing.assert_array_equal(q.labels, ref[1].reshape(5, 4))


def test_l1_assignment_is_chunked_and_vectorized():
    # Chunks of a few rows give the same labels as one block, and a brute loop.
    img, _ = _blobs_image(seed=1, height=9, width=7)
    X = img.reshape(-1, 3).astype(float)
    C = np.array([[0.0, 0, 0], [128, 128, 128], [255, 0, 0], [0, 255, 0]])
    tiny = lib.assign(X, C, "manhattan", working_memory=1e-4)
    big = lib.assign(X, C, "manhattan")
    np.testing.assert_array_equal(tiny, big)
    np.testing.assert_array_equal(big, _brute_assign_l1(X, C))


# ------------------------------------------------------------------ quantize_image


@pytest.mark.parametrize("metric", ["sqeuclidean", "manhattan"])
def test_recovers_three_colours(metric):
    img, truth = _blobs_image()
    q = quantize_image(img, 3, metric=metric, n_init=3, seed=0)
    assert q.labels.shape == img.shape[:2] and q.palette.shape == (3, 3)
    assert adjusted_rand_score(truth.ravel(), q.labels.ravel()) == 1.0
    assert q.labels.min() == 0 and q.labels.max() == 2  # 0-based
    assert q.n_fit == img.shape[0] * img.shape[1] and q.metric == metric


def test_agrees_with_sklearn_from_the_same_init():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, size=(20, 15, 3)).astype(np.uint8)
    X = img.reshape(-1, 3).astype(float)
    C0 = X[[0, 50, 100, 150, 200]]
    q = quantize_image(img, 5, init=C0, tol=0, max_iter=500)
    sk = KMeans(5, init=C0, n_init=1, tol=0, max_iter=500, algorithm="lloyd").fit(X)
    assert adjusted_rand_score(sk.labels_, q.labels.ravel()) == 1.0
    np.testing.assert_allclose(
        np.sort(q.palette, axis=0), np.sort(sk.cluster_centers_, axis=0), atol=1e-8
    )


def test_palette_is_in_range_and_labels_match_it():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, size=(16, 16, 3)).astype(np.uint8)
    for metric in ("sqeuclidean", "manhattan"):
        q = quantize_image(img, 6, metric=metric, seed=1)
        assert q.palette.min() >= 0 and q.palette.max() <= 255
        np.testing.assert_array_equal(
            q.labels.ravel(), lib.assign(img.reshape(-1, 3), q.palette, metric)
        )


def test_subsample_fits_on_fewer_pixels_and_labels_every_pixel():
    img, truth = _blobs_image(height=30, width=20)
    q = quantize_image(img, 3, sample_size=100, seed=0, n_init=3)
    assert q.n_fit == 100 and q.labels.shape == (30, 20)
    assert adjusted_rand_score(truth.ravel(), q.labels.ravel()) == 1.0
    # The subsample has its own seed: different init seeds fit the same pixels.
    a = quantize_image(img, 3, sample_size=100, seed=1, sample_seed=7)
    b = quantize_image(img, 3, sample_size=100, seed=2, sample_seed=7)
    assert a.inertia == pytest.approx(b.inertia)  # same pixels, same optimum here
    # Without sample_seed the subsample follows seed: an int seeds both.
    c = quantize_image(img, 3, sample_size=100, seed=5)
    d = quantize_image(img, 3, sample_size=100, seed=5, sample_seed=5)
    np.testing.assert_array_equal(c.palette, d.palette)
    # sample_size >= n means all pixels.
    assert quantize_image(img, 3, sample_size=10**6, seed=0).n_fit == 600


def test_reproducible_and_chunked_equals_unchunked():
    img, _ = _blobs_image(seed=4, height=20, width=20)
    for metric in ("sqeuclidean", "manhattan"):
        a = quantize_image(img, 4, metric=metric, seed=3, sample_size=150)
        b = quantize_image(
            img, 4, metric=metric, seed=3, sample_size=150, working_memory=1e-4
        )
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.palette, b.palette)


def test_more_colours_never_hurt_much_and_k_equal_distinct_is_lossless():
    img = np.array(
        [[[0, 0, 0], [255, 0, 0]], [[0, 255, 0], [0, 0, 255]]], dtype=np.uint8
    )
    q = quantize_image(img, 4, seed=0)
    np.testing.assert_array_equal(q.reconstruct(), img)
    assert psnr(img, q.reconstruct()) == math.inf


@pytest.mark.parametrize(
    "image, kwargs, exc, pattern",
    [
        (
            np.zeros((4, 4)),
            {},
            ValueError,
            r"shape \(height, width, 3\).*got shape \(4, 4\)",
        ),
        (np.zeros((4, 4, 4)), {}, ValueError, r"drop an alpha channel"),
        (np.full((2, 2, 3), 300.0), {}, ValueError, r"outside \[0, 255\]"),
        (np.full((2, 2, 3), -1.0), {}, ValueError, r"outside \[0, 255\]"),
        (np.full((2, 2, 3), np.nan), {}, ValueError, r"NaN"),
        ("china", {}, TypeError, r"load it first"),
        (np.array([[["a"] * 3]]), {}, TypeError, r"real numbers"),
        (None, {}, TypeError, r"got NoneType"),
    ],
)
def test_bad_images_get_clear_messages(image, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        quantize_image(image, 2, seed=0, **kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        ({"k": 2.5}, TypeError, r"k must be an integer"),
        ({"k": 0}, ValueError, r"k=0 is too small"),
        ({"k": 5}, ValueError, r"only 2 distinct points, fewer than k=5"),
        ({"k": 2, "metric": "cosine"}, ValueError, r"metric='cosine' is not supported"),
        ({"k": 2, "sample_size": 0}, ValueError, r"sample_size=0 is too small"),
        ({"k": 2, "sample_size": 1.5}, TypeError, r"sample_size must be an integer"),
        (
            {"k": 3, "sample_size": 2},
            ValueError,
            r"k=3 is larger than the number of pixels fitted on \(2\)",
        ),
        (
            {"k": 2, "sample_seed": -1, "sample_size": 3},
            ValueError,
            r"sample_seed=-1 is negative",
        ),
        (
            {"k": 2, "init": "kmeans++"},
            ValueError,
            r"init='kmeans\+\+' is not supported",
        ),
    ],
)
def test_bad_arguments_get_clear_messages(kwargs, exc, pattern):
    img = np.zeros((3, 3, 3), dtype=np.uint8)
    img[0] = 255
    with pytest.raises(exc, match=pattern):
        quantize_image(img, **kwargs)


# --------------------------------------------------------------- quality and size


def test_mse_psnr_and_error_map_by_hand():
    a = np.zeros((2, 2, 3), dtype=np.uint8)
    b = a.copy()
    b[0, 0] = [3, 4, 0]
    assert mse(a, b) == pytest.approx(25 / 12)
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 * 12 / 25))
    np.testing.assert_allclose(error_map(a, b), [[25, 0], [0, 0]])
    np.testing.assert_allclose(error_map(a, b, "manhattan"), [[7, 0], [0, 0]])
    # uint8 must not wrap around: 0 - 3 is -3, not 253.
    assert mse(b, a) == mse(a, b)


def test_quality_functions_reject_mismatched_shapes():
    with pytest.raises(
        ValueError, match=r"original has shape \(2, 2, 3\) but reconstruction"
    ):
        mse(np.zeros((2, 2, 3)), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"metric='l2' is not supported"):
        error_map(np.zeros((1, 1, 3)), np.zeros((1, 1, 3)), "l2")


@pytest.mark.parametrize(
    "k, bits", [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (48, 6), (256, 8), (257, 9)]
)
def test_index_bits_are_ceil_log2_k(k, bits):
    r = compressed_size(1000, k)
    assert r.index_bits == bits == (math.ceil(math.log2(k)) if k > 1 else 0)
    assert r.palette_bytes == 3 * k
    assert r.index_bytes == math.ceil(1000 * bits / 8)
    assert r.compressed_bytes == r.palette_bytes + r.index_bytes
    assert r.original_bytes == 3000
    assert r.ratio == pytest.approx(3000 / r.compressed_bytes)
    assert r.bits_per_pixel == pytest.approx(8 * r.compressed_bytes / 1000)


def test_compressed_size_rejects_bad_input():
    with pytest.raises(ValueError, match=r"k=0 is too small"):
        compressed_size(10, 0)
    with pytest.raises(TypeError, match=r"n_pixels must be an integer"):
        compressed_size(10.0, 2)


def test_reconstruct_checks_labels_and_palette():
    with pytest.raises(
        ValueError, match=r"labels must be integers in \[0, 2\).*labels - 1"
    ):
        reconstruct(np.array([[1, 2]]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"palette must have shape \(k, 3\)"):
        reconstruct(np.array([[0]]), np.zeros((2, 4)))


# ------------------------------------------------------------ colour space, dithering


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (7, 3), elements=st.floats(0, 255)))
def test_lab_round_trip(rgb):
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-6)


def test_lab_reference_values():
    # sRGB red in CIELAB D65 is about (53.24, 80.09, 67.20) (Lindbloom's calculator).
    np.testing.assert_allclose(
        rgb_to_lab(np.array([255, 0, 0])), [53.24, 80.09, 67.20], atol=0.02
    )
    np.testing.assert_allclose(
        rgb_to_lab(np.array([128, 128, 128]))[1:], [0, 0], atol=1e-6
    )


def test_floyd_steinberg_keeps_the_mean_and_exact_colours():
    pal = np.array([[0.0, 0, 0], [255, 255, 255]])
    grey = np.full((16, 16, 3), 64.0)
    out = reconstruct(floyd_steinberg(grey, pal), pal)
    # A quarter-grey turns into about one white pixel in four.
    assert abs(out[..., 0].mean() - 64) < 8
    # Colours already in the palette pass through unchanged.
    img = pal[np.random.default_rng(0).integers(0, 2, size=(5, 6))]
    np.testing.assert_array_equal(reconstruct(floyd_steinberg(img, pal), pal), img)
    with pytest.raises(ValueError, match=r"palette must have shape \(k, 3\)"):
        floyd_steinberg(grey, np.zeros((0, 3)))
