"""Argument checks shared by lib's public functions.

Public functions validate once, at the boundary, with messages that name the
argument, the value and the fix; private helpers assume valid input.
"""

from __future__ import annotations

import numbers

import numpy as np

#: lib computes with squared distances: the values it accepts must keep their
#: squares, and the squares of their differences, finite and above underflow.
MAX_ABS = 1e150
MIN_SCALE = 1e-150


def check_array(X, name="X", *, min_samples=1, keep_float32=False):
    """Return `X` as a finite 2-D float64 array, or raise a clear error.

    With `keep_float32`, a float32 `X` comes back as float32, not copied when
    it is C-contiguous (for the streaming algorithms, which convert one batch
    at a time). The checks build no temporary the size of `X`.
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(
            f"{name} must be a 2-D array of numbers, got {type(X).__name__}; "
            f"pass a NumPy array of shape (n_samples, n_features)"
        )
    arr = np.asarray(X)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(
            f"{name} must hold numbers, got dtype {arr.dtype}; "
            f"convert it with np.asarray({name}, dtype=float)"
        )
    if np.iscomplexobj(arr):
        raise TypeError(
            f"{name} must be real, got dtype {arr.dtype}; take the real part or "
            f"split real and imaginary parts into features"
        )
    if arr.ndim != 2:
        hint = (
            f"{name}.reshape(-1, 1) for one feature"
            if arr.ndim == 1
            else f"{name}.reshape(len({name}), -1) to flatten each sample"
        )
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}; "
            f"use {hint}"
        )
    if arr.shape[0] < min_samples or arr.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); pass at least {min_samples} "
            f"sample(s) with at least one feature"
        )
    # float64 whatever the input (float32 only if asked): uint8 pixels must not
    # overflow in x.x or x - c.
    keep = keep_float32 and arr.dtype == np.float32
    arr = np.ascontiguousarray(arr, dtype=np.float32 if keep else np.float64)
    # min and max propagate NaN and see infinities, without an (n, d) mask.
    if not (np.isfinite(arr.min()) and np.isfinite(arr.max())):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains NaN or infinity (first at row {bad[0]}, column "
            f"{bad[1]}: {arr[tuple(bad)]}); drop or impute those values first"
        )
    check_range(arr, name, data=name == "X")
    return arr


def check_range(arr, name="X", *, data=True):
    """Refuse values whose squares overflow, or whose spread underflows, float64.

    ``|x| <= 1e150`` keeps every squared distance finite. For the data
    (`data`), a largest ``|x|`` below ``1e-150`` (all zeros excepted) would
    make every squared distance 0; centroids and other arguments may be that
    small. Both get a message with the fix: rescale.
    """
    if arr.size == 0:
        return
    scale = max(abs(float(arr.min())), abs(float(arr.max())))
    if scale > MAX_ABS:
        raise ValueError(
            f"{name} has values up to {scale:.3g}, whose squares overflow float64; "
            f"lib supports |x| <= {MAX_ABS:.0e}: rescale it, e.g. {name} / "
            f"np.abs({name}).max()"
        )
    if data and 0 < scale < MIN_SCALE:
        raise ValueError(
            f"{name}'s largest value is {scale:.3g}, so its squared distances "
            f"underflow to 0; lib supports a largest |x| of at least "
            f"{MIN_SCALE:.0e}: rescale it, e.g. {name} / np.abs({name}).max()"
        )


def check_int(value, name, *, low=1, high=None, high_reason=""):
    """Return `value` as an int in [low, high], or raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__}); "
            f"pass e.g. {name}={max(low, 1)}"
        )
    value = int(value)
    if value < low:
        raise ValueError(f"{name}={value} is too small; choose {name} >= {low}")
    if high is not None and value > high:
        raise ValueError(
            f"{name}={value} is larger than {high_reason or high}; "
            f"choose {name} <= {high}"
        )
    return value


def check_float(value, name, *, low=0.0):
    """Return `value` as a finite float >= low, or raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number, got {value!r}; pass e.g. {name}=1e-4"
        )
    value = float(value)
    if not np.isfinite(value) or value < low:
        raise ValueError(f"{name}={value} is invalid; choose a finite {name} >= {low}")
    return value


def check_centroids(centroids, d, name="centroids"):
    """`centroids` as a finite (k, d) float64 array, or raise a clear error."""
    C = check_array(centroids, name)
    if C.shape[1] != d:
        verb = "have" if name.endswith("s") else "has"
        raise ValueError(
            f"{name} {verb} {C.shape[1]} features but X has {d}; "
            f"pass {name} of shape (k, {d})"
        )
    return C


def check_choice(value, name, choices):
    """Raise unless `value` is one of the strings in `choices`."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not supported; choose one of {options}")
    return value


def check_random_state(seed, name="seed"):
    """Turn `seed` (None, an int or a Generator) into a ``np.random.Generator``.

    Nothing here touches NumPy's global random state.
    """
    if seed is None or (
        isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
    ):
        if seed is not None and int(seed) < 0:
            raise ValueError(f"{name}={seed} is negative; pass a non-negative int")
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    raise TypeError(
        f"{name} must be None, an int or a np.random.Generator, got "
        f"{seed!r} ({type(seed).__name__}); pass e.g. {name}=0 or "
        f"{name}=np.random.default_rng(0)"
    )
