"""Bounded memory, once: rows per chunk for a byte budget, and the chunk loop.

Every function in lib that streams through the rows of a large array takes
its chunk length from :func:`rows_for_budget` and runs its chunks with
:func:`map_chunks` (or a plain loop over :func:`chunks` where the order
matters). ``working_memory``, in MiB, is the only memory knob of the public
API; :func:`check_working_memory` validates it.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from ._validation import check_float

#: Default bound, in MiB, on the temporaries built for one chunk of rows.
WORKING_MEMORY_MB = 64


def check_working_memory(working_memory):
    """`working_memory` in MiB: the default for None, else a positive float."""
    if working_memory is None:
        return WORKING_MEMORY_MB
    return check_float(working_memory, "working_memory", low=1e-9)


def rows_for_budget(bytes_per_row, working_memory=None):
    """How many rows fit in `working_memory` MiB when each costs `bytes_per_row`.

    At least 1, so that a tiny budget still makes progress.

    Examples
    --------
    >>> rows_for_budget(8 * 64, working_memory=32)   # float64 rows of 64 features
    65536
    >>> rows_for_budget(10**9, working_memory=1)
    1
    """
    mb = WORKING_MEMORY_MB if working_memory is None else working_memory
    return max(1, int(mb * 2**20 // bytes_per_row))


def chunks(n, rows):
    """The slices ``[0, rows), [rows, 2 rows), ...`` that cover ``range(n)``.

    Examples
    --------
    >>> chunks(5, 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


_POOL = _BLAS = None
_SERIAL = threading.local()


@contextmanager
def one_thread():
    """Within this block, :func:`map_chunks` runs its chunks in the calling thread.

    For code that an outer scheduler already runs in parallel (a Dask worker's
    task, :mod:`lib.scale`): lib's own threads on top would oversubscribe the
    cores. Only this thread is affected; the results are the same.
    """
    before = getattr(_SERIAL, "on", False)
    _SERIAL.on = True
    try:
        yield
    finally:
        _SERIAL.on = before


def workers():
    """Threads for the chunk loop: one per CPU this process may use, at most 8."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # not on Linux
        return max(1, min(8, os.cpu_count() or 1))


def map_chunks(work, n, rows):
    """Run ``work(sl)`` for every slice of :func:`chunks` (n, rows), on threads.

    NumPy releases the GIL inside matrix products and ufuncs, so chunks run in
    parallel; BLAS is held to one thread meanwhile, or its own threads and
    ours would fight over the cores. Each chunk must write only its own rows
    (or its own slot), so the result is the same whatever the order.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(5)
    >>> def work(sl):
    ...     out[sl] = np.arange(sl.start, sl.stop) ** 2
    >>> map_chunks(work, 5, 2)
    >>> out.tolist()
    [0.0, 1.0, 4.0, 9.0, 16.0]
    """
    global _POOL, _BLAS
    slices = chunks(n, rows)
    if len(slices) < 2 or workers() < 2 or getattr(_SERIAL, "on", False):
        for sl in slices:
            work(sl)
        return
    if _POOL is None:
        from threadpoolctl import ThreadpoolController

        _POOL = ThreadPoolExecutor(
            max_workers=workers(), thread_name_prefix="lib-chunks"
        )
        _BLAS = ThreadpoolController()  # finding the BLAS libraries is slow: once
    with _BLAS.limit(limits=1, user_api="blas"):
        list(_POOL.map(work, slices))
