"""Tests for lib.quantize: VQ, byte accounting, spherical k-means and PQ."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

import lib
from lib.quantize import (cosine_knn, cosine_similarities, index_dtype,
                          mean_cosine_similarity, normalize_rows, pq_decode,
                          pq_encode, pq_fit, pq_search_adc, quantized_size,
                          recall_at_k, spherical_kmeans, vq_decode, vq_encode)


def blobs(n=400, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32)


# ------------------------------------------------------------- encode / decode

def test_round_trip_codewords_encode_to_themselves():
    rng = np.random.default_rng(1)
    C = rng.normal(size=(300, 5)).astype(np.float32)
    idx = rng.integers(0, 300, size=1000)
    codes = vq_encode(vq_decode(idx, C), C)
    assert codes.dtype == np.uint16
    np.testing.assert_array_equal(codes, idx)
    np.testing.assert_array_equal(vq_decode(codes, C), C[idx])


def test_decode_encode_is_idempotent_on_data():
    X = blobs()
    C = lib.kmeans(X, 16, seed=0, max_iter=20).centroids
    codes = vq_encode(X, C)
    R = vq_decode(codes, C)
    np.testing.assert_array_equal(vq_encode(R, C), codes)


def test_encode_matches_kmeans_labels():
    X = blobs()
    res = lib.kmeans(X, 16, seed=0)
    np.testing.assert_array_equal(vq_encode(X, res.centroids), res.labels)


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(1, 500), seed=st.integers(0, 1000))
def test_chunked_encoding_equals_unchunked(chunk, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(437, 6)).astype(np.float32)
    C = rng.normal(size=(20, 6))
    whole = vq_encode(X, C, chunk_size=10**6)
    np.testing.assert_array_equal(vq_encode(X, C, chunk_size=chunk), whole)
    np.testing.assert_array_equal(whole, lib.assign(X, C))


def test_chunked_pq_encoding_equals_unchunked():
    X = blobs(500, 8)
    B = pq_fit(X, 4, ksub=8, seed=0, max_iter=10)
    np.testing.assert_array_equal(pq_encode(X, B, chunk_size=7), pq_encode(X, B))


def test_encode_memory_is_bounded_by_the_chunk():
    # A float64 copy of this table would take 12.8 MB; encoding streams it.
    X = np.random.default_rng(0).normal(size=(200_000, 8)).astype(np.float32)
    C = np.random.default_rng(1).normal(size=(4, 8))
    tracemalloc.start()
    codes = vq_encode(X, C, chunk_size=1000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2e6, peak
    np.testing.assert_array_equal(codes[:5000], lib.assign(X[:5000], C))


# ------------------------------------------------------------- byte accounting

@pytest.mark.parametrize("k, dtype", [(1, np.uint8), (2, np.uint8), (256, np.uint8),
                                      (257, np.uint16), (65536, np.uint16),
                                      (65537, np.uint32)])
def test_index_dtype_is_the_smallest_that_fits(k, dtype):
    assert index_dtype(k) == dtype


def test_byte_accounting_by_hand():
    s = quantized_size(1000, 32, 256)
    assert (s.original, s.codebook, s.indices, s.total) == (128_000, 32_768, 1_000, 33_768)
    assert s.ratio == pytest.approx(128_000 / 33_768)
    assert s.mb("original") == 0.128
    # k = 512 needs two bytes per index.
    s = quantized_size(1000, 32, 512)
    assert (s.codebook, s.indices, s.bytes_per_vector) == (65_536, 2_000, 2)
    # PQ: m codebooks of (256, d/m) floats cost as much as one (256, d) codebook.
    s = quantized_size(10**6, 64, 256, m=8)
    assert (s.codebook, s.indices, s.bytes_per_vector) == (65_536, 8 * 10**6, 8)


def test_byte_accounting_matches_real_arrays():
    X = blobs(300, 8)
    for k in (16, 257):
        C = np.random.default_rng(0).normal(size=(k, 8)).astype(np.float32)
        codes = vq_encode(X, C)
        s = quantized_size(300, 8, k)
        assert s.codebook + s.indices == C.nbytes + codes.nbytes
        assert s.original == X.nbytes
    B = pq_fit(X, 2, ksub=16, seed=0, max_iter=5).astype(np.float32)
    codes = pq_encode(X, B)
    assert quantized_size(300, 8, 16, m=2).total == B.nbytes + codes.nbytes


# ------------------------------------------------------------- cosine helpers

def test_cosine_similarities_agree_with_a_loop():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    loop = [x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(X, Y)]
    np.testing.assert_allclose(cosine_similarities(X, Y), loop)
    assert mean_cosine_similarity(X, 3.0 * X) == pytest.approx(1.0)


def test_normalize_rows_in_place_float32():
    X = blobs(100, 4) * 7
    normalize_rows(X, out=X)
    assert X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-6)


def test_cosine_knn_agrees_with_sklearn():
    rng = np.random.default_rng(4)
    X, Q = rng.normal(size=(300, 6)), rng.normal(size=(20, 6))
    ref = NearestNeighbors(n_neighbors=5, metric="cosine", algorithm="brute").fit(X)
    _, want = ref.kneighbors(Q)
    np.testing.assert_array_equal(cosine_knn(Q, X, k=5, chunk_size=37), want)


def test_recall_at_k():
    truth = np.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(truth[:, ::-1], truth) == 1.0  # order does not matter
    assert recall_at_k(np.array([[0, 9, 9, 9], [8, 8, 8, 8]]), truth) == pytest.approx(1 / 8)


# ------------------------------------------------------------- spherical k-means

def test_spherical_kmeans_ignores_norms():
    rng = np.random.default_rng(5)
    dirs = normalize_rows(rng.normal(size=(4, 10)))
    labels = rng.integers(0, 4, size=400)
    X = normalize_rows(dirs[labels] + 0.2 * rng.normal(size=(400, 10)) / np.sqrt(10))
    res = spherical_kmeans(X, 4, seed=0, n_init=3)
    scaled = X * rng.lognormal(0, 2, size=(400, 1))  # heavy-tailed lengths
    res2 = spherical_kmeans(scaled, 4, seed=0, n_init=3)
    np.testing.assert_array_equal(res2.labels, res.labels)
    assert adjusted_rand_score(labels, res.labels) == pytest.approx(1.0)
    np.testing.assert_allclose(np.linalg.norm(res.centroids, axis=1), 1.0)
    assert np.all(np.diff(res.history.inertia) <= 1e-9)  # monotone in cosine
    cos = (X * res.centroids[res.labels]).sum(1)
    assert res.inertia == pytest.approx(np.sum(1 - cos))


def test_spherical_centroid_is_the_best_direction():
    # For one cluster the optimal unit centroid is the normalized mean direction.
    rng = np.random.default_rng(6)
    X = normalize_rows(rng.normal(size=(50, 3)) + [3, 0, 0])
    res = spherical_kmeans(X, 1, seed=0)
    mean = X.mean(0) / np.linalg.norm(X.mean(0))
    np.testing.assert_allclose(res.centroids[0], mean, atol=1e-12)


# ------------------------------------------------------------- product quantization

def test_pq_with_one_subvector_equals_vq():
    X = blobs(400, 6)
    B = pq_fit(X, 1, ksub=32, seed=7)
    res = lib.kmeans(X, 32, seed=7)
    np.testing.assert_array_equal(B[0], res.centroids)
    codes = pq_encode(X, B)
    np.testing.assert_array_equal(codes[:, 0], vq_encode(X, res.centroids))
    np.testing.assert_array_equal(pq_decode(codes, B), vq_decode(codes[:, 0], res.centroids))


def test_pq_decode_concatenates_subcentroids():
    X = blobs(300, 8)
    B = pq_fit(X, 4, ksub=8, seed=0, max_iter=10)
    codes = pq_encode(X, B)
    R = pq_decode(codes, B)
    for j in range(4):
        np.testing.assert_array_equal(R[:, 2 * j:2 * j + 2], B[j][codes[:, j]])
    # Four codebooks of 8 make 8**4 cells: finer than one codebook of 8.
    err_pq = np.sum((X - R) ** 2)
    C = lib.kmeans(X, 8, seed=0).centroids
    err_vq = np.sum((X - vq_decode(vq_encode(X, C), C)) ** 2)
    assert err_pq < err_vq


@pytest.mark.parametrize("metric", ["sqeuclidean", "dot"])
def test_adc_equals_brute_force_on_decoded_vectors(metric):
    X = blobs(500, 8)
    Q = blobs(15, 8, seed=9)
    B = pq_fit(X, 4, ksub=16, seed=0, max_iter=10)
    codes = pq_encode(X, B)
    R = pq_decode(codes, B)
    if metric == "sqeuclidean":
        D = ((Q[:, None, :].astype(float) - R[None]) ** 2).sum(-1)
    else:
        D = -(Q.astype(float) @ R.T)
    got = pq_search_adc(Q, codes, B, k=7, metric=metric, chunk_size=33)
    want = np.argsort(D, axis=1, kind="stable")[:, :7]
    np.testing.assert_allclose(np.take_along_axis(D, got, 1),
                               np.take_along_axis(D, want, 1), rtol=1e-10)


# ------------------------------------------------------------- bad inputs

def test_bad_inputs_are_named():
    X = blobs(50, 4)
    C = X[:5].astype(float)
    with pytest.raises(ValueError, match="codebook has 3 features but X has 4"):
        vq_encode(X, C[:, :3])
    with pytest.raises(TypeError, match="chunk_size must be an integer"):
        vq_encode(X, C, chunk_size=2.5)
    with pytest.raises(ValueError, match="chunk_size=0 is too small"):
        vq_encode(X, C, chunk_size=0)
    with pytest.raises(ValueError, match="must be 2-D"):
        vq_encode(X[0], C)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vq_encode(bad, C)
    with pytest.raises(ValueError, match=r"indices range over \[0, 9\] but the codebook has 5"):
        vq_decode(np.array([0, 9]), C)
    with pytest.raises(TypeError, match="indices must be a 1-D integer array"):
        vq_decode(np.array([0.0, 1.0]), C)
    with pytest.raises(ValueError, match="codebook must be 2-D"):
        vq_decode(np.array([0]), C[0])


def test_bad_sizes_and_pq_arguments():
    with pytest.raises(ValueError, match="d=30 is not divisible by m=4"):
        quantized_size(10, 30, 256, m=4)
    with pytest.raises(ValueError, match="m=40 is larger than the number of features"):
        quantized_size(10, 30, 256, m=40)
    with pytest.raises(ValueError, match="k=0 is too small"):
        index_dtype(0)
    X = blobs(50, 6)
    with pytest.raises(ValueError, match="not divisible by m=4"):
        pq_fit(X, 4, ksub=4)
    with pytest.raises(ValueError, match="ksub=256 is larger than the number of samples"):
        pq_fit(X, 2)
    B = pq_fit(X, 2, ksub=4, seed=0)
    with pytest.raises(ValueError, match="describe 6 features but X has 4"):
        pq_encode(X[:, :4], B)
    with pytest.raises(ValueError, match="codebooks must be a float array"):
        pq_encode(X, B[0])
    codes = pq_encode(X, B)
    with pytest.raises(ValueError, match=r"codes must be an integer array of shape \(n_samples, 2\)"):
        pq_decode(codes[:, :1], B)
    with pytest.raises(ValueError, match="codes range over"):
        pq_decode(codes + 10, B)
    with pytest.raises(ValueError, match="metric='cosine' is not supported"):
        pq_search_adc(X[:2], codes, B, metric="cosine")
    with pytest.raises(ValueError, match="k=51 is larger than the database size"):
        pq_search_adc(X[:2], codes, B, k=51)


def test_bad_cosine_inputs():
    X = blobs(20, 3)
    Z = X.copy()
    Z[4] = 0
    with pytest.raises(ValueError, match="row 4 of X has norm 0.0"):
        normalize_rows(Z)
    with pytest.raises(ValueError, match="row 4 of X has norm"):
        spherical_kmeans(Z, 2, seed=0)
    with pytest.raises(ValueError, match=r"X has shape \(20, 3\) but Y has shape \(19, 3\)"):
        cosine_similarities(X, X[:19])
    with pytest.raises(ValueError, match="k=21 is larger than the number of samples"):
        spherical_kmeans(X, 21, seed=0)
    with pytest.raises(ValueError, match="init='kmeans' is not supported"):
        spherical_kmeans(X, 2, init="kmeans")
    with pytest.raises(ValueError, match="init has shape"):
        spherical_kmeans(X, 2, init=np.ones((3, 3)))
    with pytest.raises(ValueError, match="found has shape"):
        recall_at_k(np.zeros((2, 3), int), np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="X has 2 features but queries have 3"):
        cosine_knn(X, X[:, :2])
