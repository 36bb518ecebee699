"""Ranking and business metrics (NumPy), per session and averaged.

Inputs are arrays in *display order*: row i holds session i's shown list, column r
its rank r + 1. Graded relevance g >= 0; clicks and purchases are 0/1.

    DCG@k   = sum_{r=1}^{k} gain(g_r) / log2(r + 1),   gain(g) = 2^g - 1 ("exponential") or g ("linear")
    NDCG@k  = DCG@k / IDCG@k, IDCG@k the DCG@k of the grades sorted descending (0 when IDCG = 0)
    RR      = 1 / (rank of the first relevant result), 0 if there is none;  MRR = mean RR
    P@k     = (relevant results in the top k) / k
    CTR     = sessions with at least one click / sessions  (per="session")
              or clicks / results shown                      (per="impression")
    CR      = sessions with at least one purchase / sessions
    revenue per session = sum of the prices of purchased results / sessions
"""

from __future__ import annotations

import numpy as np

from rerank_lib.checks import as_float_array, check_choice, check_positive_int


def _rows(values, name: str) -> np.ndarray:
    values = as_float_array(values, name)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise ValueError(f"{name} must have shape (n_sessions, list_size) or (list_size,), got {values.shape}")
    return values


def _gains(grades: np.ndarray, gain: str) -> np.ndarray:
    check_choice("gain", gain, ("exponential", "linear"))
    if np.any(grades < 0):
        raise ValueError("grades must be >= 0")
    return np.power(2.0, grades) - 1.0 if gain == "exponential" else grades


def _discounts(length: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, length + 2))


def dcg_at_k(grades, k: int = 10, *, gain: str = "exponential") -> np.ndarray:
    """DCG@k per session for grades in display order (n, K)."""
    grades = _rows(grades, "grades")
    k = check_positive_int("k", k)
    top = _gains(grades, gain)[:, :k]
    return top @ _discounts(top.shape[1])


def ndcg_at_k(grades, k: int = 10, *, ideal_grades=None, gain: str = "exponential") -> np.ndarray:
    """NDCG@k per session. `ideal_grades` (n, M): the grades of *all* candidates, when the shown
    list is only part of them; by default the ideal is the shown list re-sorted."""
    grades = _rows(grades, "grades")
    ideal = grades if ideal_grades is None else _rows(ideal_grades, "ideal_grades")
    if len(ideal) != len(grades):
        raise ValueError(f"ideal_grades must have one row per session ({len(grades)}), got {len(ideal)}")
    dcg = dcg_at_k(grades, k, gain=gain)
    idcg = dcg_at_k(-np.sort(-ideal, axis=1), k, gain=gain)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, dcg / idcg, 0.0)


def reciprocal_rank(relevant) -> np.ndarray:
    """1 / rank of the first relevant (> 0) result per session; 0 when none is relevant."""
    relevant = _rows(relevant, "relevant") > 0
    first = np.argmax(relevant, axis=1)
    return np.where(relevant.any(axis=1), 1.0 / (first + 1.0), 0.0)


def mean_reciprocal_rank(relevant) -> float:
    """MRR: the mean of reciprocal_rank over sessions."""
    return float(reciprocal_rank(relevant).mean())


def precision_at_k(relevant, k: int = 10) -> np.ndarray:
    """Share of the top k results that are relevant (> 0), per session (k counts even past the list's end)."""
    relevant = _rows(relevant, "relevant") > 0
    k = check_positive_int("k", k)
    return relevant[:, :k].sum(axis=1) / k


def click_through_rate(clicks, *, per: str = "session") -> float:
    """CTR: share of sessions with a click (per="session") or clicks per shown result (per="impression")."""
    clicks = _rows(clicks, "clicks") > 0
    check_choice("per", per, ("session", "impression"))
    return float(clicks.any(axis=1).mean() if per == "session" else clicks.mean())


def conversion_rate(purchases) -> float:
    """Share of sessions with at least one purchase."""
    return float((_rows(purchases, "purchases") > 0).any(axis=1).mean())


def revenue_per_session(purchases, prices) -> float:
    """Sum of the prices of purchased results, divided by the number of sessions."""
    purchases = _rows(purchases, "purchases") > 0
    prices = _rows(prices, "prices")
    if prices.shape != purchases.shape:
        raise ValueError(f"prices must have the same shape as purchases {purchases.shape}, got {prices.shape}")
    return float((purchases * prices).sum() / len(purchases))
