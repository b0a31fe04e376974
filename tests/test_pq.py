"""Tests for lib.pq: product quantization, ADC search and recall@k."""

import numpy as np
import pytest

import lib
from lib.pq import pq_decode, pq_encode, pq_fit, pq_search_adc, recall_at_k
from lib.quantize import index_dtype, quantized_size, vq_decode, vq_encode


def blobs(n=400, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32)


# ------------------------------------------------------------- product quantization


def test_chunked_pq_encoding_equals_unchunked():
    X = blobs(500, 8)
    B = pq_fit(X, 4, ksub=8, seed=0, max_iter=10)
    # 7 rows of 2 float64 features a chunk.
    seven_rows = 7 * 2 * 8 / 2**20
    np.testing.assert_array_equal(
        pq_encode(X, B, working_memory=seven_rows), pq_encode(X, B)
    )


def test_pq_with_one_subvector_equals_vq():
    X = blobs(400, 6)
    B = pq_fit(X, 1, ksub=32, seed=7)
    res = lib.kmeans(X, 32, seed=7)
    np.testing.assert_array_equal(B[0], res.centroids)
    codes = pq_encode(X, B)
    np.testing.assert_array_equal(codes[:, 0], vq_encode(X, res.centroids))
    np.testing.assert_array_equal(
        pq_decode(codes, B), vq_decode(codes[:, 0], res.centroids)
    )


def test_pq_decode_concatenates_subcentroids():
    X = blobs(300, 8)
    B = pq_fit(X, 4, ksub=8, seed=0, max_iter=10)
    codes = pq_encode(X, B)
    R = pq_decode(codes, B)
    for j in range(4):
        np.testing.assert_array_equal(R[:, 2 * j : 2 * j + 2], B[j][codes[:, j]])
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
    rows_33 = 33 * 8 * (2 * 4 + 1) / 2**20  # 33 database rows a chunk
    got = pq_search_adc(
        Q, codes, B, n_neighbors=7, metric=metric, working_memory=rows_33
    )
    want = np.argsort(D, axis=1, kind="stable")[:, :7]
    np.testing.assert_allclose(
        np.take_along_axis(D, got, 1), np.take_along_axis(D, want, 1), rtol=1e-10
    )


# ------------------------------------------------------------- recall@k


def test_recall_at_k():
    truth = np.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(truth[:, ::-1], truth) == 1.0  # order does not matter
    assert recall_at_k(np.array([[0, 9, 9, 9], [8, 8, 8, 8]]), truth) == pytest.approx(
        1 / 8
    )


# ------------------------------------------------------------- bad inputs


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
    with pytest.raises(
        ValueError, match="ksub=256 is larger than the number of samples"
    ):
        pq_fit(X, 2)
    B = pq_fit(X, 2, ksub=4, seed=0)
    with pytest.raises(ValueError, match="describe 6 features but X has 4"):
        pq_encode(X[:, :4], B)
    with pytest.raises(ValueError, match="codebooks must be a float array"):
        pq_encode(X, B[0])
    codes = pq_encode(X, B)
    with pytest.raises(
        ValueError, match=r"codes must be an integer array of shape \(n_samples, 2\)"
    ):
        pq_decode(codes[:, :1], B)
    with pytest.raises(ValueError, match="codes range over"):
        pq_decode(codes + 10, B)
    with pytest.raises(ValueError, match="metric='cosine' is not supported"):
        pq_search_adc(X[:2], codes, B, metric="cosine")
    with pytest.raises(
        ValueError, match="n_neighbors=51 is larger than the database size"
    ):
        pq_search_adc(X[:2], codes, B, n_neighbors=51)


@pytest.mark.parametrize("bad", [-1, 4])
def test_adc_refuses_codes_outside_the_codebooks_as_decode_does(bad):
    X = np.random.default_rng(0).normal(size=(40, 4))
    B = pq_fit(X, m=2, ksub=4, seed=0)
    codes = pq_encode(X, B).astype(np.int64)  # uint8 cannot hold -1
    codes[3, 1] = bad
    for call in (lambda: pq_decode(codes, B), lambda: pq_search_adc(X[:2], codes, B)):
        with pytest.raises(ValueError, match=r"use codes in \[0, 3\]"):
            call()
