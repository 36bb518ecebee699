"""One seed for Python, NumPy and TensorFlow."""

from __future__ import annotations

import os
import random

import numpy as np



def seed_everything(seed: int, *, tensorflow: bool = True) -> np.random.Generator:
    """Seed Python's `random`, NumPy's legacy global state and TensorFlow.

    Returns a fresh `numpy.random.Generator` seeded with `seed`; pass it on to
    every object that draws random numbers instead of using global state.
    TensorFlow is seeded only if it is importable (or skipped with
    `tensorflow=False`, which keeps NumPy-only code free of the import).
    """
    seed = _check_seed(seed, "an int")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if tensorflow:
        try:
            from rerank_lib import compat  # noqa: F401  (silences TF logs first)
            import tensorflow as tf
        except ImportError:  # pragma: no cover - TF is a hard dependency
            pass
        else:
            tf.random.set_seed(seed)
    return np.random.default_rng(seed)


def as_generator(seed_or_rng=None) -> np.random.Generator:
    """Return a Generator: pass one through, or build one from an int seed (None = fresh entropy)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is None:
        return np.random.default_rng()
    return np.random.default_rng(_check_seed(seed_or_rng, "an int, a numpy.random.Generator or None"))


def _check_seed(seed, expected: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be {expected}, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)
