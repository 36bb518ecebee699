"""A hand-written multilayer perceptron in NumPy: forward pass, backward pass, SGD (notebook 02).

The teaching reference for `rerank_lib.models.MLP` (the TensorFlow version that
later notebooks train). Layer sizes [D, H_1, ..., H_L, K]; every hidden layer
applies the activation sigma, the output layer is linear:

    a_0 = q,    z_i = W_i a_{i-1} + b_i,    a_i = sigma(z_i)  (i < L+1),    v = z_{L+1}

W_i has shape (n_i, n_{i-1}) and b_i shape (n_i,), so `z_i = W_i a_{i-1} + b_i`
reads as in the textbooks. Batches are rows: Q has shape (n, D) and
Z_i = A_{i-1} W_i^T + b_i.

Backpropagation (for one example; a batch sums over its rows):

    delta_out = dL/dv
    delta_i   = (W_{i+1}^T delta_{i+1}) * sigma'(z_i)       (elementwise *)
    dL/dW_i   = delta_i a_{i-1}^T,      dL/db_i = delta_i,      dL/dq = W_1^T delta_1

Loss convention: the batch loss is the *mean* over the batch of the article's
objective, L = (1/n) sum_r ||v_r - u_r||^2 (see `rerank_lib.losses`), so
dL/dv_r = 2 (v_r - u_r) / n.

Everything is float64. Only NumPy is imported: this module never loads TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rerank_lib.checks import as_float_array, check_choice, check_positive, check_positive_int
from rerank_lib.losses import squared_error, squared_error_gradient
from rerank_lib.seeding import as_generator

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")

# [(W_1, b_1), ..., (W_{L+1}, b_{L+1})] with W_i of shape (n_i, n_{i-1}) and b_i of shape (n_i,)
Params = list[tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------- activations


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """sigma(z) elementwise: relu max(0, z), tanh, sigmoid 1 / (1 + e^-z), linear z."""
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        # 1/(1+e^-z) written through tanh: no overflow in exp for large |z|.
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if activation == "linear":
        return z
    check_choice("activation", activation, ACTIVATIONS)
    raise AssertionError  # pragma: no cover - check_choice raised


def activation_derivative(z: np.ndarray, activation: str) -> np.ndarray:
    """sigma'(z) elementwise: relu 1[z > 0], tanh 1 - tanh^2 z, sigmoid s (1 - s), linear 1."""
    if activation == "relu":
        # The kink at 0 gets derivative 0, as in TensorFlow's relu gradient.
        return (z > 0).astype(z.dtype)
    if activation == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if activation == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return s * (1.0 - s)
    if activation == "linear":
        return np.ones_like(z)
    check_choice("activation", activation, ACTIVATIONS)
    raise AssertionError  # pragma: no cover


# --------------------------------------------------------------------------- parameters


def check_layer_sizes(layer_sizes) -> tuple[int, ...]:
    """Validate [D, H_1, ..., H_L, K]: at least two positive ints."""
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise TypeError(f"layer_sizes must be a sequence of ints [D, H_1, ..., K], got {type(layer_sizes).__name__}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes must have at least 2 entries [D, ..., K], got {list(layer_sizes)}")
    return tuple(check_positive_int(f"layer_sizes[{i}]", size) for i, size in enumerate(layer_sizes))


def init_mlp(layer_sizes, seed=None, *, activation: str = "relu", bias_scale: float = 0.0) -> Params:
    """Random parameters [(W_1, b_1), ..., (W_{L+1}, b_{L+1})] for layer sizes [D, H_1, ..., H_L, K].

    W_i ~ N(0, g / n_{i-1}) with g = 2 for relu (He) and 1 otherwise (LeCun), so
    activations keep roughly unit scale through depth; b_i ~ N(0, bias_scale^2)
    (zeros by default). `seed` is an int or a numpy Generator.
    """
    sizes = check_layer_sizes(layer_sizes)
    check_choice("activation", activation, ACTIVATIONS)
    bias_scale = check_positive("bias_scale", bias_scale, allow_zero=True)
    rng = as_generator(seed)
    gain = 2.0 if activation == "relu" else 1.0
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weight = rng.normal(scale=np.sqrt(gain / fan_in), size=(fan_out, fan_in))
        bias = rng.normal(scale=bias_scale, size=fan_out) if bias_scale > 0 else np.zeros(fan_out)
        params.append((weight, bias))
    return params


def check_params(params, name: str = "params") -> Params:
    """Validate a parameter list: pairs (W_i, b_i) of finite float64 arrays whose shapes chain.

    Returns a new list of float64 arrays (the caller's arrays are never modified).
    """
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise TypeError(f"{name} must be a list of (W, b) pairs, got {type(params).__name__}")
    if len(params) == 0:
        raise ValueError(f"{name} must hold at least one (W, b) pair, got an empty list")
    checked = []
    fan_in = None
    for i, pair in enumerate(params):
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"{name}[{i}] must be a pair (W, b), got {type(pair).__name__}")
        weight = as_float_array(pair[0], f"{name}[{i}] W", ndim=2)
        fan_out = weight.shape[0]
        if fan_in is not None and weight.shape[1] != fan_in:
            raise ValueError(
                f"{name}[{i}] W must have shape ({fan_out}, {fan_in}) to follow a layer of {fan_in} units, "
                f"got {weight.shape}"
            )
        bias = as_float_array(pair[1], f"{name}[{i}] b", shape=(fan_out,))
        checked.append((weight, bias))
        fan_in = fan_out
    return checked


def layer_sizes_of(params) -> tuple[int, ...]:
    """[D, H_1, ..., K] read off the weight shapes."""
    return (params[0][0].shape[1],) + tuple(weight.shape[0] for weight, _ in params)


def copy_params(params) -> Params:
    """A deep copy, e.g. to compare parameters before and after an update."""
    return [(np.array(weight, copy=True), np.array(bias, copy=True)) for weight, bias in params]


# --------------------------------------------------------------------------- forward and backward


@dataclass(frozen=True)
class ForwardCache:
    """What the backward pass needs: inputs a_0..a_L of every layer and pre-activations z_1..z_{L+1}."""

    layer_inputs: tuple  # a_0 = q, a_1, ..., a_L        each (n, n_i)
    preactivations: tuple  # z_1, ..., z_{L+1} (= v)     each (n, n_i)
    activation: str

    @property
    def output(self) -> np.ndarray:
        return self.preactivations[-1]


def mlp_forward(params, x, activation: str = "relu") -> tuple[np.ndarray, ForwardCache]:
    """v = MLP(x) for a batch x of shape (n, D); returns (v of shape (n, K), cache for `mlp_backward`).

    Z_i = A_{i-1} W_i^T + b_i,  A_i = sigma(Z_i) for hidden layers, V = Z_{L+1} (linear output).
    """
    params = check_params(params)
    check_choice("activation", activation, ACTIVATIONS)
    x = as_float_array(x, "x", shape=(None, layer_sizes_of(params)[0]))
    return _forward(params, x, activation)


def _forward(params, x: np.ndarray, activation: str) -> tuple[np.ndarray, ForwardCache]:
    # Unvalidated core, shared by the checked entry points (validation happens once per call).
    layer_inputs, preactivations = [x], []
    a = x
    for i, (weight, bias) in enumerate(params):
        z = a @ weight.T + bias
        preactivations.append(z)
        if i < len(params) - 1:
            a = activate(z, activation)
            layer_inputs.append(a)
    return preactivations[-1], ForwardCache(tuple(layer_inputs), tuple(preactivations), activation)


def mlp_backward(params, cache: ForwardCache, grad_output, *, input_gradient: bool = False):
    """Gradients [(dL/dW_i, dL/db_i)] from the upstream gradient dL/dv (shape (n, K)).

    delta_{L+1} = dL/dv;  delta_i = (delta_{i+1} W_{i+1}) * sigma'(Z_i)  (rows; = W^T delta per example);
    dL/dW_i = delta_i^T A_{i-1}  (sum over the batch of delta a^T);  dL/db_i = sum over rows of delta_i.
    With `input_gradient=True` also returns dL/dq = delta_1 W_1, as (grads, dq).
    `grad_output` already carries any 1/n of a mean loss.
    """
    params = check_params(params)
    if not isinstance(cache, ForwardCache):
        raise TypeError(f"cache must be the ForwardCache returned by mlp_forward, got {type(cache).__name__}")
    if len(cache.preactivations) != len(params):
        raise ValueError(
            f"cache must come from a forward pass of this network ({len(params)} layers), "
            f"got a cache with {len(cache.preactivations)} layers"
        )
    grad_output = as_float_array(grad_output, "grad_output", shape=cache.output.shape)
    return _backward(params, cache, grad_output, input_gradient)


def _backward(params, cache: ForwardCache, grad_output: np.ndarray, input_gradient: bool):
    grads = [None] * len(params)
    delta = grad_output  # delta_{L+1} = dL/dv: the output layer is linear, sigma' = 1
    for i in reversed(range(len(params))):
        weight, _ = params[i]
        a_prev = cache.layer_inputs[i]
        grads[i] = (delta.T @ a_prev, delta.sum(axis=0))
        if i > 0 or input_gradient:
            delta = delta @ weight  # W_i^T delta_i, one row per example
            if i > 0:
                delta = delta * activation_derivative(cache.preactivations[i - 1], cache.activation)
    if input_gradient:
        return grads, delta
    return grads


def sgd_step(params, grads, learning_rate) -> Params:
    """One SGD step, W_i <- W_i - eta dL/dW_i and b_i <- b_i - eta dL/db_i; returns new parameters.

    Pure: `params` are not modified. Raises (before computing anything) on a bad
    learning rate, gradients whose shapes do not match, or non-finite gradients.
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    params = check_params(params)
    grads = check_params(grads, "grads")
    if [w.shape for w, _ in grads] != [w.shape for w, _ in params]:
        raise ValueError(
            f"grads must match the parameter shapes {[w.shape for w, _ in params]}, got {[w.shape for w, _ in grads]}"
        )
    return [(w - learning_rate * dw, b - learning_rate * db) for (w, b), (dw, db) in zip(params, grads)]


# --------------------------------------------------------------------------- the model


class NumpyMLP:
    """The hand-written MLP as an online learner: predict, loss_and_gradients, update (SGD).

    Loss of a batch (q, u) of shapes (n, D), (n, K): L = (1/n) sum_r ||M(q_r) - u_r||^2.
    Updates are all-or-nothing: every input is validated and the new parameters
    are checked to be finite before they replace the old ones, so a rejected
    update leaves the model bit-for-bit as it was.

    >>> model = NumpyMLP([3, 8, 2], activation="tanh", seed=0)
    >>> model.predict(np.zeros((1, 3))).shape
    (1, 2)
    """

    def __init__(self, layer_sizes=None, activation: str = "relu", *, seed=None, params=None):
        check_choice("activation", activation, ACTIVATIONS)
        if params is None:
            if layer_sizes is None:
                raise TypeError("NumpyMLP needs layer_sizes or params")
            params = init_mlp(layer_sizes, seed, activation=activation)
        params = copy_params(check_params(params))
        if layer_sizes is not None and check_layer_sizes(layer_sizes) != layer_sizes_of(params):
            raise ValueError(f"layer_sizes {list(layer_sizes)} do not match params shapes {layer_sizes_of(params)}")
        self.activation = activation
        self._params = params

    @property
    def params(self) -> Params:
        """A copy of the parameters [(W_1, b_1), ...] (mutating it does not touch the model)."""
        return copy_params(self._params)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return layer_sizes_of(self._params)

    @property
    def n_parameters(self) -> int:
        return sum(w.size + b.size for w, b in self._params)

    def _batch(self, q, u=None):
        sizes = self.layer_sizes
        q = as_float_array(q, "q", shape=(None, sizes[0]))
        if u is None:
            return q, None
        u = as_float_array(u, "u", shape=(None, sizes[-1]))
        if len(q) != len(u):
            raise ValueError(f"q and u must have the same batch size, got q {q.shape} and u {u.shape}")
        return q, u

    def predict(self, q) -> np.ndarray:
        """v = M(q) for a batch q of shape (n, D); returns (n, K)."""
        q, _ = self._batch(q)
        with np.errstate(over="ignore", invalid="ignore"):
            return _forward(self._params, q, self.activation)[0]

    def loss_and_gradients(self, q, u) -> tuple[float, Params]:
        """(L, [(dL/dW_i, dL/db_i)]) for L = (1/n) sum_r ||v_r - u_r||^2, with dL/dv_r = 2 (v_r - u_r) / n."""
        q, u = self._batch(q, u)
        # Overflow shows up as inf/NaN and is rejected by the callers; no warnings spam meanwhile.
        with np.errstate(over="ignore", invalid="ignore"):
            v, cache = _forward(self._params, q, self.activation)
            if not np.all(np.isfinite(v)):
                raise ValueError(
                    "the model output v is not finite (weights or q too large); loss and gradients are not "
                    "finite, so no update can use them: parameters unchanged"
                )
            loss = float(np.mean(squared_error(v, u)))
            grads = _backward(self._params, cache, squared_error_gradient(v, u) / len(q), False)
        return loss, grads

    def update(self, q, u, learning_rate) -> float:
        """One SGD step on the batch (q, u); returns the loss *before* the step (the progressive loss).

        W_i <- W_i - eta dL/dW_i,  b_i <- b_i - eta dL/db_i. Raises, leaving the
        parameters unchanged, on bad input or non-finite loss, gradients or new weights.
        """
        learning_rate = check_positive("learning_rate", learning_rate)
        loss, grads = self.loss_and_gradients(q, u)
        if not np.isfinite(loss) or not all(np.all(np.isfinite(g)) for pair in grads for g in pair):
            raise ValueError("loss or gradients are not finite; update rejected, parameters unchanged")
        with np.errstate(over="ignore", invalid="ignore"):
            new_params = [
                (w - learning_rate * dw, b - learning_rate * db) for (w, b), (dw, db) in zip(self._params, grads)
            ]
        if not all(np.all(np.isfinite(p)) for pair in new_params for p in pair):
            raise ValueError(
                f"learning_rate {learning_rate} makes the weights overflow; update rejected, parameters unchanged"
            )
        # The swap is the only mutation: old arrays are never written in place.
        self._params = new_params
        return loss

    def __repr__(self) -> str:
        return f"NumpyMLP(layer_sizes={list(self.layer_sizes)}, activation={self.activation!r})"
