"""The simulated shop: a stream of search sessions, a ranker's order in, clicks and purchases out (NumPy only).

One session:

    shopper s (by activity)  ->  query q from her intent  ->  BM25 top-K candidates
    ->  features (n, K, F)  ->  the ranker returns an order  ->  the click model turns the
    grades in displayed order into clicks  ->  some clicks become purchases

Everything is vectorised over sessions: a batch holds arrays shaped (n_sessions, K).
The truth a learner must not see (grades, scores, purchase probabilities) travels in
the batch for evaluation, in attributes documented as hidden.

Purchases: a clicked product p is bought with probability

    P(buy | click) = purchase_max * m(q, p) * sigmoid((delta(s, q, p) - lambda_s w_q z_p) / tau)

where delta is the appeal's utility gap (rerank_lib.relevance) and the second price
term is the checkout: she sees the price once more, so a price-sensitive shopper
(large lambda_s; w_q = 2 after "cheap ...") clicks an expensive product she likes
but buys it less often. purchase_max = 0.25 is this project's choice: with the
defaults about 16% of clicks on the BM25 list become purchases (21% on the oracle
list), the order of magnitude of e-commerce conversion after a click.

Features (FEATURE_NAMES, float32, one row per (session, candidate)):

    0 bm25_score        BM25 score of the candidate for the query (0 for padding)
    1 bm25_rank         position in the BM25 list, 0-based
    2 matched           1 if the title shares a token with the query, else 0 (padding)
    3 price             USD
    4 log_price         log(price)
    5 relative_price    z = log(price / median price of its subcategory)
    6 rating            1..5
    7 log_popularity    log(1 + orders in the last 30 days)
    8 department_id     integer ids stored as floats (embed them, do not scale them)
    9 category_id
    10 subcategory_id
    11 brand_id
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterator

import numpy as np

from rerank_lib.catalog import Catalog, generate_catalog
from rerank_lib.checks import as_int_array, check_positive, check_positive_int, check_probability
from rerank_lib.click_models import ClickModel, make_click_model
from rerank_lib.queries import QuerySet, generate_queries
from rerank_lib.relevance import grades_from_scores, oracle_order, query_match, sigmoid, utility_gap
from rerank_lib.search import BM25Search, check_k
from rerank_lib.seeding import as_generator
from rerank_lib.shoppers import COHORTS, ShopperPopulation

__all__ = ["FEATURE_NAMES", "Feedback", "SessionBatch", "Shop", "bm25_ranker", "make_shop", "oracle_ranker"]

FEATURE_NAMES: tuple[str, ...] = (
    "bm25_score", "bm25_rank", "matched", "price", "log_price", "relative_price", "rating", "log_popularity",
    "department_id", "category_id", "subcategory_id", "brand_id",
)
_N_QUERY_FEATURES = 3  # bm25_score, bm25_rank, matched: the rest are the product's own


@dataclass(eq=False)
class SessionBatch:
    """n sessions, arrays (n,) per session and (n, K) per candidate in BM25 order.

    Visible to a ranker: start (index of the first session), shoppers, cohort, history
    (the shopper's past sessions before this batch), queries (query ids; texts via `query_texts`),
    candidates (product ids), bm25_scores, n_matched, features (n, K, F).
    Hidden truth, for evaluation only: match, scores (r = m * appeal), grades (0..4),
    buy_probability (P(buy | click)).
    """

    start: int
    shoppers: np.ndarray
    cohort: np.ndarray
    history: np.ndarray
    queries: np.ndarray
    candidates: np.ndarray
    bm25_scores: np.ndarray
    n_matched: np.ndarray
    match: np.ndarray
    scores: np.ndarray
    grades: np.ndarray
    buy_probability: np.ndarray
    _shop: "Shop" = field(repr=False)

    def __len__(self) -> int:
        return len(self.shoppers)

    @property
    def k(self) -> int:
        return self.candidates.shape[1]

    @cached_property
    def features(self) -> np.ndarray:
        """float32 (n, K, len(FEATURE_NAMES)); built on first access (see FEATURE_NAMES for the columns)."""
        n, k = self.candidates.shape
        out = np.empty((n, k, len(FEATURE_NAMES)), np.float32)
        out[:, :, 0] = self.bm25_scores
        out[:, :, 1] = np.arange(k, dtype=np.float32)
        out[:, :, 2] = np.arange(k) < self.n_matched[:, None]
        out[:, :, _N_QUERY_FEATURES:] = self._shop.product_features[self.candidates]
        return out

    @property
    def query_texts(self) -> np.ndarray:
        return self._shop.queries.text[self.queries]

    def session(self, i: int) -> dict:
        """One session as plain Python (for reading, not for speed): shopper, query text, candidate titles."""
        shop = self._shop
        return {
            "session": self.start + int(i),
            "shopper": int(self.shoppers[i]),
            "cohort": COHORTS[int(self.cohort[i])],
            "history": int(self.history[i]),
            "query": str(shop.queries.text[self.queries[i]]),
            "candidates": self.candidates[i].tolist(),
            "titles": shop.catalog.titles(self.candidates[i]),
            "bm25_scores": self.bm25_scores[i].round(3).tolist(),
        }


@dataclass(frozen=True, eq=False)
class Feedback:
    """What the shop saw after showing `order`: arrays (n, K) in displayed order (column 0 = rank 1).

    order[i, j] is the candidate index shown at rank j + 1; products, grades (hidden),
    clicks and purchases (bool) follow the displayed order. `to_candidate_order`
    maps any of them back to BM25 order.
    """

    order: np.ndarray
    products: np.ndarray
    grades: np.ndarray
    clicks: np.ndarray
    purchases: np.ndarray

    def to_candidate_order(self, values) -> np.ndarray:
        """Scatter displayed-order values (n, K) back to candidate (BM25) order."""
        values = np.asarray(values)
        out = np.empty_like(values)
        np.put_along_axis(out, self.order, values, axis=1)
        return out

    @property
    def ctr(self) -> float:
        """Sessions with at least one click / sessions."""
        return float(self.clicks.any(axis=1).mean())

    @property
    def conversion(self) -> float:
        """Sessions with at least one purchase / sessions."""
        return float(self.purchases.any(axis=1).mean())


Ranker = Callable[[SessionBatch], np.ndarray]


def bm25_ranker(batch: SessionBatch) -> np.ndarray:
    """The non-personalised baseline: show the BM25 order."""
    return np.broadcast_to(np.arange(batch.k), batch.candidates.shape)


def oracle_ranker(batch: SessionBatch) -> np.ndarray:
    """The upper bound: sort by the hidden grades (a ranker that knows u)."""
    return oracle_order(batch.grades, batch.scores)


class Shop:
    """A catalog, its shoppers and queries, BM25 search and a click model, serving sessions in batches.

    k: candidates per session (1 .. min(MAX_K, catalog size)). click_model: a name
    ("pbm", "cascade", "dbn", validated by make_click_model) with parameter_set, eta and
    gamma, or a ClickModel. purchase_max in [0, 1], tau > 0 (the appeal temperature).
    Same seed and the same calls give identical sessions, clicks and purchases.
    """

    def __init__(self, catalog: Catalog, shoppers: ShopperPopulation, queries: QuerySet, *,
                 search: BM25Search | None = None, k: int = 50, click_model="pbm",
                 parameter_set: str = "navigational", eta: float = 1.0, gamma: float | None = None,
                 purchase_max: float = 0.25, tau: float = 0.5, seed=None):
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if not isinstance(shoppers, ShopperPopulation) or shoppers.catalog is not catalog:
            raise ValueError("shoppers must be a ShopperPopulation built on this catalog")
        if not isinstance(queries, QuerySet) or queries.catalog is not catalog:
            raise ValueError("queries must be a QuerySet built on this catalog")
        self.k = check_k(k, len(catalog))
        if isinstance(click_model, ClickModel):
            self.click_model = click_model
        else:
            self.click_model = make_click_model(click_model, parameter_set, eta=eta, gamma=gamma)
        if self.click_model.n_grades != 5:
            raise ValueError(f"click_model must cover 5 grades (0..4), got {self.click_model.n_grades}")
        self.purchase_max = float(check_probability("purchase_max", purchase_max))
        self.tau = check_positive("tau", tau)
        if search is None:
            search = BM25Search(catalog)
        elif not isinstance(search, BM25Search) or search.catalog is not catalog:
            raise ValueError("search must be a BM25Search over this catalog")
        self.catalog, self.shoppers, self.queries, self.search = catalog, shoppers, queries, search
        self._rng = as_generator(seed)
        self._table_k = 0  # dense per-query candidate table, filled lazily from the search cache
        self._table = self._table_scores = self._table_matched = self._filled = None

    def __repr__(self) -> str:
        return (f"Shop({len(self.catalog):,} products, {len(self.shoppers):,} shoppers, {len(self.queries):,} queries, "
                f"k={self.k}, click_model={self.click_model!r}, time={self.time})")

    @property
    def time(self) -> int:
        """Sessions served so far (the drift clock)."""
        return self.shoppers.time

    @cached_property
    def product_features(self) -> np.ndarray:
        """The product columns of the features, float32 (n_products, F - 3), computed once."""
        c = self.catalog
        columns = [c.price, np.log(c.price), c.relative_log_price, c.rating, np.log1p(c.popularity),
                   c.department, c.category, c.subcategory, c.brand]
        return np.stack([np.asarray(col, np.float32) for col in columns], axis=1)

    # -- candidates ------------------------------------------------------------------------------
    def candidates_for(self, query_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """BM25 top-K of each query id: (products (n, K), scores (n, K), n_matched (n,)).

        Each distinct query is searched once (then served from the search's cache) and
        kept in a per-query table, so a batch costs one gather.
        """
        q = np.asarray(query_ids).ravel()
        if self._table_k != self.k:
            n_q = len(self.queries)
            self._table = np.zeros((n_q, self.k), np.intp)
            self._table_scores = np.zeros((n_q, self.k), np.float32)
            self._table_matched = np.zeros(n_q, np.int64)
            self._filled = np.zeros(n_q, bool)
            self._table_k = self.k
        missing = np.unique(q[~self._filled[q]])
        if len(missing):
            products, scores, matched = self.search.search_many(self.queries.text[missing], self.k)
            self._table[missing], self._table_scores[missing], self._table_matched[missing] = products, scores, matched
            self._filled[missing] = True
        return self._table[q], self._table_scores[q], self._table_matched[q]

    # -- sessions --------------------------------------------------------------------------------
    def sample_sessions(self, n: int) -> SessionBatch:
        """The next n sessions (shoppers, queries, candidates, hidden truth); advances the clock by n.

        Drift events inside the batch split it, so each session sees the preferences of its time.
        """
        n = check_positive_int("n", n)
        parts, done = [], 0
        while done < n:
            change = self.shoppers.next_change()
            size = n - done
            if change is not None and change > self.time:
                size = min(size, change - self.time)
            self.shoppers.advance_to(self.time)  # applies a change due now
            parts.append(self._sample(size))
            self.shoppers.advance_to(self.time + size)
            done += size
        return parts[0] if len(parts) == 1 else _concatenate(parts, self)

    def _sample(self, n: int) -> SessionBatch:
        rng = self._rng
        start = self.time
        shoppers = self.shoppers.sample(n, rng)
        history = self.shoppers.history[shoppers].copy()
        self.shoppers.record_sessions(shoppers)
        queries = self.queries.sample(self.shoppers, shoppers, rng)
        candidates, bm25_scores, n_matched = self.candidates_for(queries)
        match = query_match(self.catalog, self.queries, queries, candidates)
        delta = utility_gap(self.shoppers, self.queries, shoppers, queries, candidates)
        tau = np.float32(self.tau)
        scores = match * sigmoid(delta / tau)
        grades = grades_from_scores(scores, match)
        lam = (self.shoppers.price_sensitivity[shoppers] * self.queries.price_weight[queries])[:, None]
        checkout = sigmoid((delta - lam * self.catalog.relative_log_price[candidates]) / tau)
        buy = np.float32(self.purchase_max) * match * checkout
        return SessionBatch(start=start, shoppers=shoppers, cohort=self.shoppers.cohort[shoppers], history=history,
                            queries=queries, candidates=candidates, bm25_scores=bm25_scores, n_matched=n_matched,
                            match=match, scores=scores, grades=grades, buy_probability=buy, _shop=self)

    def respond(self, batch: SessionBatch, order, *, rng=None) -> Feedback:
        """Show each session's candidates in `order` (n, K; row i a permutation of 0..K-1); sample clicks, purchases.

        rng: where the click and purchase noise comes from; by default the shop's own stream. Give each
        policy its own Generator to make its clicks independent of which other policies share the run.
        """
        if not isinstance(batch, SessionBatch) or batch._shop is not self:
            raise ValueError("batch must be a SessionBatch sampled from this shop")
        order = _check_order(order, batch.candidates.shape)
        rng = self._rng if rng is None else as_generator(rng)
        grades = np.take_along_axis(batch.grades, order, axis=1)
        clicks = self.click_model.simulate(grades, rng)
        buy = np.take_along_axis(batch.buy_probability, order, axis=1)
        purchases = clicks & (rng.random(clicks.shape) < buy)
        products = np.take_along_axis(batch.candidates, order, axis=1)
        return Feedback(order=order, products=products, grades=grades, clicks=clicks, purchases=purchases)

    def run(self, ranker: Ranker, n_sessions: int, *,
            batch_size: int = 1_000) -> Iterator[tuple[SessionBatch, Feedback]]:
        """Serve n_sessions in batches: yields (batch, feedback) after each, so a learner can update in between."""
        n_sessions = check_positive_int("n_sessions", n_sessions)
        batch_size = check_positive_int("batch_size", batch_size)
        served = 0
        while served < n_sessions:
            batch = self.sample_sessions(min(batch_size, n_sessions - served))
            yield batch, self.respond(batch, ranker(batch))
            served += len(batch)


def _check_order(order, shape) -> np.ndarray:
    order = as_int_array(order, "order", shape=shape)
    # Each row must be a permutation of 0..K-1: sorted it must equal arange(K).
    not_permutations = (np.sort(order, axis=1) != np.arange(shape[1])).any(axis=1)
    if not_permutations.any():
        bad = int(np.flatnonzero(not_permutations)[0])
        raise ValueError(f"order must hold a permutation of 0..{shape[1] - 1} in every row; row {bad} does not")
    return order.astype(np.intp, copy=False)


def _concatenate(parts: list[SessionBatch], shop: Shop) -> SessionBatch:
    names = ("shoppers", "cohort", "history", "queries", "candidates", "bm25_scores", "n_matched", "match", "scores",
             "grades", "buy_probability")
    return SessionBatch(start=parts[0].start, _shop=shop,
                        **{name: np.concatenate([getattr(p, name) for p in parts]) for name in names})


def make_shop(n_products: int = 5_000, n_shoppers: int = 2_000, *, k: int = 50, click_model="pbm",
              parameter_set: str = "navigational", eta: float = 1.0, gamma: float | None = None,
              purchase_max: float = 0.25, tau: float = 0.5, drift: str = "none", drift_scale: float = 0.1,
              drift_period: int = 1_000, drift_at: int = 10_000, drift_fraction: float = 0.5,
              zipf_exponent: float = 1.0, seed=0) -> Shop:
    """Build a whole shop from one seed (catalog, shoppers, queries, search, session stream).

    The seed is split into independent streams (numpy SeedSequence.spawn), so the
    catalog does not change when, say, the shopper count does.

    >>> shop = make_shop(n_products=2_000, n_shoppers=100, k=20, seed=0)
    >>> batch = shop.sample_sessions(100)
    >>> feedback = shop.respond(batch, bm25_ranker(batch))
    >>> feedback.clicks.shape, batch.features.shape
    ((100, 20), (100, 20, 12))
    """
    # Validate what is cheap to check before building anything.
    n_products = check_positive_int("n_products", n_products)
    check_k(k, n_products)
    if not isinstance(click_model, ClickModel):
        click_model = make_click_model(click_model, parameter_set, eta=eta, gamma=gamma)
    check_probability("purchase_max", purchase_max)
    check_positive("tau", tau)
    rng_catalog, rng_shoppers, rng_queries, rng_sessions = as_generator(seed).spawn(4)
    catalog = generate_catalog(n_products, seed=rng_catalog)
    shoppers = ShopperPopulation(catalog, n_shoppers, drift=drift, drift_scale=drift_scale, drift_period=drift_period,
                                 drift_at=drift_at, drift_fraction=drift_fraction, seed=rng_shoppers)
    queries = generate_queries(catalog, zipf_exponent=zipf_exponent, seed=rng_queries)
    return Shop(catalog, shoppers, queries, k=k, click_model=click_model, parameter_set=parameter_set, eta=eta,
                gamma=gamma, purchase_max=purchase_max, tau=tau, seed=rng_sessions)
