"""Ground truth: graded relevance (0-4) per (shopper, query, product), the oracle ranking, expected CTR.

Relevance combines how well product p answers query q with how much shopper s
likes it:

    match m(q, p) in [0, 1]:
        0                    p is in another category than q's subcategory
        0.25                 same category, other subcategory (a case for "iphone 13")
        f_brand f_model f_attr  same subcategory, where each factor is 1 if q does not
                             specify it or p agrees, else f_brand = 0.5, f_attr = 0.6,
                             f_model = 0.75 (same line, other model) or 0.5 (other line)
    appeal a(s, q, p) = sigmoid((utility(s, p) - interest_s[c_q]) / tau)
        utility as in rerank_lib.shoppers (with the query's price/quality weights);
        subtracting her interest in the aisle she searched asks "compared with what
        she came for, how much does she like p?"; tau = 0.5
    score    r = m * a in [0, 1]
    grade    g = 0 if m = 0, else ceil(4 r) in 1..4

so an irrelevant product is 0, a partial match at most ceil(4 m), and a 4 needs a
full match she really likes. Sorting the candidates by grade (ties by r, then by
base position) is the oracle ranking: no ranking of them has a higher DCG.
The match factors and tau are this project's choices.

Expected click-through of a ranking comes from a click model
(rerank_lib.click_models): P(click at rank i) for the grades in displayed order.
"""

from __future__ import annotations

import numpy as np

from rerank_lib.catalog import Catalog
from rerank_lib.checks import check_positive
from rerank_lib.queries import QuerySet
from rerank_lib.shoppers import ShopperPopulation

__all__ = [
    "MATCH_FACTORS",
    "appeal",
    "expected_clicks",
    "expected_ctr",
    "expected_ctr_by_rank",
    "grades_from_scores",
    "oracle_order",
    "query_match",
    "relevance_scores",
    "reorder",
    "sigmoid",
    "utility_gap",
]

# Penalty factors when the product disagrees with what the query specified (project's choice).
MATCH_FACTORS = {"related": 0.25, "brand": 0.5, "same_line": 0.75, "other_line": 0.5, "attribute": 0.6}


def query_match(catalog: Catalog, queries: QuerySet, query_ids, products) -> np.ndarray:
    """m(q, p) for query_ids (n,) and products (n, K): float32 (n, K) in [0, 1]."""
    q = np.asarray(query_ids).ravel()[:, None]
    p = np.asarray(products)
    if p.ndim != 2 or p.shape[0] != q.shape[0]:
        raise ValueError(f"products must have shape (len(query_ids), K) = ({q.shape[0]}, K), got {p.shape}")
    f = MATCH_FACTORS
    q_sub = queries.subcategory[q]
    same_sub = catalog.subcategory[p] == q_sub
    same_cat = catalog.category[p] == catalog.subcategory_category[q_sub]
    q_brand, q_line, q_model, q_attr = queries.brand[q], queries.line[q], queries.model[q], queries.attribute[q]
    line, model = catalog.line[p], catalog.model[p]
    m = np.where(same_sub, np.float32(1.0), np.where(same_cat, np.float32(f["related"]), np.float32(0.0)))
    m = m * np.where(same_sub & (q_brand >= 0) & (catalog.brand[p] != q_brand), np.float32(f["brand"]), np.float32(1))
    wrong_model = same_sub & (q_line >= 0) & ((line != q_line) | (model != q_model))
    m = m * np.where(wrong_model, np.where(line == q_line, np.float32(f["same_line"]), np.float32(f["other_line"])),
                     np.float32(1))
    m = m * np.where(same_sub & (q_attr >= 0) & (catalog.attribute[p] != q_attr), np.float32(f["attribute"]),
                     np.float32(1))
    return m.astype(np.float32, copy=False)


def utility_gap(shoppers: ShopperPopulation, queries: QuerySet, shopper_ids, query_ids, products) -> np.ndarray:
    """delta(s, q, p) = utility(s, p) - interest_s[c_q], with the query's price/quality weights; float32 (n, K)."""
    s = np.asarray(shopper_ids).ravel()
    q = np.asarray(query_ids).ravel()
    if len(s) != len(q):
        raise ValueError(f"shopper_ids and query_ids must have the same length, got {len(s)} and {len(q)}")
    utility = shoppers.utility(s, products, price_weight=queries.price_weight[q],
                               quality_weight=queries.quality_weight[q])
    return utility - shoppers.interest[s, queries.subcategory[q]][:, None]


def appeal(shoppers: ShopperPopulation, queries: QuerySet, shopper_ids, query_ids, products, *,
           tau: float = 0.5) -> np.ndarray:
    """a(s, q, p) = sigmoid(delta(s, q, p) / tau), float32 (n, K)."""
    tau = check_positive("tau", tau)
    return sigmoid(utility_gap(shoppers, queries, shopper_ids, query_ids, products) / np.float32(tau))


def relevance_scores(shoppers: ShopperPopulation, queries: QuerySet, shopper_ids, query_ids, products, *,
                     tau: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(r, g): continuous scores r = m * a (float32 (n, K)) and grades g (int8 (n, K), 0..4)."""
    m = query_match(shoppers.catalog, queries, query_ids, products)
    r = m * appeal(shoppers, queries, shopper_ids, query_ids, products, tau=tau)
    return r, grades_from_scores(r, m)


def grades_from_scores(r, m) -> np.ndarray:
    """g = 0 where m = 0, else ceil(4 r) clipped to 1..4; int8."""
    r = np.asarray(r, dtype=np.float32)
    g = np.clip(np.ceil(np.float32(4.0) * r), 1, 4).astype(np.int8)
    return np.where(np.asarray(m) > 0, g, np.int8(0))


def oracle_order(grades, scores=None) -> np.ndarray:
    """The best ranking of each row: by grade, then score r (if given), then base (BM25) position; (n, K) intp.

    Sorting by grade alone already maximises DCG; the score breaks ties the way the
    shopper would (a higher r is a better product for her).
    """
    grades = np.asarray(grades)
    if grades.ndim != 2:
        raise ValueError(f"grades must have shape (n_sessions, K), got {grades.shape}")
    key = grades.astype(np.float64)
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != grades.shape:
            raise ValueError(f"scores must have the shape of grades {grades.shape}, got {scores.shape}")
        # Scores lie in [0, 1]; spacing grades 2 apart keeps the order lexicographic.
        key = 2.0 * key + np.clip(scores, 0.0, 1.0)
    return np.argsort(-key, axis=1, kind="stable")


def reorder(values, order) -> np.ndarray:
    """values[i, order[i, j]]: a per-candidate array (n, K) put into displayed order."""
    return np.take_along_axis(np.asarray(values), np.asarray(order), axis=1)


def expected_ctr_by_rank(grades, click_model) -> np.ndarray:
    """Mean over sessions of P(click at rank i) for grades in displayed order: (K,) float64."""
    return click_model.click_probabilities(grades).mean(axis=0)


def expected_clicks(grades, click_model) -> np.ndarray:
    """E[number of clicks] per session, (n,): sum over ranks of P(click at rank i)."""
    return click_model.expected_clicks(grades)


def expected_ctr(grades, click_model) -> float:
    """Expected session click-through rate: mean over sessions of P(at least one click)."""
    return float(np.mean(click_model.any_click_probability(grades)))


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)) in float32, computed as (tanh(x / 2) + 1) / 2 (no overflow)."""
    x = np.asarray(x, dtype=np.float32)
    return (np.float32(0.5) * (np.tanh(np.float32(0.5) * x) + np.float32(1.0))).astype(np.float32, copy=False)
