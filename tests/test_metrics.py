"""Tests for lib.metrics: Hungarian and majority accuracy, NMI, ARI, intervals."""

from itertools import permutations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from lib.metrics import (
    accuracy_interval,
    adjusted_rand_index,
    contingency_matrix,
    hungarian_accuracy,
    majority_accuracy,
    majority_mapping,
    match_labels,
    normalized_mutual_info,
)

labelings = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
    )
)


# ---------------------------------------------------------------- by hand


def test_contingency_by_hand():
    table, classes, clusters = contingency_matrix([1, 1, 2, 2, 2], [0, 9, 9, 9, -1])
    assert classes.tolist() == [1, 2] and clusters.tolist() == [-1, 0, 9]
    assert table.tolist() == [[0, 1, 1], [1, 0, 2]]


def test_hungarian_by_hand():
    # Clusters 0 and 1 both hold mostly class 0; only one of them may claim it.
    y = [0, 0, 0, 0, 1, 1]
    c = [0, 0, 1, 1, 1, 1]
    assert match_labels(y, c) == {0: 0, 1: 1}
    assert hungarian_accuracy(y, c) == pytest.approx(4 / 6)
    # Majority lets both clusters vote for class 0 ... and still gets 4/6 here,
    # but with a third cluster the two rules part.
    c3 = [0, 0, 1, 1, 2, 2]
    assert hungarian_accuracy(y, c3) == pytest.approx(4 / 6)
    assert majority_accuracy(y, c3) == pytest.approx(1.0)


def test_more_clusters_than_classes_leaves_some_unmatched():
    mapping = match_labels([0, 0, 1, 1], [0, 1, 2, 3])
    assert len(mapping) == 2 and sorted(mapping.values()) == [0, 1]


def test_fewer_clusters_than_classes():
    assert hungarian_accuracy([0, 1, 2, 3], [0, 0, 1, 1]) == pytest.approx(0.5)


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(labelings)
def test_hungarian_equals_brute_force(pair):
    y, c = map(np.array, pair)
    table, _, _ = contingency_matrix(y, c)
    r, k = table.shape
    # Pad to square and try every bijection: the definition of ACC.
    m = max(r, k)
    padded = np.zeros((m, m), dtype=int)
    padded[:r, :k] = table
    best = max(padded[np.arange(m), list(p)].sum() for p in permutations(range(m)))
    assert hungarian_accuracy(y, c) == pytest.approx(best / len(y))


@settings(max_examples=60, deadline=None)
@given(labelings, st.randoms(use_true_random=False))
def test_scores_ignore_cluster_names(pair, rnd):
    y, c = map(np.array, pair)
    names = list(range(6))
    rnd.shuffle(names)
    c2 = np.array(names)[c] + 100
    assert hungarian_accuracy(y, c2) == pytest.approx(hungarian_accuracy(y, c))
    assert normalized_mutual_info(y, c2) == pytest.approx(normalized_mutual_info(y, c))
    assert adjusted_rand_index(y, c2) == pytest.approx(adjusted_rand_index(y, c))


@settings(max_examples=60, deadline=None)
@given(labelings)
def test_majority_at_least_hungarian(pair):
    y, c = map(np.array, pair)
    assert majority_accuracy(y, c) >= hungarian_accuracy(y, c) - 1e-12


@settings(max_examples=80, deadline=None)
@given(labelings)
def test_nmi_ari_agree_with_sklearn(pair):
    y, c = map(np.array, pair)
    assert normalized_mutual_info(y, c) == pytest.approx(
        normalized_mutual_info_score(y, c), abs=1e-10
    )
    assert adjusted_rand_index(y, c) == pytest.approx(
        adjusted_rand_score(y, c), abs=1e-10
    )


def test_perfect_and_trivial_scores():
    y = np.repeat(np.arange(5), 20)
    assert hungarian_accuracy(y, (y + 3) % 5) == 1.0
    assert normalized_mutual_info(y, y) == pytest.approx(1.0)
    assert adjusted_rand_index(y, y) == pytest.approx(1.0)
    # A random labelling scores near zero on ARI and NMI.
    rng = np.random.default_rng(0)
    big_y = rng.integers(0, 10, 5000)
    noise = rng.integers(0, 10, 5000)
    assert abs(adjusted_rand_index(big_y, noise)) < 0.01
    assert normalized_mutual_info(big_y, noise) < 0.01


# ---------------------------------------------------------------- majority protocol


def test_majority_mapping_fit_on_train_applied_to_test():
    train_y = [3, 3, 3, 7, 7, 1]
    train_c = [0, 0, 1, 1, 1, 2]
    m = majority_mapping(train_y, train_c)
    assert m.tolist() == [3, 7, 1]
    test_y = [3, 7, 7, 1]
    test_c = [0, 1, 0, 2]
    assert majority_accuracy(test_y, test_c, mapping=m) == pytest.approx(3 / 4)


def test_majority_ties_go_to_smallest_class_and_empty_clusters_to_minus_one():
    m = majority_mapping([5, 2, 9], [0, 0, 2], n_clusters=4)
    assert m.tolist() == [2, -1, 9, -1]
    # A test point in a cluster never seen in training is always wrong.
    assert majority_accuracy([0, 9], [1, 2], mapping=m) == 0.5


# ---------------------------------------------------------------- intervals


def test_wilson_interval_known_values():
    # Wilson (1927) for 45/50 at 95%: (0.7864, 0.9565).
    low, high = accuracy_interval(45, 50)
    assert low == pytest.approx(0.78640, abs=1e-4)
    assert high == pytest.approx(0.95654, abs=1e-4)
    low, high = accuracy_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and 0.2 < high < 0.35


def test_interval_narrows_like_one_over_sqrt_n():
    w50 = np.diff(accuracy_interval(30, 50))[0]
    w9000 = np.diff(accuracy_interval(5400, 9000))[0]
    assert w50 / w9000 == pytest.approx(np.sqrt(9000 / 50), rel=0.05)


def test_interval_coverage_by_simulation():
    rng = np.random.default_rng(1)
    p, n = 0.6, 200
    hits = rng.binomial(n, p, size=2000)
    covered = np.mean(
        [lo <= p <= hi for lo, hi in (accuracy_interval(int(h), n) for h in hits)]
    )
    assert 0.93 <= covered <= 0.97


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: hungarian_accuracy([0, 1], [0]),
            ValueError,
            "y_true has 2 labels but y_pred has 1",
        ),
        (lambda: hungarian_accuracy([], []), ValueError, "empty"),
        (lambda: hungarian_accuracy([[0, 1]], [[0, 1]]), ValueError, "must be 1-D"),
        (
            lambda: hungarian_accuracy("ab", [0, 1]),
            TypeError,
            "y_true must be a 1-D array",
        ),
        (lambda: hungarian_accuracy([0.5, 1.0], [0, 1]), TypeError, "integer labels"),
        (
            lambda: normalized_mutual_info(["a", "b"], [0, 1]),
            TypeError,
            "integer labels",
        ),
        (
            lambda: adjusted_rand_index([0, 1], None),
            TypeError,
            "y_pred must be a 1-D array",
        ),
        (lambda: majority_mapping([0, 1], [-1, 0]), ValueError, "negative label -1"),
        (
            lambda: majority_mapping([0, 1], [0, 3], n_clusters=2),
            ValueError,
            "n_clusters=2 is too small",
        ),
        (
            lambda: majority_accuracy([0, 1], [0, 5], mapping=np.array([0, 1])),
            ValueError,
            "covers clusters 0 .. 1",
        ),
        (
            lambda: majority_accuracy([0, 1], [0, 1], mapping=np.zeros((2, 2))),
            ValueError,
            "mapping must be 1-D",
        ),
        (
            lambda: accuracy_interval(11, 10),
            ValueError,
            "n_correct=11 is larger than the number of samples",
        ),
        (lambda: accuracy_interval(1, 0), ValueError, "n=0 is too small"),
        (lambda: accuracy_interval(1.5, 10), TypeError, "n_correct must be an integer"),
        (
            lambda: accuracy_interval(5, 10, confidence=95),
            ValueError,
            "strictly between 0 and 1",
        ),
    ],
)
def test_bad_input_is_explained(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_float_labels_that_are_integers_are_accepted():
    assert hungarian_accuracy(np.array([0.0, 1.0]), np.array([1, 0])) == 1.0
