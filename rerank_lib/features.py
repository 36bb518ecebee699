"""Features per (shopper, query, candidate) for the re-rankers (NumPy; notebook 06).

`FeatureEncoder.encode(batch)` turns a shop `SessionBatch` into `RankingInputs`:

    dense (n, K, F) float32, FEATURE columns:
        bm25_relative      BM25 score / the list's best BM25 score (query-title match)
        bm25_position      log(1 + BM25 rank) / log(1 + K)
        matched            the title shares a token with the query
        log_price_z        log price, standardised over the catalog
        relative_price     log(price / median price of the subcategory)
        rating_z           rating, standardised over the catalog
        popularity_z       log(1 + orders), standardised over the catalog
        history_category   share of the shopper's recent clicks in the candidate's category
        history_brand      share of the shopper's recent clicks on the candidate's brand
        history_product    the shopper clicked this product recently (decayed count, capped at 1)
        history_price      the candidate's relative price minus the mean relative price the shopper clicked
        has_history        1 if the shopper has clicked anything, else 0 (cold start)
    ids (embedding rows; 0 is the shared "unknown" row, so cold start is a default, not an error):
        shopper_ids (n,), query_ids (n,), product_ids (n, K), category_ids (n, K), brand_ids (n, K),
        price_band_ids (n, K)   (five bands of relative price)
    mask (n, K) bool, True for real candidates.

The history is learned online from feedback (`observe`): recent clicks are an
exponentially decayed count, h <- decay * h + clicks, per shopper and category / brand /
product, so old interests fade when preferences drift.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from rerank_lib.checks import as_float_array, check_positive, check_positive_int

FEATURES: tuple[str, ...] = (
    "bm25_relative", "bm25_position", "matched", "log_price_z", "relative_price", "rating_z", "popularity_z",
    "history_category", "history_brand", "history_product", "history_price", "has_history",
)
PRICE_BAND_EDGES = np.array([-0.6, -0.2, 0.2, 0.6], np.float32)  # relative log price: much cheaper .. much dearer


@dataclass(frozen=True, eq=False)
class RankingInputs:
    """What a re-ranker sees for n sessions of K candidates (see the module docstring)."""

    dense: np.ndarray
    shopper_ids: np.ndarray
    query_ids: np.ndarray
    product_ids: np.ndarray
    category_ids: np.ndarray
    brand_ids: np.ndarray
    price_band_ids: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return len(self.shopper_ids)

    @property
    def k(self) -> int:
        return self.product_ids.shape[1]

    def take(self, rows) -> "RankingInputs":
        """The sessions at `rows` (an index array or slice)."""
        return RankingInputs(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def concatenate(parts: list["RankingInputs"]) -> "RankingInputs":
        return RankingInputs(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(RankingInputs)})

    def validate(self, n_features: int | None = None) -> "RankingInputs":
        """Check shapes, dtypes, finiteness and duplicate products; raise naming the field. Returns self."""
        dense = as_float_array(self.dense, "dense", ndim=3, dtype=np.float32)
        n, k, f = dense.shape
        if k == 0:
            raise ValueError("dense must hold at least one candidate per session, got K = 0")
        if n_features is not None and f != n_features:
            raise ValueError(f"dense must have {n_features} features in its last axis, got {f}")
        expected = {"shopper_ids": (n,), "query_ids": (n,), "product_ids": (n, k), "category_ids": (n, k), "brand_ids": (n, k),
                    "price_band_ids": (n, k), "mask": (n, k)}
        for name, shape in expected.items():
            value = np.asarray(getattr(self, name))
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {shape} to match dense {dense.shape}, got {value.shape}")
            if name == "mask":
                if value.dtype != bool:
                    raise TypeError(f"mask must be boolean, got dtype {value.dtype}")
            elif not np.issubdtype(value.dtype, np.integer):
                raise TypeError(f"{name} must be integer ids, got dtype {value.dtype}")
            elif value.size and value.min() < 0:
                raise ValueError(f"{name} must be >= 0 (0 is the unknown id), got {value.min()}")
        if not self.mask.any(axis=1).all():
            raise ValueError("every session must have at least one candidate (mask has an all-False row)")
        ids = np.where(self.mask, self.product_ids, -1 - np.arange(k))  # masked slots never collide
        if k > 1 and (np.diff(np.sort(ids, axis=1), axis=1) == 0).any():
            row = int(np.flatnonzero((np.diff(np.sort(ids, axis=1), axis=1) == 0).any(axis=1))[0])
            raise ValueError(f"product_ids must not repeat within a session; session {row} shows a product twice")
        return self


class FeatureEncoder:
    """Builds RankingInputs from shop sessions and keeps each shopper's click history.

    n_shoppers / n_products / n_queries: embedding capacity; ids at or beyond it map to the unknown row 0.
    history_decay in (0, 1]: per-session decay of a shopper's recent clicks.
    """

    def __init__(self, catalog, *, n_shoppers: int, n_queries: int, n_products: int | None = None,
                 history_decay: float = 0.95):
        self.catalog = catalog
        self.n_shoppers = check_positive_int("n_shoppers", n_shoppers)
        self.n_queries = check_positive_int("n_queries", n_queries)
        self.n_products = check_positive_int("n_products", len(catalog) if n_products is None else n_products)
        self.history_decay = check_positive("history_decay", history_decay)
        if self.history_decay > 1:
            raise ValueError(f"history_decay must be in (0, 1], got {history_decay}")
        self.n_categories = len(catalog.category_names)
        self.n_brands = catalog.n_brands
        log_price = np.log(catalog.price)
        popularity = np.log1p(catalog.popularity)
        self._standard = {
            "log_price": (float(log_price.mean()), float(log_price.std() or 1.0)),
            "rating": (float(np.mean(catalog.rating)), float(np.std(catalog.rating) or 1.0)),
            "popularity": (float(popularity.mean()), float(popularity.std() or 1.0)),
        }
        self.reset_history()

    @property
    def n_features(self) -> int:
        return len(FEATURES)

    def reset_history(self) -> None:
        """Forget every shopper's clicks (a fresh start)."""
        self.category_history = np.zeros((self.n_shoppers, self.n_categories), np.float32)
        self.brand_history = np.zeros((self.n_shoppers, self.n_brands), np.float32)
        self.price_history = np.zeros((self.n_shoppers, 2), np.float32)  # decayed (sum of relative price, count)
        self.product_history: dict[tuple[int, int], float] = {}  # sparse: (shopper, product) -> decayed clicks
        self._product_clock: dict[tuple[int, int], int] = {}
        self._shopper_clock = np.zeros(self.n_shoppers, np.int64)  # sessions observed per shopper

    def _known_shoppers(self, shoppers: np.ndarray) -> np.ndarray:
        return (shoppers >= 0) & (shoppers < self.n_shoppers)

    def encode(self, batch) -> RankingInputs:
        """RankingInputs for a SessionBatch (candidates in BM25 order)."""
        catalog = self.catalog
        candidates = np.asarray(batch.candidates)
        shoppers = np.asarray(batch.shoppers)
        n, k = candidates.shape
        bm25 = np.asarray(batch.bm25_scores, np.float32)
        best = np.maximum(bm25.max(axis=1, keepdims=True), 1e-6)
        relative_price = catalog.relative_log_price[candidates].astype(np.float32)
        category = catalog.category[candidates]
        brand = catalog.brand[candidates]

        known = self._known_shoppers(shoppers)
        rows = np.where(known, shoppers, 0)
        cat_hist = np.where(known[:, None], self.category_history[rows], 0.0)
        brand_hist = np.where(known[:, None], self.brand_history[rows], 0.0)
        total = cat_hist.sum(axis=1, keepdims=True)
        has_history = total > 1e-6
        share = lambda hist, ids: np.where(has_history, np.take_along_axis(hist, ids, axis=1) / np.maximum(total, 1e-6), 0.0)
        price_sum, price_count = (np.where(known[:, None], self.price_history[rows], 0.0)).T
        mean_clicked_price = np.where(price_count > 1e-6, price_sum / np.maximum(price_count, 1e-6), 0.0)
        product_hist = np.zeros((n, k), np.float32)
        if self.product_history:
            for i in np.flatnonzero(has_history[:, 0]):
                s = int(shoppers[i])
                for j, p in enumerate(candidates[i]):
                    value = self.product_history.get((s, int(p)))
                    if value is not None:
                        age = self._shopper_clock[s] - self._product_clock[(s, int(p))]
                        product_hist[i, j] = min(1.0, value * self.history_decay**age)

        mu_p, sd_p = self._standard["log_price"]
        mu_r, sd_r = self._standard["rating"]
        mu_q, sd_q = self._standard["popularity"]
        dense = np.stack(
            [
                bm25 / best,
                np.broadcast_to(np.log1p(np.arange(k, dtype=np.float32)) / np.log1p(k), (n, k)),
                (np.arange(k) < np.asarray(batch.n_matched)[:, None]).astype(np.float32),
                (np.log(catalog.price[candidates]) - mu_p) / sd_p,
                relative_price,
                (catalog.rating[candidates] - mu_r) / sd_r,
                (np.log1p(catalog.popularity[candidates]) - mu_q) / sd_q,
                share(cat_hist, category),
                share(brand_hist, brand),
                product_hist,
                np.where(has_history, relative_price - mean_clicked_price[:, None], 0.0),
                np.broadcast_to(has_history, (n, k)),
            ],
            axis=-1,
        ).astype(np.float32)
        known_products = (candidates >= 0) & (candidates < self.n_products)
        queries = np.asarray(batch.queries)
        known_queries = (queries >= 0) & (queries < self.n_queries)
        return RankingInputs(
            dense=dense,
            shopper_ids=np.where(known, shoppers + 1, 0).astype(np.int64),
            query_ids=np.where(known_queries, queries + 1, 0).astype(np.int64),
            product_ids=np.where(known_products, candidates + 1, 0).astype(np.int64),
            category_ids=(category + 1).astype(np.int64),
            brand_ids=(brand + 1).astype(np.int64),
            price_band_ids=(np.searchsorted(PRICE_BAND_EDGES, relative_price) + 1).astype(np.int64),
            mask=np.ones((n, k), bool),
        )

    def observe(self, batch, feedback) -> None:
        """Learn the shoppers' recent interests from the clicks in `feedback` (displayed order)."""
        shoppers = np.asarray(batch.shoppers)
        known = self._known_shoppers(shoppers)
        clicks = np.asarray(feedback.clicks, bool)
        products = np.asarray(feedback.products)
        decay = np.float32(self.history_decay)
        rows = shoppers[known]
        # decay once per session (a shopper may appear several times in a batch)
        np.multiply.at(self.category_history, rows, decay)
        np.multiply.at(self.brand_history, rows, decay)
        np.multiply.at(self.price_history, rows, decay)
        np.add.at(self._shopper_clock, rows, 1)
        session, rank = np.nonzero(clicks & known[:, None])
        clicked = products[session, rank]
        who = shoppers[session]
        np.add.at(self.category_history, (who, self.catalog.category[clicked]), 1.0)
        np.add.at(self.brand_history, (who, self.catalog.brand[clicked]), 1.0)
        np.add.at(self.price_history, (who, 0), self.catalog.relative_log_price[clicked].astype(np.float32))
        np.add.at(self.price_history, (who, 1), 1.0)
        for s, p in zip(who.tolist(), clicked.tolist()):
            key = (s, p)
            old = self.product_history.get(key)
            age = self._shopper_clock[s] - self._product_clock.get(key, self._shopper_clock[s])
            self.product_history[key] = (0.0 if old is None else old * self.history_decay**age) + 1.0
            self._product_clock[key] = int(self._shopper_clock[s])

    def state(self) -> dict[str, np.ndarray]:
        """The history as arrays (for checkpoints)."""
        keys = np.array(list(self.product_history), np.int64).reshape(-1, 2)
        return {
            "category_history": self.category_history.copy(),
            "brand_history": self.brand_history.copy(),
            "price_history": self.price_history.copy(),
            "shopper_clock": self._shopper_clock.copy(),
            "product_keys": keys,
            "product_values": np.array([self.product_history[tuple(k)] for k in keys.tolist()], np.float64),
            "product_clock": np.array([self._product_clock[tuple(k)] for k in keys.tolist()], np.int64),
        }

    def load_state(self, state) -> None:
        """Restore what `state()` returned."""
        self.category_history = np.array(state["category_history"], np.float32)
        self.brand_history = np.array(state["brand_history"], np.float32)
        self.price_history = np.array(state["price_history"], np.float32)
        self._shopper_clock = np.array(state["shopper_clock"], np.int64)
        keys = [tuple(k) for k in np.asarray(state["product_keys"]).tolist()]
        self.product_history = dict(zip(keys, np.asarray(state["product_values"]).tolist()))
        self._product_clock = dict(zip(keys, np.asarray(state["product_clock"]).tolist()))
