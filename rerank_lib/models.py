"""The TensorFlow models later notebooks train; the MLP of notebook 02.

Built only on pieces that behave identically on the reference stack (TF 2.15,
Keras 2) and the current one (newest TF, Keras 3): `tf.Module` holding
`tf.Variable`s, `tf.function` with a fixed input signature, `tf.GradientTape`,
and a Keras optimizer's `apply_gradients` (made by `rerank_lib.compat.make_optimizer`).
No Keras layers or `Model.fit`/`predict`: their behaviour and speed differ
between Keras 2 and 3, and `predict` in a request loop is the anti-pattern the
project avoids (see DESIGN.md).

MLP: the same network as `rerank_lib.nn` (the NumPy teaching reference),

    a_0 = q,  z_i = W_i a_{i-1} + b_i,  a_i = sigma(z_i) for hidden layers,  v = z_{L+1},

with W_i of shape (n_i, n_{i-1}), trained on L = (1/n) sum_r ||v_r - u_r||^2.
"""

from __future__ import annotations

import weakref

import numpy as np

from rerank_lib import compat  # noqa: F401  (silences TensorFlow's C++ logs before the import)
from rerank_lib import nn
from rerank_lib.checks import as_float_array, check_choice

import tensorflow as tf  # noqa: E402  (after compat)

_TF_ACTIVATIONS = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "linear": tf.identity,
}


class MLP(tf.Module):
    """Multilayer perceptron [D, H_1, ..., H_L, K] with hidden activation sigma and a linear output.

    Weights are drawn by `rerank_lib.nn.init_mlp` with NumPy, so
    `MLP(sizes, seed=s)` and `nn.NumpyMLP(sizes, seed=s)` start from the same
    weights on every TensorFlow version (TF's own initializers are not promised
    to give the same numbers across releases).

    Calling the model (`model(q)`) validates q and runs the compiled `forward`
    (a `tf.function` with input signature [None, D]), which `tf.saved_model.save`
    exports as is. `train_step` is all-or-nothing: bad input, or a non-finite
    loss or gradient, raises before any variable (or optimizer slot) changes.

    >>> model = MLP([3, 8, 2], activation="tanh", seed=0)
    >>> model(np.zeros((1, 3))).shape
    TensorShape([1, 2])
    """

    def __init__(self, layer_sizes, activation: str = "relu", *, dtype=tf.float32, seed=None, name=None):
        super().__init__(name=name)
        sizes = nn.check_layer_sizes(layer_sizes)
        self._init(nn.init_mlp(sizes, seed, activation=activation), activation, dtype)

    def _init(self, params, activation, dtype) -> None:
        check_choice("activation", activation, tuple(_TF_ACTIVATIONS))
        dtype = tf.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError(f"dtype must be a floating TensorFlow dtype, got {dtype.name}")
        self.activation = activation
        self.dtype = dtype
        self.layer_sizes = nn.layer_sizes_of(params)
        self.weights = [tf.Variable(w, dtype=dtype, name=f"W{i + 1}") for i, (w, _) in enumerate(params)]
        self.biases = [tf.Variable(b, dtype=dtype, name=f"b{i + 1}") for i, (_, b) in enumerate(params)]
        d, k = self.layer_sizes[0], self.layer_sizes[-1]
        # Fixed signatures: one trace per model, whatever the batch size.
        q_spec = tf.TensorSpec([None, d], dtype, name="q")
        u_spec = tf.TensorSpec([None, k], dtype, name="u")
        self.forward = tf.function(self._forward, input_signature=[q_spec])
        self._loss_and_grads = tf.function(self._loss_and_grads_impl, input_signature=[q_spec, u_spec])
        # One compiled apply step per optimizer; a WeakKeyDictionary is not tracked by
        # tf.Module, so SavedModel export does not try to save optimizers.
        self._apply_cache = weakref.WeakKeyDictionary()

    @classmethod
    def from_numpy(cls, params, activation: str = "relu", *, dtype=tf.float32, name=None) -> "MLP":
        """A model holding the given NumPy parameters [(W_i, b_i)] (as used by `rerank_lib.nn`)."""
        params = nn.check_params(params)
        model = cls.__new__(cls)
        tf.Module.__init__(model, name=name)
        model._init(params, activation, dtype)
        return model

    def to_numpy(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The parameters as float64 NumPy arrays [(W_i, b_i)], in `rerank_lib.nn`'s layout."""
        return [
            (w.numpy().astype(np.float64), b.numpy().astype(np.float64)) for w, b in zip(self.weights, self.biases)
        ]

    @property
    def trainable_parameters(self) -> list[tf.Variable]:
        """W_1, b_1, W_2, b_2, ... in layer order (the order of `gradients`)."""
        return [v for pair in zip(self.weights, self.biases) for v in pair]

    # ----------------------------------------------------------------- compiled pieces

    def _forward(self, q):
        sigma = _TF_ACTIVATIONS[self.activation]
        a = q
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = tf.matmul(a, w, transpose_b=True) + b
            a = z if i == last else sigma(z)
        return a

    def _loss_and_grads_impl(self, q, u):
        with tf.GradientTape() as tape:
            v = self._forward(q)
            # Mean over the batch of ||v - u||^2 (sum over the k coordinates, as in losses.squared_error_tf).
            loss = tf.reduce_mean(tf.reduce_sum(tf.square(v - u), axis=-1))
        grads = tape.gradient(loss, self.trainable_parameters)
        # One flag computed in the graph: cheaper than checking every tensor eagerly.
        finite = tf.reduce_all([tf.math.is_finite(loss)] + [tf.reduce_all(tf.math.is_finite(g)) for g in grads])
        return loss, grads, finite

    def _apply_for(self, optimizer):
        """The compiled `apply_gradients` for this optimizer (eager apply_gradients costs ~3 ms a step)."""
        apply = self._apply_cache.get(optimizer)
        if apply is None:
            variables = self.trainable_parameters
            # A weak reference: the cached function must not keep its (weak) key alive.
            optimizer_ref = weakref.ref(optimizer)

            def apply_impl(grads):
                # A finite gradient times a large learning rate can still overflow the weights:
                # keep a snapshot and roll back to it (the optimizer's step counter and
                # moment estimates do advance; non-finite gradients never get this far).
                snapshot = [tf.identity(v) for v in variables]
                optimizer_ref().apply_gradients(zip(grads, variables))

                def restore():
                    for variable, value in zip(variables, snapshot):
                        variable.assign(value)
                    return tf.constant(False)

                return tf.cond(self._parameters_finite(), lambda: tf.constant(True), restore)

            specs = [tf.TensorSpec(v.shape, self.dtype) for v in variables]
            apply = tf.function(apply_impl, input_signature=[specs])
            self._apply_cache[optimizer] = apply
        return apply

    def _parameters_finite(self):
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in self.trainable_parameters])

    # ----------------------------------------------------------------- validated API

    def _batch(self, q, u=None):
        np_dtype = self.dtype.as_numpy_dtype
        # Validated in the model's dtype, so values that overflow float32 are caught as non-finite.
        q = as_float_array(q, "q", shape=(None, self.layer_sizes[0]), dtype=np_dtype)
        if u is None:
            return q, None
        u = as_float_array(u, "u", shape=(None, self.layer_sizes[-1]), dtype=np_dtype)
        if len(q) != len(u):
            raise ValueError(f"q and u must have the same batch size, got q {q.shape} and u {u.shape}")
        return q, u

    def __call__(self, q):
        """v = M(q) as a tf.Tensor of shape (n, K), for q of shape (n, D)."""
        q, _ = self._batch(q)
        return self.forward(tf.constant(q))

    def predict(self, q) -> np.ndarray:
        """v = M(q) as a NumPy array (n, K)."""
        return self(q).numpy()

    def loss_and_gradients(self, q, u) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
        """(L, [(dL/dW_i, dL/db_i)]) as NumPy, by tf.GradientTape; same layout as `nn.NumpyMLP`."""
        loss, grads, _ = self._loss_and_grads(*map(tf.constant, self._batch(q, u)))
        grads = [g.numpy() for g in grads]
        return float(loss.numpy()), list(zip(grads[0::2], grads[1::2]))

    def train_step(self, q, u, optimizer) -> float:
        """One optimizer step on the batch (q, u); returns the loss *before* the step (the progressive loss).

        With `make_optimizer("sgd", eta)` this is W_i <- W_i - eta dL/dW_i, b_i <- b_i - eta dL/db_i.
        Raises, leaving every variable unchanged, on bad input or a non-finite loss or gradient.
        """
        if not hasattr(optimizer, "apply_gradients"):
            raise TypeError(
                f"optimizer must be a Keras optimizer (rerank_lib.compat.make_optimizer), got {type(optimizer).__name__}"
            )
        loss, grads, finite = self._loss_and_grads(*map(tf.constant, self._batch(q, u)))
        if not bool(finite):
            raise ValueError("loss or gradients are not finite; update rejected, parameters unchanged")
        if not bool(self._apply_for(optimizer)(grads)):
            raise ValueError(
                "the step made the weights non-finite (learning rate too large?); update rejected, parameters unchanged"
            )
        return float(loss.numpy())

    def __repr__(self) -> str:
        return f"MLP(layer_sizes={list(self.layer_sizes)}, activation={self.activation!r}, dtype={self.dtype.name})"
