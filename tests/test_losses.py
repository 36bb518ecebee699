import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import sqeuclidean

from rerank_lib.losses import squared_error, squared_error_gradient, squared_error_tf

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def vector_pairs(draw):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(1, 8))
    v = draw(arrays(np.float64, (n, k), elements=finite))
    u = draw(arrays(np.float64, (n, k), elements=finite))
    return v, u


@given(vector_pairs())
def test_squared_error_matches_independent_formulas(pair):
    v, u = pair
    loss = squared_error(v, u)
    expected = np.array([sqeuclidean(a, b) for a, b in zip(v, u)])
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-9)
    # Keras' MSE averages over the last axis: L = k * MSE_keras. Keras 3 computes it in float32
    # (its floatx) whatever the input dtype, so the agreement is to float32 precision.
    keras = tf.keras.losses.MeanSquaredError(reduction="none")(u, v).numpy()
    np.testing.assert_allclose(loss, v.shape[1] * keras, rtol=1e-6, atol=1e-6)


def test_squared_error_known_values():
    assert squared_error([1.0, 2.0], [0.0, 0.0]) == 5.0
    assert squared_error([3.0, -4.0], [3.0, -4.0]) == 0.0
    np.testing.assert_array_equal(squared_error([[1.0, 1.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]), [2.0, 4.0])


@given(vector_pairs())
def test_gradient_matches_finite_differences_and_tape(pair):
    v, u = pair
    grad = squared_error_gradient(v, u)
    # L is quadratic, so the central difference is exact up to rounding
    h = 1e-3
    numeric = np.zeros_like(v)
    for index in np.ndindex(v.shape):
        step = np.zeros_like(v)
        step[index] = h
        numeric[index] = (np.sum(squared_error(v + step, u)) - np.sum(squared_error(v - step, u))) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)
    v_var = tf.Variable(v)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(squared_error_tf(v_var, tf.constant(u)))
    np.testing.assert_allclose(grad, tape.gradient(total, v_var).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "v, u, message",
    [
        (np.ones((2, 3)), np.ones((2, 4)), "same shape"),
        (np.ones((2, 3, 1)), np.ones((2, 3, 1)), "v must be a vector"),
        ([np.nan, 1.0], [0.0, 0.0], "v must be finite"),
        ([1.0, 1.0], [np.inf, 0.0], "u must be finite"),
        (np.ones((0, 3)), np.ones((0, 3)), "v must not be empty"),
        ("abc", [1.0], "v must be a numeric array"),
    ],
)
def test_bad_input_names_the_argument(v, u, message):
    with pytest.raises((ValueError, TypeError), match=message):
        squared_error(v, u)
    with pytest.raises((ValueError, TypeError), match=message):
        squared_error_gradient(v, u)
