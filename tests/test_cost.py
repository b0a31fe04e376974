"""lib.cost: the counts of a Lloyd iteration are exact, the measures well formed.

No timing is asserted here (rule 5: performance lives in benchmarks/); the
measured rates are only checked to be positive and finite.
"""

import math

import numpy as np
import pytest

from lib import kmeans
from lib.cost import (
    best_seconds,
    lloyd_bytes,
    lloyd_flops,
    matmul_gflops,
    read_gbps,
    roofline_seconds,
    seconds_per_iteration,
)


@pytest.mark.parametrize("n,k,d", [(1, 1, 1), (273_280, 48, 3), (10_000, 10, 784)])
def test_counts_are_exact(n, k, d):
    assert lloyd_flops(n, k, d) == 2 * n * k * d + n * d
    assert lloyd_bytes(n, d) == 8 * n * d
    assert lloyd_bytes(n, d, passes=2) == 2 * lloyd_bytes(n, d)
    # The arithmetic intensity of one pass depends on k alone.
    assert lloyd_flops(n, k, d) / lloyd_bytes(n, d) == (2 * k + 1) / 8


def test_counts_do_not_overflow():
    # numpy integers would wrap at 2**63; the counts are Python ints.
    n = np.int64(10**12)
    assert lloyd_flops(n, 10**4, 10**3) == 2 * 10**19 + 10**15


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: lloyd_flops(0, 2, 2), "n=0"),
        (lambda: lloyd_flops(5, 2.5, 2), "k must be an integer"),
        (lambda: lloyd_bytes(5, 2, passes=0), "passes=0"),
        (lambda: roofline_seconds(1.0, 1.0, gflops=0.0, gbps=1.0), "gflops"),
        (lambda: roofline_seconds(-1.0, 1.0, gflops=1.0, gbps=1.0), "flops"),
        (lambda: read_gbps(0.5), "mib"),
        (lambda: best_seconds(lambda: None, repeat=0), "repeat"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_roofline_takes_the_slower_ceiling():
    # Balance 4 flop/byte: intensity 8 is compute-bound, 2 memory-bound.
    assert roofline_seconds(8e9, 1e9, gflops=40, gbps=10) == pytest.approx(0.2)
    assert roofline_seconds(2e9, 1e9, gflops=40, gbps=10) == pytest.approx(0.1)
    # At the balance both ceilings agree.
    assert roofline_seconds(4e9, 1e9, gflops=40, gbps=10) == pytest.approx(0.1)


def test_best_seconds_is_the_minimum_and_keeps_the_result():
    calls = []

    def run():
        calls.append(None)
        return len(calls)

    seconds, out = best_seconds(run, repeat=3)
    assert len(calls) == 3 and out == 3
    assert 0 <= seconds < 1


@pytest.mark.parametrize("parallel", [False, True])
def test_rates_are_positive_and_finite(parallel):
    gflops = matmul_gflops((64, 16, 16), parallel=parallel, repeat=2)
    gbps = read_gbps(8, parallel=parallel, repeat=2)
    assert gflops > 0 and math.isfinite(gflops)
    assert gbps > 0 and math.isfinite(gbps)


def test_seconds_per_iteration_runs_the_fixed_iterations():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2_000, 4))
    C0 = X[:5].copy()
    seconds, n_iter = seconds_per_iteration(X, 5, C0, n_iter=3, repeat=2)
    assert n_iter == kmeans(X, 5, init=C0, max_iter=3, tol=0).n_iter
    assert 1 <= n_iter <= 3
    assert seconds > 0 and math.isfinite(seconds)
