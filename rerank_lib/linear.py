"""The linear preference model of notebook 01, trained online by SGD on L(v, u) = ||v - u||^2.

    v = M_theta(q) = W q (+ b),        grad_W L = 2 (v - u) q^T,   grad_b L = 2 (v - u)
    online SGD:  W <- W - eta * grad_W L   (one (q, u) pair, or the mean over a micro-batch)

Stability (the learning-rate bound shown in notebook 01). With q ~ N(0, s^2 I_d) and
no bias, the error E_t = W_t - A of single-pair SGD has a mean-square second moment
P_t = E[e e^T] (per row e of E) that evolves as

    P_{t+1} = T_eta(P_t) + const,   T_eta(P) = P - 2 eta (Sigma P + P Sigma) + 4 eta^2 E[(q^T P q) q q^T]

and SGD is mean-square stable iff the spectral radius of T_eta is below 1. For the
isotropic Gaussian this gives eta < 1 / ((d + 2) s^2), while full-batch gradient
descent is stable up to eta < 1 / lambda_max(Sigma) = 1 / s^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rerank_lib.checks import as_float_array, check_positive, check_positive_int
from rerank_lib.losses import squared_error
from rerank_lib.seeding import as_generator


class DivergenceError(FloatingPointError):
    """An update would have put a non-finite number into the weights; the weights were left unchanged."""


class LinearPreferenceModel:
    """v = W q + b (b optional), weights float64; updates are validated before anything changes."""

    def __init__(self, dim_query: int, dim_preference: int, *, bias: bool = False, init_scale: float = 0.0, seed=None):
        self.dim_query = check_positive_int("dim_query", dim_query)
        self.dim_preference = check_positive_int("dim_preference", dim_preference)
        init_scale = check_positive("init_scale", init_scale, allow_zero=True)
        rng = as_generator(seed)
        self.weights = rng.normal(scale=init_scale, size=(self.dim_preference, self.dim_query)) if init_scale else np.zeros(
            (self.dim_preference, self.dim_query)
        )
        self.bias = np.zeros(self.dim_preference) if bias else None

    def _queries(self, q) -> np.ndarray:
        q = as_float_array(q, "q")
        if q.ndim not in (1, 2) or q.shape[-1] != self.dim_query:
            raise ValueError(f"q must have shape (n, {self.dim_query}) or ({self.dim_query},), got {q.shape}")
        return q

    def predict(self, q) -> np.ndarray:
        """v = W q + b for one query (d,) or a batch (n, d)."""
        q = self._queries(q)
        v = q @ self.weights.T
        return v if self.bias is None else v + self.bias

    def gradients(self, q, u) -> tuple[np.ndarray, np.ndarray | None, float]:
        """(grad_W, grad_b, loss) of the batch-mean loss (1/n) sum_i ||W q_i + b - u_i||^2."""
        q = np.atleast_2d(self._queries(q))
        u = as_float_array(u, "u")
        u = np.atleast_2d(u)
        if u.shape != (len(q), self.dim_preference):
            raise ValueError(f"u must have shape ({len(q)}, {self.dim_preference}) to match q, got {u.shape}")
        v = self.predict(q)
        residual = v - u
        grad_w = 2.0 * residual.T @ q / len(q)
        grad_b = None if self.bias is None else 2.0 * residual.mean(axis=0)
        return grad_w, grad_b, float(np.mean(squared_error(v, u)))

    def sgd_step(self, q, u, learning_rate: float) -> float:
        """One step W <- W - eta grad_W (and b); returns the loss *before* the step (progressive loss).

        Raises ValueError/TypeError on bad input and DivergenceError if the result would not be
        finite; in every such case the weights are unchanged.
        """
        learning_rate = check_positive("learning_rate", learning_rate)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected below, not warned about
            grad_w, grad_b, loss = self.gradients(q, u)
            new_weights = self.weights - learning_rate * grad_w
            new_bias = None if grad_b is None else self.bias - learning_rate * grad_b
        if not (np.isfinite(loss) and np.all(np.isfinite(new_weights)) and (new_bias is None or np.all(np.isfinite(new_bias)))):
            raise DivergenceError(f"update with learning_rate={learning_rate} would make the weights non-finite")
        self.weights, self.bias = new_weights, new_bias
        return loss


@dataclass(frozen=True)
class OnlineRun:
    """Progressive losses of an online run (each pair scored before it is learned from)."""

    losses: np.ndarray
    diverged_at: int | None  # index of the step that blew up, or None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def run_online_sgd(model: LinearPreferenceModel, queries, preferences, learning_rate: float, *, max_loss: float = 1e12) -> OnlineRun:
    """Stream (q_t, u_t) through `model` one pair at a time; stop early once the loss exceeds `max_loss`."""
    queries = as_float_array(queries, "queries", ndim=2)
    preferences = as_float_array(preferences, "preferences", ndim=2)
    if len(queries) != len(preferences):
        raise ValueError(f"queries and preferences must have the same length, got {len(queries)} and {len(preferences)}")
    losses = np.empty(len(queries))
    for t, (q, u) in enumerate(zip(queries, preferences)):
        try:
            losses[t] = model.sgd_step(q, u, learning_rate)
        except DivergenceError:
            return OnlineRun(losses[:t], t)
        if losses[t] > max_loss:
            return OnlineRun(losses[: t + 1], t)
    return OnlineRun(losses, None)


def gd_learning_rate_bound(queries) -> float:
    """Full-batch gradient descent on E||W q - u||^2 is stable iff eta < 1 / lambda_max(E[q q^T])."""
    queries = as_float_array(queries, "queries", ndim=2)
    second_moment = queries.T @ queries / len(queries)
    return float(1.0 / np.linalg.eigvalsh(second_moment)[-1])


def gaussian_sgd_learning_rate_bound(dim_query: int, query_scale: float = 1.0) -> float:
    """Mean-square stability bound of single-pair SGD for q ~ N(0, s^2 I_d): eta < 1 / ((d + 2) s^2)."""
    dim_query = check_positive_int("dim_query", dim_query)
    query_scale = check_positive("query_scale", query_scale)
    return 1.0 / ((dim_query + 2) * query_scale**2)


def sgd_transition_spectral_radius(queries, learning_rate: float) -> float:
    """Spectral radius of T_eta (see module docstring) with the moments estimated from `queries`.

    T_eta acts on vec(P):  I - 2 eta (I kron Sigma + Sigma kron I) + 4 eta^2 mean_t z_t z_t^T,  z_t = vec(q_t q_t^T).
    """
    queries = as_float_array(queries, "queries", ndim=2)
    learning_rate = check_positive("learning_rate", learning_rate)
    n, d = queries.shape
    sigma = queries.T @ queries / n
    z = np.einsum("ti,tj->tij", queries, queries).reshape(n, d * d)
    fourth = z.T @ z / n
    eye = np.eye(d)
    operator = np.eye(d * d) - 2 * learning_rate * (np.kron(eye, sigma) + np.kron(sigma, eye)) + 4 * learning_rate**2 * fourth
    return float(np.max(np.abs(np.linalg.eigvalsh(operator))))


def sgd_learning_rate_bound(queries, *, tolerance: float = 1e-6) -> float:
    """The largest eta with spectral radius of T_eta below 1 (mean-square stability), by bisection."""
    queries = as_float_array(queries, "queries", ndim=2)
    low, high = 0.0, gd_learning_rate_bound(queries)  # SGD is never stable beyond the full-batch bound
    while high - low > tolerance * high:
        middle = 0.5 * (low + high)
        if sgd_transition_spectral_radius(queries, middle) < 1.0:
            low = middle
        else:
            high = middle
    return low
