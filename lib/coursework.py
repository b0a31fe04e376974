"""Coursework: per-student data, and checks that grade fairly and say why.

The exercise pages of the book are also otter-grader assignments (see the page
"For instructors"). A student sets ``STUDENT_ID`` once at the top of the
notebook; the data of the variant questions derive from it through
:func:`student_rng`, so that two students get different data and the hidden
tests recompute the expected answer for the submitting student's own ID. The
checks below are what the tests call: each failure is an ``AssertionError``
whose message a student can act on.
"""

from __future__ import annotations

import hashlib
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ._validation import check_float, check_int

#: What the student notebook holds until the student replaces it.
PLACEHOLDER = Ellipsis


def check_student_id(student_id):
    """Return `student_id` as a stripped, non-empty string, or say how to set it.

    >>> check_student_id(" s1234567 ")
    's1234567'
    >>> check_student_id(...)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: STUDENT_ID is not set (it is Ellipsis); set it once, ...
    """
    if student_id is PLACEHOLDER or student_id is None:
        raise ValueError(
            f"STUDENT_ID is not set (it is {student_id!r}); set it once, at the "
            f"top of the notebook, to your student ID as a string, e.g. "
            f'STUDENT_ID = "s1234567", and run the notebook again'
        )
    if not isinstance(student_id, str):
        raise TypeError(
            f"STUDENT_ID must be a string, got {type(student_id).__name__} "
            f'{student_id!r}; write it in quotes, e.g. STUDENT_ID = "{student_id}"'
        )
    if not student_id.strip():
        raise ValueError(
            "STUDENT_ID is empty; set it to your student ID, e.g. "
            'STUDENT_ID = "s1234567"'
        )
    return student_id.strip()


def student_rng(student_id, question):
    """A random generator that depends only on the student and the question.

    The seed is a SHA-256 of both, so it is the same on every machine and every
    NumPy version that keeps ``default_rng``'s stream, and two questions of one
    student draw independent data.

    >>> a = student_rng("s1", "q1").integers(10**9)
    >>> bool(a == student_rng("s1", "q1").integers(10**9))
    True
    >>> bool(a == student_rng("s2", "q1").integers(10**9))
    False
    """
    key = f"{check_student_id(student_id)}\x00{question}".encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8]))


@dataclass(frozen=True)
class StudentBlobs:
    """Gaussian blobs drawn for one student and one question.

    Attributes
    ----------
    X : ndarray of shape (n_samples, 2)
    k : int
        The number of blobs, between 3 and 6.
    centres : ndarray of shape (k, 2)
        The blobs' true centres, at least ``4 * spread`` apart.
    spread : float
        The standard deviation of every blob.
    """

    X: np.ndarray
    k: int
    centres: np.ndarray
    spread: float


def student_blobs(student_id, question, *, n_samples=300):
    """Well-separated blobs whose number, centres and spread depend on the student.

    >>> a = student_blobs("s1", "q2")
    >>> a.X.shape, 3 <= a.k <= 6
    ((300, 2), True)
    >>> bool(np.all(a.X == student_blobs("s1", "q2").X))
    True
    """
    n_samples = check_int(n_samples, "n_samples", low=6)
    rng = student_rng(student_id, question)
    k = int(rng.integers(3, 7))
    spread = float(rng.uniform(0.5, 1.5))
    centres = []
    while len(centres) < k:  # rejection sampling: blobs at least 4 spreads apart
        c = rng.uniform(-10, 10, size=2)
        if all(np.linalg.norm(c - other) >= 4 * spread for other in centres):
            centres.append(c)
    centres = np.array(centres)
    labels = np.arange(n_samples) % k
    X = centres[labels] + spread * rng.standard_normal((n_samples, 2))
    return StudentBlobs(X, k, centres, spread)


@contextmanager
def time_limit(seconds, what):
    """Stop `what` after `seconds` with a message instead of hanging the grader.

    Uses ``SIGALRM``, so the limit holds in the main thread on POSIX (where
    otter runs the tests); elsewhere the block runs without one.

    >>> with time_limit(1, "a quick sum"):
    ...     _ = sum(range(10))
    """
    seconds = check_float(seconds, "seconds", low=1e-3)
    main = threading.current_thread() is threading.main_thread()
    if not (main and hasattr(signal, "SIGALRM")):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError(
            f"{what} took longer than {seconds:g} s and was stopped; look for a loop "
            f"that never ends, or work that grows faster than the data"
        )

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def limit_cells(seconds=60):
    """Stop any notebook cell that runs longer than `seconds`, with a message.

    Called once at the top of an assignment, it makes every later cell of the
    kernel, and the grader's test cells, raise ``TimeoutError`` instead of
    running for ever: a submission with an endless loop still gets graded on
    its other questions. Outside IPython (or off POSIX) it does nothing and
    returns False.
    """
    seconds = check_float(seconds, "seconds", low=1e-3)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of every notebook
        return False
    shell = get_ipython()
    if shell is None or not hasattr(signal, "SIGALRM"):
        return False

    def stop(signum, frame):
        raise TimeoutError(
            f"this cell ran longer than {seconds:g} s and was stopped; look for a "
            f"loop that never ends, or work that grows faster than the data"
        )

    def arm(*args):
        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def disarm(*args):
        signal.setitimer(signal.ITIMER_REAL, 0)

    for event, callback in (("pre_run_cell", arm), ("post_run_cell", disarm)):
        for old in list(shell.events.callbacks[event]):
            if getattr(old, "__qualname__", "").startswith("limit_cells."):
                shell.events.unregister(event, old)
        shell.events.register(event, callback)
    return True


def same_partition(labels, expected):
    """True when two labelings group the points identically, whatever the names.

    >>> same_partition([0, 0, 1, 1], [1, 1, 0, 0]), same_partition([0, 1], [0, 0])
    (True, False)
    """
    a, b = np.asarray(labels).ravel(), np.asarray(expected).ravel()
    if a.shape != b.shape:
        return False
    # Each label of one side maps to exactly one of the other, both ways.
    pairs = np.unique(np.stack([a, b]), axis=1)
    return len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def _snapshot():
    import importlib

    import lib

    names = {name: getattr(lib, name) for name in lib.__all__}
    engine = importlib.import_module("lib.lloyd")
    names.update(
        fill_empty=engine.fill_empty,
        lloyd=importlib.import_module("lib.reference").lloyd,
    )
    return SimpleNamespace(**names)


#: lib's public functions as they were when this module was first imported: the
#: hidden tests compute their references with these, so that a submission that
#: reassigns ``lib.kmeans`` (by mistake or not) cannot change what it is graded
#: against.
REFERENCE = _snapshot()
