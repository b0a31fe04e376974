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


@pytest.mark.parametrize(
    "ks, values, kwargs, pattern",
    [
        ([1, 2], [2.0, 1.0], {}, "at least 3 points"),
        ([1, 2, 3], [2.0, 1.0], {}, "equal length"),
        ([1, 3, 2], [3.0, 2.0, 1.0], {}, "strictly increasing"),
        ([1, 2, 3], [3.0, np.nan, 1.0], {}, "finite"),
        (
            [1, 2, 3],
            [3.0, 2.0, 1.0],
            {"curve": "knee"},
            "curve='knee' is not supported",
        ),
    ],
)
def test_elbow_bad_input(ks, values, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        find_elbow(ks, values, **kwargs)


# ---------------------------------------------------------------- silhouette

from hypothesis.extra.numpy import arrays  # noqa: E402
from sklearn.metrics import silhouette_samples as sk_samples  # noqa: E402
from sklearn.metrics import silhouette_score as sk_score  # noqa: E402

from lib.choose_k import (  # noqa: E402
    gap_statistic,
    silhouette_samples,
    silhouette_score,
)


def test_silhouette_by_hand():
    X = np.array([[0.0], [1.0], [10.0], [12.0]])
    # point 2 (x = 10): a = 2, b = (10 + 9) / 2 = 9.5, s = 7.5 / 9.5
    s = silhouette_samples(X, [0, 0, 1, 1])
    np.testing.assert_allclose(s, [10 / 11, 9 / 10, 7.5 / 9.5, 9.5 / 11.5])


def test_silhouette_singleton_is_zero_like_sklearn():
    X = np.array([[0.0], [1.0], [5.0], [9.0]])
    labels = [0, 0, 1, 2]
    s = silhouette_samples(X, labels)
    assert s[2] == 0.0 and s[3] == 0.0
    np.testing.assert_allclose(s, sk_samples(X, labels), atol=1e-12)


def test_silhouette_matches_sklearn_on_digits_to_1e10():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:900]
    y = y[:900]
    for metric in ("euclidean", "manhattan"):
        ours = silhouette_score(X, y, metric=metric, working_memory=0.5)
        assert abs(ours - sk_score(X, y, metric=metric)) < 1e-10
        np.testing.assert_allclose(
            silhouette_samples(X, y, metric=metric),
            sk_samples(X, y, metric=metric),
            rtol=0,
            atol=1e-10,
        )


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(3, 40), st.integers(1, 4)),
        elements=st.floats(-100, 100, allow_nan=False, width=32),
    ),
    k=st.integers(2, 5),
    seed=st.integers(0, 100),
    wm=st.sampled_from([1e-4, 0.01, 64.0]),
)
def test_silhouette_matches_sklearn_property(X, k, seed, wm):
    n = X.shape[0]
    labels = np.random.default_rng(seed).integers(0, min(k, n - 1), n)
    labels[:2] = [0, 1]  # at least two clusters
    if len(np.unique(labels)) > n - 1:
        return
    ours = silhouette_samples(X, labels, working_memory=wm)
    assert np.all((ours >= -1 - 1e-12) & (ours <= 1 + 1e-12))
    # Chunking must not change anything (wm=1e-4 MiB means one row a chunk).
    np.testing.assert_allclose(ours, silhouette_samples(X, labels), atol=1e-12)
    ref = sk_samples(X, labels)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-8 * (1 + np.abs(X).max()))


def test_silhouette_labels_may_be_strings_or_any_ints():
    X = np.array([[0.0], [1.0], [10.0], [12.0]])
    a = silhouette_score(X, np.array(["x", "x", "y", "y"]))
    b = silhouette_score(X, [7, 7, -3, -3])
    assert a == pytest.approx(b) and a == pytest.approx(sk_score(X, [0, 0, 1, 1]))


@pytest.mark.parametrize(
    "labels, exc, pattern",
    [
        ([0, 0, 0, 0], ValueError, "got 1 clusters"),
        ([0, 1, 2, 3], ValueError, "got 4 clusters"),
        ([0, 1, 0], ValueError, "labels must have shape \\(4,\\)"),
        ([0.5, 1.0, 0.5, 1.0], TypeError, "labels must be integers"),
    ],
)
def test_silhouette_bad_labels(labels, exc, pattern):
    with pytest.raises(exc, match=pattern):
        silhouette_score(np.arange(4.0).reshape(4, 1), labels)


def test_silhouette_bad_metric_and_memory():
    X, lab = np.arange(4.0).reshape(4, 1), [0, 0, 1, 1]
    with pytest.raises(ValueError, match="metric='cosine' is not supported"):
        silhouette_score(X, lab, metric="cosine")
    with pytest.raises(ValueError, match="working_memory"):
        silhouette_score(X, lab, working_memory=0.0)
    with pytest.raises(ValueError, match="NaN"):
        silhouette_score(np.array([[0.0], [np.nan], [1.0]]), [0, 1, 1])


# ---------------------------------------------------------------- gap statistic


def _three_blobs(seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(c, 0.3, (40, 2)) for c in ([0, 0], [5, 0], [0, 5])])


def test_gap_finds_three_blobs_and_one_for_uniform():
    res = gap_statistic(_three_blobs(), range(1, 7), n_refs=8, seed=0)
    assert res.k == 3
    assert res.gap.shape == res.s.shape == (6,) and (res.s > 0).all()
    np.testing.assert_allclose(res.gap, res.log_w_ref - res.log_w)
    U = np.random.default_rng(1).uniform(size=(150, 2))
    assert gap_statistic(U, range(1, 6), n_refs=8, seed=0).k == 1


def test_gap_log_w_is_log_kmeans_inertia_and_reproducible():
    import lib

    X = _three_blobs(2)
    res = gap_statistic(X, [1, 2, 3], n_refs=3, n_init=2, seed=4)
    assert res.log_w[0] == pytest.approx(np.log(((X - X.mean(0)) ** 2).sum()))
    assert (
        res.log_w[2] <= np.log(lib.kmeans(X, 3, n_init=5, seed=0).inertia) + 1e-9 + 0.05
    )
    res2 = gap_statistic(X, [1, 2, 3], n_refs=3, n_init=2, seed=4)
    np.testing.assert_array_equal(res.gap, res2.gap)


def test_gap_reference_sets_lie_in_the_bounding_box(monkeypatch):
    import lib.lloyd as km

    X = _three_blobs(3)
    seen = []
    real = km.kmeans

    def spy(Y, k, **kw):
        seen.append(np.array(Y))
        return real(Y, k, **kw)

    monkeypatch.setattr(km, "kmeans", spy)
    gap_statistic(X, [1, 2], n_refs=3, seed=0)
    refs = seen[2:]
    assert len(refs) == 6
    for Y in refs:
        assert Y.shape == X.shape
        assert (Y >= X.min(0)).all() and (Y <= X.max(0)).all()


@pytest.mark.parametrize(
    "ks, kwargs, exc, pattern",
    [
        ([2, 1], {}, ValueError, "strictly increasing"),
        ([0, 1], {}, ValueError, "between 1 and"),
        ([1, 500], {}, ValueError, "between 1 and"),
        ([1.0, 2.0], {}, TypeError, "ks must be"),
        ([], {}, TypeError, "ks must be"),
        ([1, 2], {"n_refs": 1}, ValueError, "n_refs=1"),
        ([1, 2], {"n_init": 0}, ValueError, "n_init=0"),
    ],
)
def test_gap_bad_input(ks, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        gap_statistic(_three_blobs(), ks, **kwargs)
