"""Losses. Notebook 01 derives the article's objective by hand:

    L(v, u) = ||v - u||^2 = sum_j (v_j - u_j)^2,      grad_v L = 2 (v - u)

where v = M_theta(q) is the model's vector for a query (and shopper) and u is the
shopper's true preference vector. Note: Keras' `MeanSquaredError` divides by
the dimension k; this objective does not (L = k * MSE_keras).

NumPy versions are the teaching reference; `squared_error_tf` is the same loss in
TensorFlow (imported lazily so NumPy-only users never load TensorFlow).
"""

from __future__ import annotations

import numpy as np

from rerank_lib.checks import as_float_array


def _pair(v, u) -> tuple[np.ndarray, np.ndarray]:
    v = as_float_array(v, "v")
    u = as_float_array(u, "u")
    if v.ndim not in (1, 2):
        raise ValueError(f"v must be a vector (k,) or a batch (n, k), got shape {v.shape}")
    if v.shape != u.shape:
        raise ValueError(f"v and u must have the same shape, got v {v.shape} and u {u.shape}")
    return v, u


def squared_error(v, u) -> np.ndarray | float:
    """L(v, u) = ||v - u||^2: a float for vectors (k,), one value per row for batches (n, k)."""
    v, u = _pair(v, u)
    loss = np.sum((v - u) ** 2, axis=-1)
    return float(loss) if loss.ndim == 0 else loss


def squared_error_gradient(v, u) -> np.ndarray:
    """grad_v L(v, u) = 2 (v - u), same shape as v."""
    v, u = _pair(v, u)
    return 2.0 * (v - u)


def squared_error_tf(v, u):
    """L(v, u) = ||v - u||^2 over the last axis, as a TensorFlow op (differentiable with tf.GradientTape)."""
    import tensorflow as tf

    return tf.reduce_sum(tf.square(v - u), axis=-1)
