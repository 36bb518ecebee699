import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

from rerank_lib.linear import (
    DivergenceError,
    LinearPreferenceModel,
    gaussian_sgd_learning_rate_bound,
    gd_learning_rate_bound,
    run_online_sgd,
    sgd_learning_rate_bound,
    sgd_transition_spectral_radius,
)
from rerank_lib.losses import squared_error_tf
from rerank_lib.synthetic import linear_preference_stream


@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 7), st.booleans(), st.integers(0, 2**16))
def test_gradients_match_gradient_tape(dim_query, dim_preference, batch, bias, seed):
    rng = np.random.default_rng(seed)
    model = LinearPreferenceModel(dim_query, dim_preference, bias=bias, init_scale=1.0, seed=seed)
    if bias:
        model.bias = rng.normal(size=dim_preference)
    q = rng.normal(size=(batch, dim_query))
    u = rng.normal(size=(batch, dim_preference))
    grad_w, grad_b, loss = model.gradients(q, u)
    w = tf.Variable(model.weights)
    b = tf.Variable(model.bias if bias else np.zeros(dim_preference))
    with tf.GradientTape() as tape:
        v = tf.matmul(q, w, transpose_b=True) + b
        tape_loss = tf.reduce_mean(squared_error_tf(v, u))
    tape_w, tape_b = tape.gradient(tape_loss, [w, b])
    np.testing.assert_allclose(loss, tape_loss.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_w, tape_w.numpy(), rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(grad_b, tape_b.numpy(), rtol=1e-10, atol=1e-12)


def test_sgd_step_applies_the_update_and_returns_the_loss_before_it():
    model = LinearPreferenceModel(3, 2, init_scale=1.0, seed=1)
    q, u = np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.1])
    before = model.weights.copy()
    v = before @ q
    loss = model.sgd_step(q, u, 0.01)
    assert loss == pytest.approx(np.sum((v - u) ** 2))
    np.testing.assert_allclose(model.weights, before - 0.01 * 2 * np.outer(v - u, q))


def test_online_sgd_converges_below_the_bound_and_diverges_above_it():
    stream, true_map = linear_preference_stream(3000, 8, 4, noise=0.1, seed=3)
    eta_star = gaussian_sgd_learning_rate_bound(8)
    slow = run_online_sgd(LinearPreferenceModel(8, 4), stream.queries, stream.preferences, 0.5 * eta_star)
    assert not slow.diverged
    assert slow.losses[-500:].mean() < 3 * stream.noise_floor
    fast = run_online_sgd(LinearPreferenceModel(8, 4), stream.queries, stream.preferences, 1.5 * eta_star)
    assert fast.diverged


def test_numeric_bound_matches_gaussian_closed_form():
    stream, _ = linear_preference_stream(20000, 6, 2, query_scale=2.0, seed=0)
    closed = gaussian_sgd_learning_rate_bound(6, 2.0)
    assert sgd_learning_rate_bound(stream.queries) == pytest.approx(closed, rel=0.05)
    assert gd_learning_rate_bound(stream.queries) == pytest.approx(1 / 4.0, rel=0.1)
    assert sgd_transition_spectral_radius(stream.queries, 0.9 * closed) < 1 < sgd_transition_spectral_radius(stream.queries, 1.1 * closed)


@pytest.mark.parametrize(
    "q, u, learning_rate, error, message",
    [
        (np.ones(4), np.ones(2), 0.1, ValueError, "q must have shape"),
        (np.ones(3), np.ones(3), 0.1, ValueError, "u must have shape"),
        (np.ones((2, 3)), np.ones((3, 2)), 0.1, ValueError, "u must have shape"),
        (np.array([1.0, np.nan, 0.0]), np.ones(2), 0.1, ValueError, "q must be finite"),
        (np.ones(3), np.array([np.inf, 0.0]), 0.1, ValueError, "u must be finite"),
        (np.ones((0, 3)), np.ones((0, 2)), 0.1, ValueError, "q must not be empty"),
        (np.ones(3), np.ones(2), -0.1, ValueError, "learning_rate"),
        (np.ones(3), np.ones(2), float("nan"), ValueError, "learning_rate"),
        (np.ones((1, 1, 3)), np.ones(2), 0.1, ValueError, "q must have shape"),
    ],
)
def test_rejected_update_leaves_weights_bit_for_bit_unchanged(q, u, learning_rate, error, message):
    model = LinearPreferenceModel(3, 2, bias=True, init_scale=1.0, seed=0)
    weights, bias = model.weights.copy(), model.bias.copy()
    with pytest.raises(error, match=message):
        model.sgd_step(q, u, learning_rate)
    assert model.weights.tobytes() == weights.tobytes()
    assert model.bias.tobytes() == bias.tobytes()


def test_overflowing_update_is_rejected_and_nan_never_reaches_the_weights():
    model = LinearPreferenceModel(2, 1, init_scale=1.0, seed=0)
    weights = model.weights.copy()
    with pytest.raises(DivergenceError):
        model.sgd_step([1e200, 1e200], [0.0], 1e200)
    assert model.weights.tobytes() == weights.tobytes()
