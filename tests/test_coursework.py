"""lib.coursework: per-student data and the graders' safety nets."""

import time

import numpy as np
import pytest

import lib
from lib import coursework
from lib.coursework import (
    check_student_id,
    limit_cells,
    same_partition,
    student_blobs,
    student_rng,
    time_limit,
)


@pytest.mark.parametrize(
    "bad,error,words",
    [
        (..., ValueError, "STUDENT_ID is not set"),
        (None, ValueError, "STUDENT_ID is not set"),
        (1234567, TypeError, 'in quotes, e.g. STUDENT_ID = "1234567"'),
        ("   ", ValueError, "STUDENT_ID is empty"),
    ],
)
def test_a_missing_id_says_how_to_set_it(bad, error, words):
    with pytest.raises(error, match=words):
        check_student_id(bad)


def test_the_stream_depends_on_student_and_question_only():
    draw = lambda sid, q: student_rng(sid, q).integers(2**62, size=4).tolist()  # noqa: E731
    assert draw("s1", "q1") == draw(" s1 ", "q1")
    assert len({str(draw(s, q)) for s in ("s1", "s2") for q in ("q1", "q2")}) == 4
    # Pinned: a change of the derivation would give every student new data.
    assert draw("demo", "q4")[0] == 3605127784978146570


@pytest.mark.parametrize("sid", [f"student-{i}" for i in range(40)])
def test_blobs_are_separated_and_k_means_finds_them(sid):
    data = student_blobs(sid, "q")
    assert 3 <= data.k <= 6 and data.X.shape == (300, 2)
    gaps = np.linalg.norm(data.centres[:, None] - data.centres[None], axis=2)
    assert gaps[np.triu_indices(data.k, 1)].min() >= 4 * data.spread
    truth = np.arange(300) % data.k
    fit = lib.kmeans(data.X, data.k, n_init=10, seed=0)
    assert lib.adjusted_rand_index(truth, fit.labels) > 0.9


def test_two_ids_differ_in_their_data():
    a, b = student_blobs("a", "q4"), student_blobs("b", "q4")
    assert a.X.shape != b.X.shape or not np.array_equal(a.X, b.X)


def test_time_limit_stops_a_runaway_loop_with_a_message():
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match="my_lloyd took longer than 0.2 s"):
        with time_limit(0.2, "my_lloyd"):
            while True:
                pass
    assert time.perf_counter() - start < 5
    with time_limit(5, "quick"):  # a quick block passes, and the alarm is off after
        pass
    time.sleep(0.3)


def test_limit_cells_is_a_no_op_outside_ipython():
    assert limit_cells(1) is False


def test_same_partition_is_up_to_relabelling():
    assert same_partition([0, 0, 1, 2], [2, 2, 0, 1])
    assert not same_partition([0, 0, 1, 1], [0, 1, 1, 1])
    assert not same_partition([0, 1], [0, 1, 1])


def test_reference_survives_a_reassigned_lib(monkeypatch):
    original = lib.kmeans
    monkeypatch.setattr(lib, "kmeans", lambda *a, **k: None)
    assert coursework.REFERENCE.kmeans is original
    assert coursework.REFERENCE.lloyd.__module__ == "lib.reference"
