"""rerank_lib.models.MLP: the TensorFlow MLP agrees with the hand-written one and rejects bad steps cleanly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from mlp_cases import max_relative_error, mlp_cases, reference_loss, same_bits, tape_gradients

from rerank_lib import nn
from rerank_lib.compat import make_optimizer
from rerank_lib.models import MLP

import tensorflow as tf  # noqa: E402  (after rerank_lib.compat silenced its logs)

TOLERANCE = 1e-6


def variables_of(model: MLP):
    return [(w.numpy(), b.numpy()) for w, b in zip(model.weights, model.biases)]


# Each example builds a model and traces its tf.functions (~0.1 s): fewer examples than the NumPy tests.
@settings(max_examples=20)
@given(mlp_cases())
def test_gradients_match_the_hand_written_backward_pass(case):
    sizes, activation, params, q, u = case
    model = MLP.from_numpy(params, activation, dtype=tf.float64)
    loss, grads = model.loss_and_gradients(q, u)
    np_loss, np_grads = nn.NumpyMLP(sizes, activation, params=params).loss_and_gradients(q, u)
    assert max_relative_error(np_grads, grads) < TOLERANCE
    assert math.isclose(loss, np_loss, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(loss, reference_loss(params, q, u, activation), rel_tol=1e-12, abs_tol=1e-12)
    _, tape_grads, _ = tape_gradients(params, q, u, activation)
    assert max_relative_error(grads, tape_grads) < TOLERANCE
    np.testing.assert_allclose(model.predict(q), nn.mlp_forward(params, q, activation)[0], rtol=1e-12, atol=1e-12)


def test_same_seed_gives_the_numpy_models_initial_weights():
    for activation in nn.ACTIVATIONS:
        model = MLP([5, 7, 4, 3], activation, dtype=tf.float64, seed=11)
        assert same_bits(model.to_numpy(), nn.NumpyMLP([5, 7, 4, 3], activation, seed=11).params)
    model32 = MLP([5, 7, 3], seed=11)
    assert model32.weights[0].dtype == tf.float32
    np.testing.assert_array_equal(model32.to_numpy()[0][0], nn.init_mlp([5, 7, 3], 11)[0][0].astype(np.float32))


def test_from_numpy_to_numpy_round_trip_and_call_signature():
    params = nn.init_mlp([4, 6, 2], 3, bias_scale=0.1)
    model = MLP.from_numpy(params, "sigmoid", dtype=tf.float64)
    assert same_bits(model.to_numpy(), params)
    assert model.layer_sizes == (4, 6, 2)
    assert len(model.trainable_variables) == 4
    out = model(np.ones((3, 4)))
    assert isinstance(out, tf.Tensor) and out.shape == (3, 2) and out.dtype == tf.float64
    # One trace serves every batch size (input_signature [None, D]).
    model(np.ones((7, 4)))
    assert len(model.forward.get_concrete_function().structured_input_signature[0]) == 1


def test_sgd_train_step_equals_the_numpy_update():
    rng = np.random.default_rng(5)
    params = nn.init_mlp([6, 10, 8, 3], 2, activation="tanh", bias_scale=0.1)
    model = MLP.from_numpy(params, "tanh", dtype=tf.float64)
    reference = nn.NumpyMLP(params=params, activation="tanh")
    # 2^-4 is exact in the float32 variable where Keras keeps the learning rate, so both
    # sides take bit-comparable steps; 0.05 would differ in the 9th digit.
    optimizer = make_optimizer("sgd", 0.0625)
    for _ in range(20):
        q, u = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
        tf_loss = model.train_step(q, u, optimizer)
        np_loss = reference.update(q, u, 0.0625)
        assert math.isclose(tf_loss, np_loss, rel_tol=1e-10)
    assert max_relative_error(reference.params, model.to_numpy()) < 1e-10


def test_train_step_learns_with_every_optimizer():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(64, 3))
    u = np.tanh(q @ rng.normal(size=(3, 2)))
    for name in ("sgd", "adam", "adagrad"):
        model = MLP([3, 16, 2], "tanh", seed=0)
        optimizer = make_optimizer(name, 0.05)
        first = model.train_step(q, u, optimizer)
        for _ in range(100):
            last = model.train_step(q, u, optimizer)
        assert last < 0.5 * first, (name, first, last)


def test_saved_model_round_trip(tmp_path):
    model = MLP([3, 5, 2], "relu", seed=4)
    q = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    tf.saved_model.save(model, str(tmp_path / "mlp"))
    restored = tf.saved_model.load(str(tmp_path / "mlp"))
    np.testing.assert_array_equal(restored.forward(tf.constant(q)).numpy(), model.predict(q))


# ----------------------------------------------------------------------------- bad input


@pytest.fixture(params=[tf.float32, tf.float64], ids=["float32", "float64"])
def model_and_batch(request):
    rng = np.random.default_rng(0)
    model = MLP([4, 6, 3], "relu", dtype=request.param, seed=1)
    optimizer = make_optimizer("adam", 0.01)
    model.train_step(rng.normal(size=(2, 4)), rng.normal(size=(2, 3)), optimizer)  # optimizer slots exist
    return model, optimizer, rng.normal(size=(8, 4)), rng.normal(size=(8, 3))


def _set(array, index, value):
    array = np.array(array, dtype=np.float64)
    array[index] = value
    return array


BAD_BATCHES = {
    "q wrong rank": (lambda q, u: (q[0], u), ValueError, r"q must have rank 2"),
    "q wrong width": (lambda q, u: (q[:, :3], u), ValueError, r"q must have shape \*, 4"),
    "u wrong width": (lambda q, u: (q, u[:, :1]), ValueError, r"u must have shape \*, 3"),
    "u wrong rank": (lambda q, u: (q, u[None]), ValueError, r"u must have rank 2"),
    "batch mismatch": (lambda q, u: (q[:3], u), ValueError, r"q and u must have the same batch size"),
    "q NaN": (lambda q, u: (_set(q, (2, 1), np.nan), u), ValueError, r"q must be finite"),
    "u inf": (lambda q, u: (q, _set(u, (0, 0), np.inf)), ValueError, r"u must be finite"),
    "empty batch": (lambda q, u: (q[:0], u[:0]), ValueError, r"q must not be empty"),
    "q text": (lambda q, u: ("abc", u), TypeError, r"q must be a numeric array"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batch_is_rejected_and_leaves_variables_unchanged(model_and_batch, case):
    model, optimizer, q, u = model_and_batch
    make, error, message = BAD_BATCHES[case]
    bad_q, bad_u = make(q, u)
    before, iterations = variables_of(model), int(optimizer.iterations.numpy())
    with pytest.raises(error, match=message):
        model.train_step(bad_q, bad_u, optimizer)
    assert same_bits(variables_of(model), before)
    assert int(optimizer.iterations.numpy()) == iterations


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_input_that_overflows_float32_is_rejected():
    model = MLP([2, 3, 1], seed=0, dtype=tf.float32)
    before = variables_of(model)
    with pytest.raises(ValueError, match=r"q must be finite"):
        model.train_step([[1e300, 0.0]], [[0.0]], make_optimizer("sgd", 0.1))
    assert same_bits(variables_of(model), before)
    model64 = MLP([2, 3, 1], seed=0, dtype=tf.float64)
    assert model64.predict([[1e300, 0.0]]).shape == (1, 1)  # the same value is a finite float64: accepted


def test_non_finite_loss_is_rejected_before_the_optimizer_runs(model_and_batch):
    model, optimizer, q, u = model_and_batch
    before, iterations = variables_of(model), int(optimizer.iterations.numpy())
    huge = np.finfo(model.dtype.as_numpy_dtype).max / 10  # finite input whose square overflows
    with pytest.raises(ValueError, match=r"loss or gradients are not finite.*parameters unchanged"):
        model.train_step(q, np.full_like(u, huge), optimizer)
    assert same_bits(variables_of(model), before)
    assert int(optimizer.iterations.numpy()) == iterations
    model.train_step(q, u, optimizer)  # the optimizer state was not poisoned
    assert all(np.all(np.isfinite(a)) for pair in variables_of(model) for a in pair)


def test_overflowing_step_is_rolled_back():
    rng = np.random.default_rng(1)
    model = MLP([4, 6, 3], "tanh", seed=1)
    q, u = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    before = variables_of(model)
    with pytest.raises(ValueError, match=r"made the weights non-finite.*parameters unchanged"):
        model.train_step(q, u * 1e6, make_optimizer("sgd", 1e37))  # lr * grad overflows float32
    assert same_bits(variables_of(model), before)


def test_bad_constructor_and_optimizer_arguments():
    with pytest.raises(ValueError, match=r"activation must be one of"):
        MLP([3, 2], "softplus")
    with pytest.raises(ValueError, match=r"layer_sizes must have at least 2"):
        MLP([3])
    with pytest.raises(TypeError, match=r"dtype must be a floating"):
        MLP([3, 2], dtype=tf.int32)
    with pytest.raises(ValueError, match=r"params\[1\] W must have shape"):
        MLP.from_numpy([(np.ones((4, 3)), np.ones(4)), (np.ones((2, 5)), np.ones(2))])
    model = MLP([3, 2], seed=0)
    with pytest.raises(TypeError, match=r"optimizer must be a Keras optimizer"):
        model.train_step(np.ones((1, 3)), np.ones((1, 2)), "sgd")
