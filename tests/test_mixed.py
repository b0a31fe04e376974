"""Tests for lib.mixed: Gower's dissimilarity and k-medoids."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from lib.mixed import gower_distances, kmedoids

HOMES = pd.DataFrame(
    {
        "city": ["Boston", "Boston", "Austin", "Austin"],
        "type": ["house", "condo", "house", "condo"],
        "price": [500.0, 300.0, 400.0, 700.0],
    }
)


def test_hand_computed_pair():
    D = gower_distances(HOMES)
    # Rows 0 and 3: city differs (1), type differs (1), |500 - 700| / 400 = 0.5.
    assert D[0, 3] == pytest.approx((1 + 1 + 0.5) / 3)
    assert D[1, 2] == pytest.approx((1 + 1 + 0.25) / 3)
    np.testing.assert_allclose(D, D.T)
    np.testing.assert_array_equal(np.diag(D), 0)


def test_weights_array_and_dict():
    D = gower_distances(HOMES, weights=[1, 1, 2])
    assert D[0, 3] == pytest.approx((1 + 1 + 2 * 0.5) / 4)
    np.testing.assert_array_equal(D, gower_distances(HOMES, weights={"price": 2}))
    only_price = gower_distances(HOMES, weights={"city": 0, "type": 0})
    np.testing.assert_allclose(
        only_price,
        np.abs(HOMES.price.values[:, None] - HOMES.price.values[None, :]) / 400,
    )


def test_categorical_part_is_half_the_one_hot_l1_distance():
    cats = HOMES[["city", "type"]]
    onehot = pd.get_dummies(cats).to_numpy(float)
    l1 = np.abs(onehot[:, None, :] - onehot[None, :, :]).sum(axis=2)
    np.testing.assert_allclose(gower_distances(cats) * 2, l1 / 2)


def test_frame_object_array_and_category_dtype_agree():
    D = gower_distances(HOMES)
    arr = HOMES.to_numpy(dtype=object)
    np.testing.assert_array_equal(D, gower_distances(arr, categorical=[0, 1]))
    np.testing.assert_array_equal(
        D, gower_distances(arr, categorical=[True, True, False])
    )
    cat = HOMES.astype({"city": "category", "type": "category"})
    np.testing.assert_array_equal(D, gower_distances(cat))
    # A numeric column can be declared categorical by name.
    Dc = gower_distances(HOMES, categorical=["city", "type", "price"])
    assert Dc[0, 3] == pytest.approx(1.0)


def test_bool_columns_are_categorical():
    df = pd.DataFrame({"garden": [True, False, True], "rooms": [1, 2, 3]})
    D = gower_distances(df)
    assert D[0, 1] == pytest.approx((1 + 0.5) / 2) and D[0, 2] == pytest.approx(0.5)


def test_y_rows_and_column_order():
    D = gower_distances(HOMES)
    Y = HOMES.iloc[[3, 1]][["price", "type", "city"]]
    np.testing.assert_allclose(gower_distances(HOMES, Y), D[:, [3, 1]])
    arr = HOMES.to_numpy(dtype=object)
    np.testing.assert_allclose(
        gower_distances(arr, arr[[2]], categorical=[0, 1]), D[:, [2]]
    )


def test_constant_numeric_column():
    df = pd.DataFrame({"a": [1.0, 1.0], "c": ["x", "y"]})
    np.testing.assert_allclose(gower_distances(df), [[0, 0.5], [0.5, 0]])
    far = pd.DataFrame({"a": [2.0], "c": ["x"]})
    np.testing.assert_allclose(gower_distances(df, far).ravel(), [0.5, 1.0])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 1000))
def test_metric_properties(n, seed):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "c": rng.choice(list("abc"), n),
            "x": rng.normal(size=n),
            "y": rng.integers(0, 5, n),
        }
    )
    D = gower_distances(df, weights=rng.uniform(0.1, 2, 3))
    assert D.shape == (n, n)
    assert np.all((D >= 0) & (D <= 1 + 1e-12))
    np.testing.assert_allclose(D, D.T)
    np.testing.assert_array_equal(np.diag(D), 0)
    # Gower's dissimilarity is a metric: the triangle inequality holds.
    assert np.all(D[:, None, :] <= D[:, :, None] + D[None, :, :] + 1e-12)


def test_numeric_only_equals_range_scaled_l1():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)) * [1, 10, 100]
    Z = X / np.ptp(X, axis=0)
    expect = np.abs(Z[:, None, :] - Z[None, :, :]).mean(axis=2)
    np.testing.assert_allclose(gower_distances(X), expect)


def test_gower_errors():
    with pytest.raises(ValueError, match=r"categorical columns are unknown"):
        gower_distances(HOMES.to_numpy(dtype=object))
    with pytest.raises(ValueError, match=r"categorical names columns \['rooms'\]"):
        gower_distances(HOMES, categorical=["city", "rooms"])
    with pytest.raises(ValueError, match=r"weights has 2 entries but X has 3 columns"):
        gower_distances(HOMES, weights=[1, 1])
    with pytest.raises(
        ValueError, match=r"must be finite, non-negative and not all zero"
    ):
        gower_distances(HOMES, weights=[1, -1, 1])
    with pytest.raises(ValueError, match=r"weights names columns \['size'\]"):
        gower_distances(HOMES, weights={"size": 1})
    with pytest.raises(
        ValueError, match=r"column 'city' of X has a missing value in row 1"
    ):
        gower_distances(HOMES.assign(city=["Boston", None, "Austin", "Austin"]))
    with pytest.raises(ValueError, match=r"column 'price' of X has missing"):
        gower_distances(HOMES.assign(price=[1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(
        TypeError, match=r"column 1 of X is numeric but holds non-numbers"
    ):
        gower_distances(HOMES.to_numpy(dtype=object), categorical=[0])
    with pytest.raises(ValueError, match=r"Y lacks the columns \['price'\]"):
        gower_distances(HOMES, HOMES[["city", "type"]])
    with pytest.raises(ValueError, match=r"must be a non-empty 2-D table"):
        gower_distances(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"X must be a table"):
        gower_distances("homes")


# ---------------------------------------------------------------- k-medoids


def test_kmedoids_by_hand():
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
    res = kmedoids(np.abs(x[:, None] - x[None, :]), 2, init=[0, 3])
    assert res.medoids.tolist() == [1, 3] and res.labels.tolist() == [0, 0, 0, 1, 1]
    assert res.inertia == 3.0 and res.converged


def _total(D, med):
    return D[:, med].min(axis=1).sum()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1000),
    k=st.integers(1, 4),
    init=st.sampled_from(["k-medoids++", "sample"]),
)
def test_kmedoids_fixed_point_properties(seed, k, init):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(15, 2))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=2))
    res = kmedoids(D, k, init=init, seed=seed)
    assert res.converged and len(set(res.medoids.tolist())) == k
    np.testing.assert_array_equal(res.labels, D[:, res.medoids].argmin(axis=1))
    assert res.inertia == pytest.approx(_total(D, res.medoids))
    for j in range(k):  # each medoid is the best member of its cluster
        members = np.flatnonzero(res.labels == j)
        cost = D[np.ix_(members, members)].sum(axis=0)
        assert cost.min() == pytest.approx(D[members, res.medoids[j]].sum())
    # Never worse than the best single medoid choice for k = 1 (exact then).
    if k == 1:
        assert res.inertia == pytest.approx(D.sum(axis=0).min())


def test_kmedoids_finds_the_optimum_on_separated_groups():
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1, 2], 10)
    X = rng.normal(size=(30, 2)) * 0.3 + np.array([[0, 0], [8, 0], [0, 8]])[truth]
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=2))
    res = kmedoids(D, 3, init="k-medoids++", seed=1)
    assert adjusted_rand_score(truth, res.labels) == 1.0
    best = min(_total(D, list(m)) for m in itertools.combinations(range(30), 3))
    assert res.inertia == pytest.approx(best)


def test_kmedoids_is_reproducible():
    D = gower_distances(HOMES)
    a, b = kmedoids(D, 2, seed=3), kmedoids(D, 2, seed=3)
    np.testing.assert_array_equal(a.medoids, b.medoids)


def test_kmedoids_errors():
    D = np.abs(np.arange(4.0)[:, None] - np.arange(4.0)[None, :])
    with pytest.raises(ValueError, match=r"D must be a square"):
        kmedoids(D[:3], 2)
    with pytest.raises(ValueError, match=r"D has negative entries"):
        kmedoids(-D, 2)
    with pytest.raises(
        ValueError, match=r"k=5 is larger than the number of samples \(4\)"
    ):
        kmedoids(D, 5)
    with pytest.raises(
        ValueError, match=r"init=\[0, 0\] must be 2 distinct row indices"
    ):
        kmedoids(D, 2, init=[0, 0])
    with pytest.raises(ValueError, match=r"init='pam' is not supported"):
        kmedoids(D, 2, init="pam")
    with pytest.raises(ValueError, match=r"D contains NaN"):
        kmedoids(D + np.nan, 2)
