"""Tests for lib.quantize: VQ encoding and decoding, and byte accounting."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lib
from lib.pq import pq_encode, pq_fit
from lib.quantize import index_dtype, quantized_size, vq_decode, vq_encode


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
    whole = vq_encode(X, C, working_memory=1000)
    # `chunk` float64 rows of 6 features a chunk.
    np.testing.assert_array_equal(
        vq_encode(X, C, working_memory=chunk * 6 * 8 / 2**20), whole
    )
    np.testing.assert_array_equal(whole, lib.assign(X, C))


def test_encode_memory_is_bounded_by_the_chunk():
    # A float64 copy of this table would take 12.8 MB; encoding streams it.
    X = np.random.default_rng(0).normal(size=(200_000, 8)).astype(np.float32)
    C = np.random.default_rng(1).normal(size=(4, 8))
    tracemalloc.start()
    codes = vq_encode(X, C, working_memory=1000 * 8 * 8 / 2**20)  # 1000 rows
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2e6, peak
    np.testing.assert_array_equal(codes[:5000], lib.assign(X[:5000], C))


# ------------------------------------------------------------- byte accounting


@pytest.mark.parametrize(
    "k, dtype",
    [
        (1, np.uint8),
        (2, np.uint8),
        (256, np.uint8),
        (257, np.uint16),
        (65536, np.uint16),
        (65537, np.uint32),
    ],
)
def test_index_dtype_is_the_smallest_that_fits(k, dtype):
    assert index_dtype(k) == dtype


def test_byte_accounting_by_hand():
    s = quantized_size(1000, 32, 256)
    assert (s.original, s.codebook, s.indices, s.total) == (
        128_000,
        32_768,
        1_000,
        33_768,
    )
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


# ------------------------------------------------------------- bad inputs


def test_bad_inputs_are_named():
    X = blobs(50, 4)
    C = X[:5].astype(float)
    with pytest.raises(ValueError, match="codebook has 3 features but X has 4"):
        vq_encode(X, C[:, :3])
    with pytest.raises(TypeError, match="working_memory must be a real number"):
        vq_encode(X, C, working_memory="64")
    with pytest.raises(ValueError, match="working_memory=0.0 is invalid"):
        vq_encode(X, C, working_memory=0)
    with pytest.raises(ValueError, match="must be 2-D"):
        vq_encode(X[0], C)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vq_encode(bad, C)
    with pytest.raises(
        ValueError, match=r"indices range over \[0, 9\] but the codebook has 5"
    ):
        vq_decode(np.array([0, 9]), C)
    with pytest.raises(TypeError, match="indices must be a 1-D integer array"):
        vq_decode(np.array([0.0, 1.0]), C)
    with pytest.raises(ValueError, match="codebook must be 2-D"):
        vq_decode(np.array([0]), C[0])
