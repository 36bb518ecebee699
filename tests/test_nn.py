"""rerank_lib.nn: the hand-written MLP against finite differences, tf.GradientTape and loop formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from mlp_cases import (
    max_relative_error,
    mlp_cases,
    reference_forward,
    reference_loss,
    relative_error,
    same_bits,
    tape_gradients,
)

from rerank_lib import nn
from rerank_lib.losses import squared_error

TOLERANCE = 1e-6  # the bound on relative gradient error
FD_STEP = 1e-5  # central differences: truncation ~h^2, round-off ~eps/h, both ~1e-11 here


def batch_loss(params, q, u, activation) -> float:
    v, _ = nn.mlp_forward(params, q, activation)
    return float(np.mean(np.sum((v - u) ** 2, axis=1)))


def finite_difference_gradients(params, q, u, activation):
    """Central differences (L(x + h) - L(x - h)) / 2h for every weight, bias and input entry."""

    def numeric(array, loss_of):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + FD_STEP
            plus = loss_of()
            array[index] = saved - FD_STEP
            minus = loss_of()
            array[index] = saved
            grad[index] = (plus - minus) / (2 * FD_STEP)
        return grad

    params = nn.copy_params(params)
    q = np.array(q, dtype=np.float64)

    def loss_of():
        return batch_loss(params, q, u, activation)

    grads = [(numeric(w, loss_of), numeric(b, loss_of)) for w, b in params]
    return grads, numeric(q, loss_of)


def hand_gradients(params, q, u, activation):
    v, cache = nn.mlp_forward(params, q, activation)
    grad_v = 2.0 * (v - u) / len(q)
    return nn.mlp_backward(params, cache, grad_v, input_gradient=True)


def away_from_relu_kinks(params, q, activation, margin=1e-3) -> bool:
    """Finite differences across relu's kink at 0 are meaningless; skip such (rare) draws."""
    if activation != "relu":
        return True
    _, cache = nn.mlp_forward(params, q, activation)
    return all(np.min(np.abs(z)) > margin for z in cache.preactivations[:-1])


# ----------------------------------------------------------------------------- gradient checks


@given(mlp_cases())
def test_backward_matches_central_finite_differences(case):
    sizes, activation, params, q, u = case
    assume(away_from_relu_kinks(params, q, activation))
    grads, grad_q = hand_gradients(params, q, u, activation)
    numeric, numeric_q = finite_difference_gradients(params, q, u, activation)
    # Floor 1e-4 of the gradient's norm: finite differences carry ~1e-11 absolute noise.
    assert max_relative_error(grads, numeric, floor_fraction=1e-4) < TOLERANCE
    assert relative_error(grad_q, numeric_q, floor=1e-4 * np.linalg.norm(numeric_q)) < TOLERANCE


@given(mlp_cases())
def test_backward_matches_gradient_tape_in_float64(case):
    sizes, activation, params, q, u = case
    grads, grad_q = hand_gradients(params, q, u, activation)
    tape_loss, tape_grads, tape_q = tape_gradients(params, q, u, activation)
    assert max_relative_error(grads, tape_grads) < TOLERANCE
    assert relative_error(grad_q, tape_q, floor=1e-12 * np.linalg.norm(tape_q)) < TOLERANCE
    assert math.isclose(batch_loss(params, q, u, activation), tape_loss, rel_tol=1e-12, abs_tol=1e-12)


@given(mlp_cases())
def test_numpy_mlp_loss_and_gradients_match_the_tape(case):
    sizes, activation, params, q, u = case
    model = nn.NumpyMLP(sizes, activation, params=params)
    loss, grads = model.loss_and_gradients(q, u)
    tape_loss, tape_grads, _ = tape_gradients(params, q, u, activation)
    assert math.isclose(loss, tape_loss, rel_tol=1e-12, abs_tol=1e-12)
    assert max_relative_error(grads, tape_grads) < TOLERANCE


@given(mlp_cases(max_hidden_layers=2, max_width=4, max_batch=3))
def test_forward_and_loss_match_loop_formulas(case):
    sizes, activation, params, q, u = case
    v, cache = nn.mlp_forward(params, q, activation)
    expected_v, _ = reference_forward(params, q, activation)
    np.testing.assert_allclose(v, expected_v, rtol=1e-12, atol=1e-12)
    assert cache.output is v or np.array_equal(cache.output, v)
    assert len(cache.layer_inputs) == len(cache.preactivations) == len(params)
    loss, _ = nn.NumpyMLP(sizes, activation, params=params).loss_and_gradients(q, u)
    assert math.isclose(loss, reference_loss(params, q, u, activation), rel_tol=1e-12, abs_tol=1e-12)


def test_loss_is_the_batch_mean_of_the_article_objective():
    params = [(np.array([[2.0, -1.0]]), np.array([0.5]))]  # v = 2 q_1 - q_2 + 0.5, a linear model
    q = np.array([[1.0, 1.0], [0.0, 2.0]])
    u = np.array([[0.0], [0.0]])
    loss, grads = nn.NumpyMLP(params=params, activation="linear").loss_and_gradients(q, u)
    # v = [1.5, -1.5]: L = (1.5^2 + 1.5^2) / 2 = 2.25, dL/dv = 2 (v - u) / 2 = v
    assert loss == pytest.approx(2.25)
    assert loss == pytest.approx(float(np.mean(squared_error(np.array([[1.5], [-1.5]]), u))))
    np.testing.assert_allclose(grads[0][0], [[1.5 * 1.0 - 1.5 * 0.0, 1.5 * 1.0 - 1.5 * 2.0]])
    np.testing.assert_allclose(grads[0][1], [0.0])


@given(mlp_cases(max_hidden_layers=2), st.floats(1e-4, 1.0))
def test_sgd_step_is_w_minus_eta_grad_and_pure(case, learning_rate):
    sizes, activation, params, q, u = case
    before = nn.copy_params(params)
    model = nn.NumpyMLP(sizes, activation, params=params)
    loss, grads = model.loss_and_gradients(q, u)
    stepped = nn.sgd_step(params, grads, learning_rate)
    assert same_bits(params, before)  # sgd_step does not touch its input
    for (w, b), (dw, db), (w_new, b_new) in zip(params, grads, stepped):
        np.testing.assert_array_equal(w_new, w - learning_rate * dw)
        np.testing.assert_array_equal(b_new, b - learning_rate * db)
    assert model.update(q, u, learning_rate) == loss  # returns the loss before the step
    assert same_bits(model.params, stepped)


@given(mlp_cases(max_hidden_layers=2))
def test_a_small_step_decreases_the_loss_at_rate_grad_norm_squared(case):
    sizes, activation, params, q, u = case
    model = nn.NumpyMLP(sizes, activation, params=params)
    loss, grads = model.loss_and_gradients(q, u)
    norm_sq = sum(np.sum(g**2) for pair in grads for g in pair)
    assume(norm_sq > 1e-6)
    assume(away_from_relu_kinks(params, q, activation, margin=1e-2))
    eta = 1e-6
    model.update(q, u, eta)
    new_loss, _ = model.loss_and_gradients(q, u)
    # First order: L(theta - eta g) = L(theta) - eta ||g||^2 + O(eta^2).
    assert (loss - new_loss) / eta == pytest.approx(norm_sq, rel=1e-3)


def test_init_is_deterministic_and_scaled():
    a = nn.init_mlp([5, 7, 3], 42, activation="relu")
    b = nn.init_mlp([5, 7, 3], np.random.default_rng(42), activation="relu")
    assert same_bits(a, b)
    assert [w.shape for w, _ in a] == [(7, 5), (3, 7)]
    assert all(w.dtype == np.float64 and not np.any(bias) for w, bias in a)
    big = nn.init_mlp([400, 300, 1], 0, activation="tanh")
    assert np.std(big[0][0]) == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert nn.NumpyMLP([5, 7, 3], "relu", seed=42).n_parameters == 7 * 5 + 7 + 3 * 7 + 3


# ----------------------------------------------------------------------------- bad input


@pytest.fixture
def model_and_batch():
    rng = np.random.default_rng(0)
    model = nn.NumpyMLP([4, 6, 5, 3], "tanh", seed=1)
    return model, rng.normal(size=(8, 4)), rng.normal(size=(8, 3))


def _with_nan(array):
    array = array.copy()
    array[1, 2] = np.nan
    return array


def _with_inf(array):
    array = array.copy()
    array[0, 0] = -np.inf
    return array


BAD_BATCHES = {
    "q wrong rank": (lambda q, u: (q[0], u), ValueError, r"q must have rank 2"),
    "q 3-d": (lambda q, u: (q[None], u), ValueError, r"q must have rank 2"),
    "q wrong width": (lambda q, u: (q[:, :3], u), ValueError, r"q must have shape \*, 4.*axis 1 is 3"),
    "u wrong width": (lambda q, u: (q, u[:, :2]), ValueError, r"u must have shape \*, 3"),
    "u wrong rank": (lambda q, u: (q, u.ravel()), ValueError, r"u must have rank 2"),
    "batch mismatch": (lambda q, u: (q, u[:5]), ValueError, r"q and u must have the same batch size"),
    "q NaN": (lambda q, u: (_with_nan(q), u), ValueError, r"q must be finite"),
    "u inf": (lambda q, u: (q, _with_inf(u)), ValueError, r"u must be finite"),
    "empty batch": (lambda q, u: (q[:0], u[:0]), ValueError, r"q must not be empty"),
    "q text": (lambda q, u: ("abc", u), TypeError, r"q must be a numeric array"),
    "u objects": (lambda q, u: (q, [[object()] * 3] * 8), TypeError, r"u must be a numeric array"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batch_is_rejected_naming_the_argument_and_leaves_params_unchanged(model_and_batch, case):
    model, q, u = model_and_batch
    make, error, message = BAD_BATCHES[case]
    bad_q, bad_u = make(q, u)
    before = model.params
    with pytest.raises(error, match=message):
        model.update(bad_q, bad_u, 0.1)
    with pytest.raises(error, match=message):
        model.loss_and_gradients(bad_q, bad_u)
    assert same_bits(model.params, before)


@pytest.mark.parametrize(
    "learning_rate, error, message",
    [
        (0.0, ValueError, r"learning_rate must be a finite number > 0"),
        (-0.1, ValueError, r"learning_rate must be a finite number > 0"),
        (float("nan"), ValueError, r"learning_rate must be a finite number > 0"),
        (float("inf"), ValueError, r"learning_rate must be a finite number > 0"),
        ("0.1", TypeError, r"learning_rate must be a number"),
        (True, TypeError, r"learning_rate must be a number"),
    ],
)
def test_bad_learning_rate_is_rejected(model_and_batch, learning_rate, error, message):
    model, q, u = model_and_batch
    before = model.params
    with pytest.raises(error, match=message):
        model.update(q, u, learning_rate)
    with pytest.raises(error, match=message):
        nn.sgd_step(before, before, learning_rate)
    assert same_bits(model.params, before)


def test_non_finite_forward_pass_rejects_the_update(model_and_batch):
    _, q, u = model_and_batch
    params = nn.init_mlp([4, 6, 3], 0, activation="linear")
    params[0] = (params[0][0] * 1e200, params[0][1])  # finite weights whose products overflow
    model = nn.NumpyMLP(params=params, activation="linear")
    before = model.params
    with pytest.raises(ValueError, match=r"not finite.*parameters unchanged"):
        model.update(q * 1e200, u, 0.1)
    assert same_bits(model.params, before)


def test_overflowing_step_is_rejected(model_and_batch):
    model, q, u = model_and_batch
    before = model.params
    with pytest.raises(ValueError, match=r"learning_rate .* overflow.*parameters unchanged"):
        model.update(q, u * 1e6, 1e307)
    assert same_bits(model.params, before)
    model.update(q, u, 0.01)  # still usable afterwards
    assert not same_bits(model.params, before)


def test_params_property_is_a_copy(model_and_batch):
    model, q, _ = model_and_batch
    before = model.predict(q)
    model.params[0][0][:] = 0.0
    np.testing.assert_array_equal(model.predict(q), before)


def test_bad_functional_arguments_name_themselves():
    params = nn.init_mlp([3, 4, 2], 0)
    q = np.ones((2, 3))
    v, cache = nn.mlp_forward(params, q)
    with pytest.raises(ValueError, match=r"x must have shape \*, 3"):
        nn.mlp_forward(params, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"activation must be one of"):
        nn.mlp_forward(params, q, "softplus")
    with pytest.raises(ValueError, match=r"grad_output must have shape 2, 2"):
        nn.mlp_backward(params, cache, np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"grad_output must be finite"):
        nn.mlp_backward(params, cache, np.full((2, 2), np.nan))
    with pytest.raises(TypeError, match=r"cache must be the ForwardCache"):
        nn.mlp_backward(params, {"a": 1}, np.ones((2, 2)))
    broken = [params[0], (np.ones((2, 5)), np.ones(2))]
    with pytest.raises(ValueError, match=r"params\[1\] W must have shape \(2, 4\)"):
        nn.mlp_forward(broken, q)
    with pytest.raises(ValueError, match=r"params\[0\] b must have shape 4"):
        nn.mlp_forward([(params[0][0], np.ones(3)), params[1]], q)
    with pytest.raises(ValueError, match=r"grads\[0\] W must be finite"):
        nn.sgd_step(params, [(np.full((4, 3), np.inf), np.zeros(4)), params[1]], 0.1)
    with pytest.raises(ValueError, match=r"grads must match the parameter shapes"):
        nn.sgd_step(params, nn.init_mlp([3, 5, 2], 0), 0.1)
    with pytest.raises(ValueError, match=r"layer_sizes must have at least 2"):
        nn.init_mlp([3], 0)
    with pytest.raises(ValueError, match=r"layer_sizes\[1\] must be an int > 0"):
        nn.init_mlp([3, 0, 2], 0)
    with pytest.raises(TypeError, match=r"layer_sizes\[1\] must be an int"):
        nn.init_mlp([3, 2.5, 2], 0)
    with pytest.raises(ValueError, match=r"params must hold at least one \(W, b\) pair"):
        nn.mlp_forward([], q)


def test_nn_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, rerank_lib.nn; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
