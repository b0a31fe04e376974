"""Tests for lib.naive: the slow reference loop agrees with the fast lib.assign."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lib
from lib.naive import assign_naive


def test_hand_computed():
    X = [[0.0, 0.0], [9.0, 9.0], [1.0, 0.0], [5.0, 5.0]]
    C = [[0.0, 0.0], [10.0, 10.0]]
    labels, dist = assign_naive(X, C, return_distances=True)
    assert labels == [0, 1, 0, 0]  # (5, 5) is equidistant: the tie goes to 0
    assert dist == [0.0, 2.0, 1.0, 50.0]


def test_manhattan_by_hand():
    labels, dist = assign_naive(
        [[0.0, 3.0]], [[2.0, 2.0], [0.0, 0.0]], "manhattan", return_distances=True
    )
    assert labels == [0] and dist == [3.0]


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(
        np.int64,
        st.tuples(st.integers(1, 30), st.integers(1, 4)),
        elements=st.integers(-5, 5),
    ),
    k=st.integers(1, 5),
    metric=st.sampled_from(["sqeuclidean", "manhattan"]),
    data=st.data(),
)
def test_agrees_with_fast_assign_exactly_on_small_integers(X, k, metric, data):
    # Small integers are exact in float64, so even ties must be broken identically.
    C = data.draw(arrays(np.int64, (k, X.shape[1]), elements=st.integers(-5, 5)))
    fast, fast_d = lib.assign(X, C, metric, return_distances=True)
    slow, slow_d = assign_naive(X, C, metric, return_distances=True)
    assert slow == fast.tolist()
    np.testing.assert_array_equal(slow_d, fast_d)


def test_agrees_with_fast_assign_on_floats():
    rng = np.random.default_rng(0)
    X, C = rng.normal(size=(500, 3)), rng.normal(size=(7, 3))
    labels, dist = assign_naive(X, C, return_distances=True)
    np.testing.assert_array_equal(labels, lib.assign(X, C))
    np.testing.assert_allclose(dist, ((X - C[labels]) ** 2).sum(axis=1), rtol=1e-12)


def test_uint8_pixels_do_not_wrap():
    X = np.array([[255, 255, 255], [0, 0, 0]], dtype=np.uint8)
    _, dist = assign_naive(
        X, np.array([[0, 0, 0]], dtype=np.uint8), return_distances=True
    )
    assert dist == [3 * 255.0**2, 0.0]


def test_errors():
    with pytest.raises(ValueError, match=r"centroids have 3 features but X has 2"):
        assign_naive([[0.0, 1.0]], [[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"metric='cosine' is not supported"):
        assign_naive([[0.0]], [[0.0]], "cosine")
    with pytest.raises(ValueError, match=r"X contains NaN"):
        assign_naive([[np.nan]], [[0.0]])
    with pytest.raises(ValueError, match=r"centroids must be 2-D"):
        assign_naive([[0.0]], [0.0])
    with pytest.raises(TypeError, match=r"X must be a 2-D array"):
        assign_naive("abc", [[0.0]])
