"""Argument validation: every error names the argument and says what was expected.

Library code validates *before* it mutates anything, so a rejected call leaves
models exactly as they were.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def as_float_array(
    value,
    name: str,
    *,
    ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    dtype=np.float64,
    allow_empty: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """Convert `value` to a float array and check rank, shape, emptiness and finiteness.

    `shape` may contain None for "any size" in that axis. Raises TypeError for
    non-numeric input and ValueError for everything else, naming `name`.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}: {error}") from None
    if shape is not None and ndim is None:
        ndim = len(shape)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have rank {ndim}{_shape_text(shape)}, got shape {array.shape}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(array.shape, shape)):
            if want is not None and got != want:
                raise ValueError(
                    f"{name} must have shape {_shape_text(shape).strip(' ()')}, got {array.shape} "
                    f"(axis {axis} is {got}, expected {want})"
                )
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if finite and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite, got {bad} NaN/inf value(s)")
    return array


def as_int_array(value, name: str, *, ndim: int | None = None, shape: Sequence[int | None] | None = None,
                 allow_empty: bool = False) -> np.ndarray:
    """Check that `value` is an integer array (bool and float are refused) of the given rank/shape; return it.

    Raises TypeError for non-integer input and ValueError for rank, shape or emptiness, naming `name`.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an integer array, got {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    if shape is not None and ndim is None:
        ndim = len(shape)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have rank {ndim}{_shape_text(shape)}, got shape {array.shape}")
    if shape is not None and any(want is not None and got != want for got, want in zip(array.shape, shape)):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def check_same_length(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise if two batches disagree on their first axis."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same batch size, got {len(a)} and {len(b)}")


def check_positive(name: str, value, *, allow_zero: bool = False) -> float:
    """Return `value` as a float after checking it is a finite number > 0 (>= 0 with allow_zero)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {expected}, got {value}")
    return value


def check_positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    """Return `value` as an int after checking it is an integer > 0 (>= 0 with allow_zero)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < 0 or (value == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be an int {expected}, got {value}")
    return value


def check_probability(name: str, value) -> np.ndarray | float:
    """Check that a probability (scalar or array) lies in [0, 1]."""
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array > 1):
        raise ValueError(f"{name} must be probabilities in [0, 1], got {value!r}")
    return float(array) if array.ndim == 0 else array


def check_choice(name: str, value, choices: Sequence) -> object:
    """Check that `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(map(str, choices))}, got {value!r}")
    return value


def _shape_text(shape) -> str:
    if shape is None:
        return ""
    return " (" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
