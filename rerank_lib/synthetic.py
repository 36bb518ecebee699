"""Synthetic (query, preference) streams for the math notebooks (01, 02).

A query-and-shopper feature vector q (d numbers) arrives with the shopper's true
preference vector u (k numbers, in the product-embedding space). The learner's
job is a model M_theta with M_theta(q) = v close to u.

    linear:    u = A q + eps,                    q ~ N(0, s^2 I_d), eps ~ N(0, noise^2 I_k)
    nonlinear: u = W2 tanh(W1 q / sqrt(d)) + eps  (a random teacher network)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rerank_lib.checks import check_positive, check_positive_int
from rerank_lib.seeding import as_generator


@dataclass(frozen=True)
class PreferenceStream:
    """A stream of n (q, u) pairs in arrival order; `noise` is the std of eps (the loss floor is k * noise^2)."""

    queries: np.ndarray  # (n, d)
    preferences: np.ndarray  # (n, k)
    noise: float

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def noise_floor(self) -> float:
        """E||eps||^2 = k * noise^2: the expected loss of the true function itself."""
        return self.preferences.shape[1] * self.noise**2


def _check_stream(n, dim_query, dim_preference, noise) -> tuple[int, int, int, float]:
    return (check_positive_int("n", n), check_positive_int("dim_query", dim_query),
            check_positive_int("dim_preference", dim_preference), check_positive("noise", noise, allow_zero=True))


def linear_preference_stream(
    n: int, dim_query: int, dim_preference: int, *, query_scale: float = 1.0, noise: float = 0.1, seed=None
) -> tuple[PreferenceStream, np.ndarray]:
    """n pairs with u = A q + eps; returns (stream, A) where A has shape (k, d) and entries N(0, 1/d)."""
    n, dim_query, dim_preference, noise = _check_stream(n, dim_query, dim_preference, noise)
    query_scale = check_positive("query_scale", query_scale)
    rng = as_generator(seed)
    true_map = rng.normal(scale=1.0 / np.sqrt(dim_query), size=(dim_preference, dim_query))
    queries = rng.normal(scale=query_scale, size=(n, dim_query))
    preferences = queries @ true_map.T + rng.normal(scale=noise, size=(n, dim_preference))
    return PreferenceStream(queries, preferences, noise), true_map


def nonlinear_preference_stream(
    n: int, dim_query: int, dim_preference: int, *, hidden: int = 32, noise: float = 0.05, seed=None
) -> PreferenceStream:
    """n pairs with u = W2 tanh(W1 q / sqrt(d)) + eps from a random teacher network (q ~ N(0, I))."""
    n, dim_query, dim_preference, noise = _check_stream(n, dim_query, dim_preference, noise)
    hidden = check_positive_int("hidden", hidden)
    rng = as_generator(seed)
    w1 = rng.normal(scale=2.0, size=(hidden, dim_query))
    w2 = rng.normal(scale=1.0 / np.sqrt(hidden), size=(dim_preference, hidden))
    queries = rng.normal(size=(n, dim_query))
    preferences = np.tanh(queries @ w1.T / np.sqrt(dim_query)) @ w2.T
    preferences += rng.normal(scale=noise, size=preferences.shape)
    return PreferenceStream(queries, preferences, noise)
