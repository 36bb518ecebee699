"""Shared hypothesis strategies and independent reference code for the MLP tests (test_nn, test_models).

The references here are written separately from rerank_lib.nn on purpose: a bug
copied into both would otherwise go unnoticed.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from rerank_lib.nn import ACTIVATIONS, init_mlp


@st.composite
def mlp_cases(draw, max_hidden_layers: int = 3, max_width: int = 6, max_batch: int = 5):
    """(layer_sizes, activation, params, q, u): random depth, widths, activation, batch and values."""
    n_hidden = draw(st.integers(0, max_hidden_layers))
    sizes = [draw(st.integers(1, max_width)) for _ in range(n_hidden + 2)]
    activation = draw(st.sampled_from(ACTIVATIONS))
    batch = draw(st.integers(1, max_batch))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Non-zero biases so that the bias gradients are exercised on non-trivial values.
    params = init_mlp(sizes, rng, activation=activation, bias_scale=0.5)
    q = rng.normal(size=(batch, sizes[0]))
    u = rng.normal(size=(batch, sizes[-1]))
    return sizes, activation, params, q, u


def reference_forward(params, q, activation):
    """The MLP one example at a time with textbook formulas (sigmoid through exp, relu through where)."""
    sigma = {
        "relu": lambda z: np.where(z > 0, z, 0.0),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
        "linear": lambda z: z,
    }[activation]
    outputs, preactivations = [], []
    for row in np.asarray(q, dtype=np.float64):
        a = row
        for i, (w, b) in enumerate(params):
            z = np.array([sum(w[j, m] * a[m] for m in range(len(a))) + b[j] for j in range(len(b))])
            preactivations.append(z)
            a = z if i == len(params) - 1 else sigma(z)
        outputs.append(a)
    return np.array(outputs), preactivations


def reference_loss(params, q, u, activation) -> float:
    """L = (1/n) sum_r sum_j (v_rj - u_rj)^2 by explicit loops."""
    v, _ = reference_forward(params, q, activation)
    n, k = v.shape
    return sum((v[r, j] - u[r, j]) ** 2 for r in range(n) for j in range(k)) / n


def tape_gradients(params, q, u, activation):
    """(loss, [(dW, db)], dq) by tf.GradientTape in float64, on raw tf.Variables (not rerank_lib.models)."""
    import tensorflow as tf

    sigma = {"relu": tf.nn.relu, "tanh": tf.tanh, "sigmoid": tf.sigmoid, "linear": lambda z: z}[activation]
    weights = [tf.Variable(w, dtype=tf.float64) for w, _ in params]
    biases = [tf.Variable(b, dtype=tf.float64) for _, b in params]
    q_var = tf.Variable(q, dtype=tf.float64)
    with tf.GradientTape() as tape:
        a = q_var
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = tf.matmul(a, tf.transpose(w)) + b
            a = z if i == len(weights) - 1 else sigma(z)
        loss = tf.reduce_mean(tf.reduce_sum((a - tf.constant(u, tf.float64)) ** 2, axis=1))
    grads = tape.gradient(loss, weights + biases + [q_var])
    n = len(weights)
    return float(loss), [(grads[i].numpy(), grads[n + i].numpy()) for i in range(n)], grads[-1].numpy()


def relative_error(a, b, floor: float = 0.0) -> float:
    """||a - b|| / max(||a||, ||b||, floor): 0 when both are exactly equal (even both zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = np.linalg.norm(a - b)
    if diff == 0:
        return 0.0
    return float(diff / max(np.linalg.norm(a), np.linalg.norm(b), floor))


def max_relative_error(grads_a, grads_b, floor_fraction: float = 1e-12) -> float:
    """Largest per-tensor relative error between two gradient lists [(dW, db)].

    Each tensor is compared on its own (a bug in one small layer is not hidden
    by the others); the floor, a fraction of the whole gradient's norm, keeps
    round-off in an almost-zero tensor from counting as a large relative error.
    """
    flat_a = [np.asarray(t) for pair in grads_a for t in pair]
    flat_b = [np.asarray(t) for pair in grads_b for t in pair]
    assert [t.shape for t in flat_a] == [t.shape for t in flat_b]
    scale = np.sqrt(sum(np.sum(t**2) for t in flat_b))
    return max(relative_error(a, b, floor_fraction * scale) for a, b in zip(flat_a, flat_b))


def same_bits(params_a, params_b) -> bool:
    """True if two parameter lists are bit-for-bit identical (shapes, dtypes and bytes)."""
    if len(params_a) != len(params_b):
        return False
    for pair_a, pair_b in zip(params_a, params_b):
        for a, b in zip(pair_a, pair_b):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
                return False
    return True
