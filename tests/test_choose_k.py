"""Tests for lib.choose_k: kneedle elbow, silhouette and gap statistic."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.choose_k import elbow_scores, find_elbow

# ---------------------------------------------------------------- elbow (kneedle)


def test_elbow_by_hand():
    # Normalized: x = 0, .5, 1; y = 1, .2, 0; chord 1 - x = 1, .5, 0.
    np.testing.assert_allclose(elbow_scores([1, 2, 3], [10.0, 2.0, 0.0]), [0, 0.3, 0])
    assert find_elbow([1, 2, 3], [10.0, 2.0, 0.0]) == 2


def test_elbow_of_one_over_k_style_curve():
    ks = np.arange(1, 11)
    values = np.where(ks <= 4, 100.0 - 24 * (ks - 1), 28.0 - (ks - 4))
    assert find_elbow(ks, values) == 4


def test_straight_line_and_concave_have_no_convex_elbow():
    assert find_elbow([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0]) is None
    assert find_elbow([1, 2, 3, 4], [4.0, 3.9, 3.5, 1.0]) is None  # concave decreasing


def test_concave_increasing_curve():
    ks = [1, 2, 3, 4, 5]
    explained = [0.0, 0.7, 0.9, 0.95, 1.0]
    assert find_elbow(ks, explained, curve="concave") == 2
    assert find_elbow(ks, explained) is None


def test_elbow_returns_an_element_of_ks_with_its_type():
    k = find_elbow(np.array([2, 4, 8, 16]), [50.0, 10.0, 8.0, 7.0])
    assert k == 4 and isinstance(k, int)
    assert find_elbow([0.5, 1.0, 2.0], [10.0, 1.0, 0.0]) == 1.0


@settings(max_examples=50, deadline=None)
@given(true_k=st.integers(2, 8), drop=st.floats(5, 100), tail=st.floats(0.01, 1))
def test_elbow_finds_the_corner_of_a_piecewise_linear_curve(true_k, drop, tail):
    # Steep descent to true_k, then a much flatter tail: the corner is the elbow.
    ks = np.arange(1, 13)
    values = np.where(ks <= true_k, drop * (true_k - ks), -tail * (ks - true_k)) + 1000
    assert find_elbow(ks, values) == true_k


def test_elbow_invariant_to_affine_rescaling():
    ks, v = [1, 2, 3, 4, 5, 6], np.array([100.0, 40.0, 10.0, 8.0, 7.0, 6.5])
    assert find_elbow(ks, v) == find_elbow(ks, 3 * v + 7) == 3


@pytest.mark.parametrize("ks, values, kwargs, pattern", [
    ([1, 2], [2.0, 1.0], {}, "at least 3 points"),
    ([1, 2, 3], [2.0, 1.0], {}, "equal length"),
    ([1, 3, 2], [3.0, 2.0, 1.0], {}, "strictly increasing"),
    ([1, 2, 3], [3.0, np.nan, 1.0], {}, "finite"),
    ([1, 2, 3], [3.0, 2.0, 1.0], {"curve": "knee"}, "curve='knee' is not supported"),
])
def test_elbow_bad_input(ks, values, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        find_elbow(ks, values, **kwargs)
