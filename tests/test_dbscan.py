"""Tests for lib.dbscan.

DBSCAN from scratch against scikit-learn, and modified DBSCAN.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from lib.density import dbscan, modified_dbscan


def _sklearn(X, eps, min_samples):
    est = DBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree").fit(X)
    core = np.zeros(len(X), dtype=bool)
    core[est.core_sample_indices_] = True
    return est.labels_, core


# ---------------------------------------------------------------- by hand


def test_core_border_noise_by_hand():
    # 0..3 on a line, spacing 1, eps=1, min_samples=3: 1 and 2 have three
    # points within eps (themselves included) and are core; 0 and 3 have two
    # and are border points; 10 is noise. Distance exactly eps counts.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    found = dbscan(X, eps=1.0, min_samples=3)
    labels, core = found.labels, found.core_sample_mask
    assert core.tolist() == [False, True, True, False, False]
    assert labels.tolist() == [0, 0, 0, 0, -1]


def test_min_samples_one_makes_every_point_core():
    X = np.array([[0.0], [5.0], [10.0]])
    found = dbscan(X, eps=1.0, min_samples=1)
    labels, core = found.labels, found.core_sample_mask
    assert core.all() and labels.tolist() == [0, 1, 2]


def test_no_core_point_is_all_noise():
    found = dbscan(np.array([[0.0], [5.0]]), eps=1.0, min_samples=2)
    labels, core = found.labels, found.core_sample_mask
    assert labels.tolist() == [-1, -1] and not core.any()


def test_duplicates_count_towards_density():
    found = dbscan(np.zeros((3, 2)), eps=0.5, min_samples=3)
    labels, core = found.labels, found.core_sample_mask
    assert core.all() and labels.tolist() == [0, 0, 0]


# ---------------------------------------------------------------- against scikit-learn


@pytest.mark.parametrize("eps, min_samples", [(0.3, 5), (0.6, 10), (1.0, 3), (0.15, 4)])
def test_agrees_with_sklearn_on_blobs_with_noise(eps, min_samples):
    X, _ = make_blobs(n_samples=600, centers=5, cluster_std=0.5, random_state=0)
    rng = np.random.default_rng(0)
    X = np.vstack([X, rng.uniform(X.min(0), X.max(0), size=(100, 2))])
    found = dbscan(X, eps, min_samples)
    labels, core = found.labels, found.core_sample_mask
    ref_labels, ref_core = _sklearn(X, eps, min_samples)
    np.testing.assert_array_equal(core, ref_core)
    np.testing.assert_array_equal(labels == -1, ref_labels == -1)
    assert adjusted_rand_score(ref_labels, labels) == pytest.approx(1.0)
    # Same border rule (earliest-found cluster), so even the numbers match.
    np.testing.assert_array_equal(labels, ref_labels)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 60), st.integers(1, 3)),
        elements=st.integers(0, 12).map(float),
    ),
    st.sampled_from([0.9, 1.0, 1.5, 2.0, 3.0]),
    st.integers(1, 6),
)
def test_agrees_with_sklearn_on_random_grids(X, eps, min_samples):
    # Integer grids put many pairs at distance exactly eps: the boundary rule matters.
    found = dbscan(X, eps, min_samples)
    labels, core = found.labels, found.core_sample_mask
    ref_labels, ref_core = _sklearn(X, eps, min_samples)
    np.testing.assert_array_equal(core, ref_core)
    np.testing.assert_array_equal(labels, ref_labels)


def test_border_point_between_two_clusters_depends_on_order():
    # Two dense groups, and a border point at distance eps from one core point
    # of each. Which cluster it joins is a convention of the scan order; core
    # points and their clusters are not.
    left = np.array([[0.0, 0.0], [0.0, 0.1], [0.0, -0.1], [-0.1, 0.0]])
    right = left * -1 + [2.0, 0.0]
    border = np.array([[1.0, 0.0]])
    X = np.vstack([left, right, border])
    found = dbscan(X, eps=1.0, min_samples=4)
    labels, core = found.labels, found.core_sample_mask
    assert not core[-1] and core[:-1].all()
    assert labels[-1] == labels[0]  # the left cluster is found first
    order = np.r_[4:8, 0:4, 8]  # put the right group first
    found = dbscan(X[order], eps=1.0, min_samples=4)
    labels2, core2 = found.labels, found.core_sample_mask
    assert labels2[-1] == labels2[0]  # now it joins the right group
    # Up to the border point the two clusterings are the same partition.
    inv = np.argsort(order)
    assert adjusted_rand_score(labels[:-1], labels2[inv][:-1]) == 1.0
    np.testing.assert_array_equal(core2[inv], core)
    # scikit-learn makes the same choice in both orders.
    np.testing.assert_array_equal(_sklearn(X[order], 1.0, 4)[0], labels2)


def test_permuting_the_data_keeps_cores_and_core_clusters():
    X, _ = make_blobs(n_samples=400, centers=4, cluster_std=0.7, random_state=3)
    found = dbscan(X, 0.5, 6)
    labels, core = found.labels, found.core_sample_mask
    perm = np.random.default_rng(5).permutation(len(X))
    found = dbscan(X[perm], 0.5, 6)
    labels_p, core_p = found.labels, found.core_sample_mask
    inv = np.argsort(perm)
    np.testing.assert_array_equal(core_p[inv], core)
    assert adjusted_rand_score(labels[core], labels_p[inv][core]) == 1.0


# ---------------------------------------------------------------- modified DBSCAN


def test_modified_keeps_largest_and_reassigns_to_nearest_centroid():
    X, _ = make_blobs(
        n_samples=[200, 150, 100, 12],
        centers=[[0, 0], [6, 0], [0, 6], [6, 6]],
        cluster_std=0.4,
        random_state=1,
    )
    rng = np.random.default_rng(2)
    X = np.vstack([X, rng.uniform(-2, 8, size=(40, 2))])
    res = modified_dbscan(X, eps=0.5, min_samples=5, n_clusters=3)
    assert set(res.labels.tolist()) == {0, 1, 2}
    assert res.centroids.shape == (3, 2)
    # Largest first.
    sizes = np.bincount(res.dbscan_labels[res.dbscan_labels >= 0])
    in_kept = np.isin(res.dbscan_labels, np.argsort(-sizes, kind="stable")[:3])
    kept_sizes = [int(np.sum(in_kept & (res.labels == j))) for j in range(3)]
    assert kept_sizes == sorted(sizes.tolist())[::-1][:3]
    moved = ~in_kept
    assert moved.sum() >= 12
    d = ((X[moved, None, :] - res.centroids[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(res.labels[moved], d.argmin(1))
    # Kept clusters are untouched: same partition as DBSCAN on those points.
    assert adjusted_rand_score(res.dbscan_labels[~moved], res.labels[~moved]) == 1.0
    # Centroids are the means of the kept DBSCAN clusters.
    for j in range(3):
        np.testing.assert_allclose(
            res.centroids[j], X[~moved & (res.labels == j)].mean(0)
        )


def test_modified_warns_when_too_few_clusters():
    X, _ = make_blobs(n_samples=200, centers=2, cluster_std=0.3, random_state=0)
    with pytest.warns(
        UserWarning, match="found only 2 clusters, fewer than n_clusters=5"
    ):
        res = modified_dbscan(X, eps=0.5, min_samples=5, n_clusters=5)
    assert res.labels.min() == 0 and res.labels.max() == 1


def test_modified_warning_says_one_cluster_in_the_singular():
    X, _ = make_blobs(n_samples=100, centers=1, cluster_std=0.3, random_state=0)
    with pytest.warns(UserWarning, match="found only 1 cluster, fewer than") as rec:
        modified_dbscan(X, eps=0.5, min_samples=5, n_clusters=3)
    assert "1 clusters" not in str(rec[0].message)


# ---------------------------------------------------------------- bad input

X4 = np.array([[0.0], [1.0], [2.0], [3.0]])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: dbscan(X4, 0.0), ValueError, "eps=0.0 must be positive"),
        (lambda: dbscan(X4, -1.0), ValueError, "eps=-1.0 is invalid"),
        (lambda: dbscan(X4, "1"), TypeError, "eps must be a real number"),
        (lambda: dbscan(X4, 1.0, 0), ValueError, "min_samples=0 is too small"),
        (lambda: dbscan(X4, 1.0, 2.5), TypeError, "min_samples must be an integer"),
        (lambda: dbscan(X4.ravel(), 1.0), ValueError, "must be 2-D"),
        (lambda: dbscan(np.array([[np.nan]]), 1.0), ValueError, "NaN"),
        (
            lambda: modified_dbscan(X4, 1.0, 2, n_clusters=0),
            ValueError,
            "n_clusters=0 is too small",
        ),
        (
            lambda: modified_dbscan(X4, 1.0, 2, n_clusters=9),
            ValueError,
            "larger than the number of samples",
        ),
        (
            lambda: modified_dbscan(X4 * 10, 1.0, 2, n_clusters=2),
            ValueError,
            "found no cluster",
        ),
    ],
)
def test_bad_input_is_explained(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_eps_from_knn_makes_that_share_of_points_core():
    from lib.density import dbscan, eps_from_knn

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (200, 2)), rng.uniform(-8, 8, (50, 2))])
    eps = eps_from_knn(X, min_samples=5, quantile=0.8)
    # DBSCAN counts the point itself among its min_samples neighbours: 6 here.
    core = dbscan(X, eps, min_samples=6).core_sample_mask
    assert abs(core.mean() - 0.8) < 0.01


def test_eps_from_knn_rejects_bad_input():
    from lib.density import eps_from_knn

    X = np.zeros((4, 2)) + np.arange(4)[:, None]
    with pytest.raises(
        ValueError,
        match=r"min_samples=4 is larger than the number of other samples \(3\)",
    ):
        eps_from_knn(X, min_samples=4)
    with pytest.raises(ValueError, match=r"quantile=1.5 is larger than 1"):
        eps_from_knn(X, min_samples=1, quantile=1.5)
