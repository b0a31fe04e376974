"""Share identical, deterministic results between processes (``CFS_MEMO_DIR``).

``make test`` executes the deep-clustering chapter and its seed study side by
side, one per pytest worker. Both train the same autoencoders and embed the
same data for the seeds they have in common: minutes of the same work twice.
When the environment variable ``CFS_MEMO_DIR`` names a folder, a function
wrapped by :func:`shared` keys each call on everything that determines its
result (the arguments, the bytes of the arrays and of the model's weights, the
source of ``lib``, the versions of the packages that compute it and the number
of threads), computes it once and lets every later call with the same key,
from any process, load it. A per-key lock makes a second process wait for the
first instead of computing the same thing beside it; files are written under a
temporary name and renamed, so no reader sees half a file.

Unset (as for a reader running the notebooks), nothing is stored or read.
Results are shared only where they are reproducible: a call with no int seed,
or on a platform without ``fcntl`` locks, always computes.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no memo
    fcntl = None

_LIB = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def lib_stamp():
    """SHA-256 of the source of every module of ``lib``."""
    digest = hashlib.sha256()
    for path in sorted(_LIB.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(*parts):
    """SHA-256 of `parts`: arrays by dtype, shape and bytes, the rest by repr.

    >>> a = np.arange(3.0)
    >>> fingerprint(a, 1) == fingerprint(a.copy(), 1) != fingerprint(a, 2)
    True
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            part = np.ascontiguousarray(part)
            digest.update(f"{part.dtype.str}{part.shape}".encode())
            digest.update(part.view(np.uint8).reshape(-1).data)
        else:
            digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def shared(name, key, save, load):
    """Wrap a function so that ``CFS_MEMO_DIR`` shares its results.

    Parameters
    ----------
    name : str
        Prefix of the files.
    key : callable
        ``key(arguments)``, with ``arguments`` the call's arguments by name
        (defaults applied): a tuple for :func:`fingerprint`, or None when this
        call must be computed (no int seed, say).
    save, load : callable
        ``save(arguments, result, path)`` writes the result; ``load(arguments,
        path)`` returns it (and puts any in-place effect, such as trained
        weights, back where the function would have).
    """

    def wrap(func):
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            folder = os.environ.get("CFS_MEMO_DIR")
            if not folder or fcntl is None:
                return func(*args, **kwargs)
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return func(*args, **kwargs)  # the function says what is wrong
            bound.apply_defaults()
            try:
                parts = key(bound.arguments)
            except Exception:  # bad input: the function itself says what is wrong
                parts = None
            if parts is None:
                return func(*args, **kwargs)
            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{name}-{fingerprint(lib_stamp(), *parts)[:40]}"
            with open(path.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                if path.exists():
                    return load(bound.arguments, path)
                result = func(*args, **kwargs)
                partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
                save(bound.arguments, result, partial)
                os.replace(partial, path)
                return result

        return wrapper

    return wrap
