"""Shoppers: who they are (cohorts) and what they truly like (the preference vector u), NumPy only.

Shopper s has a true preference vector (the article's u), known to the simulator
and hidden from every learner:

    u_s = [ interest_s (S subcategories) | affinity_s (B brands) | lambda_s | rho_s ]

    interest_s[c] = a_s[department(c)] + b_s[category(c)] + e_s[c],
                    a ~ N(0, 1), b ~ N(0, 0.7^2), e ~ N(0, 0.5^2)    (tastes cluster by department)
    affinity_s[b] ~ N(0, 0.5^2), plus 1.5 for the ~5% of brands she is a fan of
    lambda_s ~ LogNormal(0, 0.5)      price sensitivity
    rho_s    ~ LogNormal(log 0.5, 0.5) taste for quality (rating)

and a product p is the vector x_p = [onehot(subcategory_p) | onehot(brand_p) | -z_p | rating_p - 4]
(z_p = log(price_p / median price of its subcategory)), so her utility is linear:

    utility(s, p) = u_s . x_p = interest_s[c_p] + affinity_s[b_p] - lambda_s z_p + rho_s (rating_p - 4).

Cohorts (COHORTS) differ in how often they shop and how much history they bring:
heavy shoppers visit ACTIVITY["heavy"] = 8 times as often as casual ones and arrive
with ~60 past sessions, casual ones with ~6, brand-new ones with none (cold start).
These rates and shares are this project's choices, not measurements.

Drift (switchable, seeded): "none"; "random_walk": every `drift_period` sessions
every interest and affinity takes a N(0, drift_scale^2) step; "shift": at session
`drift_at` a random `drift_fraction` of shoppers redraw their interests (a move, a
baby, a new hobby). The shop advances the clock (`advance_to`) as it serves sessions.
"""

from __future__ import annotations

import numpy as np

from rerank_lib.catalog import Catalog
from rerank_lib.checks import check_choice, check_positive, check_positive_int, check_probability
from rerank_lib.seeding import as_generator

__all__ = ["ACTIVITY", "COHORTS", "DRIFT_KINDS", "HISTORY_MEAN", "ShopperPopulation"]

COHORTS: tuple[str, ...] = ("heavy", "casual", "new")
# Relative session rate and mean number of past sessions per cohort (project's choice).
ACTIVITY = {"heavy": 8.0, "casual": 1.0, "new": 1.0}
HISTORY_MEAN = {"heavy": 60.0, "casual": 6.0, "new": 0.0}
DRIFT_KINDS: tuple[str, ...] = ("none", "random_walk", "shift")


class ShopperPopulation:
    """`n_shoppers` shoppers with true preferences over a catalog's subcategories and brands.

    Attributes (row i = shopper id i): cohort (int8, index into COHORTS), history
    (int64 past sessions, grows as the shop serves her), activity (relative session
    rate), interest (n, S) float32, affinity (n, B) float32, price_sensitivity (n,),
    quality_taste (n,), and `time`, the number of sessions served so far (drift clock).
    """

    def __init__(
        self,
        catalog: Catalog,
        n_shoppers: int = 2_000,
        *,
        cohort_shares=(0.1, 0.6, 0.3),
        drift: str = "none",
        drift_scale: float = 0.1,
        drift_period: int = 1_000,
        drift_at: int = 10_000,
        drift_fraction: float = 0.5,
        seed=None,
    ):
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        n = check_positive_int("n_shoppers", n_shoppers)
        shares = check_probability("cohort_shares", np.asarray(cohort_shares, dtype=np.float64))
        if np.shape(shares) != (len(COHORTS),) or abs(float(np.sum(shares)) - 1.0) > 1e-9:
            raise ValueError(f"cohort_shares must be {len(COHORTS)} probabilities (heavy, casual, new) summing to 1, "
                             f"got {cohort_shares!r}")
        self.drift = check_choice("drift", drift, DRIFT_KINDS)
        self.drift_scale = check_positive("drift_scale", drift_scale, allow_zero=True)
        self.drift_period = check_positive_int("drift_period", drift_period)
        self.drift_at = check_positive_int("drift_at", drift_at, allow_zero=True)
        self.drift_fraction = float(check_probability("drift_fraction", drift_fraction))
        self.catalog = catalog
        self._rng = as_generator(seed)
        rng = self._rng

        self.cohort = rng.choice(len(COHORTS), size=n, p=shares).astype(np.int8)
        self.activity = np.array([ACTIVITY[c] for c in COHORTS])[self.cohort]
        self.history = rng.poisson(np.array([HISTORY_MEAN[c] for c in COHORTS])[self.cohort]).astype(np.int64)
        self.interest = self._draw_interest(n, rng)
        n_brands = catalog.n_brands
        fan = rng.random((n, n_brands)) < 0.05
        self.affinity = (rng.normal(0.0, 0.5, (n, n_brands)) + 1.5 * fan).astype(np.float32)
        self.price_sensitivity = rng.lognormal(0.0, 0.5, n).astype(np.float32)
        self.quality_taste = rng.lognormal(np.log(0.5), 0.5, n).astype(np.float32)
        self.time = 0
        self._next_walk = self.drift_period
        self._shifted = False

    def _draw_interest(self, n: int, rng: np.random.Generator) -> np.ndarray:
        c = self.catalog
        sub_cat = c.subcategory_category
        cat_dept = c.category_department
        a = rng.normal(0.0, 1.0, (n, len(c.department_names)))
        b = rng.normal(0.0, 0.7, (n, len(c.category_names)))
        e = rng.normal(0.0, 0.5, (n, c.n_subcategories))
        return (a[:, cat_dept[sub_cat]] + b[:, sub_cat] + e).astype(np.float32)

    def __len__(self) -> int:
        return len(self.cohort)

    def __repr__(self) -> str:
        counts = np.bincount(self.cohort, minlength=len(COHORTS))
        mix = ", ".join(f"{name} {count}" for name, count in zip(COHORTS, counts))
        return f"ShopperPopulation({len(self):,} shoppers: {mix}; drift={self.drift!r}, time={self.time})"

    # -- the preference vector ----------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Length of u: S + B + 2."""
        return self.catalog.n_subcategories + self.catalog.n_brands + 2

    def preference_vectors(self, shoppers=None) -> np.ndarray:
        """u for `shoppers` (default all), shape (n, S + B + 2), at the current time."""
        ids = np.arange(len(self)) if shoppers is None else np.asarray(shoppers).ravel()
        return np.hstack([self.interest[ids], self.affinity[ids],
                          self.price_sensitivity[ids, None], self.quality_taste[ids, None]])

    def item_vectors(self, products) -> np.ndarray:
        """x_p for `products`, shape (m, S + B + 2): onehot(subcategory) | onehot(brand) | -z_p | rating_p - 4."""
        c = self.catalog
        ids = np.asarray(products).ravel()
        x = np.zeros((len(ids), self.dim), np.float32)
        rows = np.arange(len(ids))
        x[rows, c.subcategory[ids]] = 1.0
        x[rows, c.n_subcategories + c.brand[ids]] = 1.0
        x[:, -2] = -c.relative_log_price[ids]
        x[:, -1] = c.rating[ids] - 4.0
        return x

    def utility(self, shoppers, products, *, price_weight=1.0, quality_weight=1.0) -> np.ndarray:
        """utility(s, p) = u_s . x_p, vectorised: shoppers (n,), products (n, K) -> (n, K) float32.

        price_weight and quality_weight (scalars or (n,)) scale lambda_s and rho_s for
        this session (a "cheap ..." query doubles the weight of price).
        """
        s = np.asarray(shoppers).ravel()
        p = np.asarray(products)
        if p.ndim != 2 or p.shape[0] != len(s):
            raise ValueError(f"products must have shape (len(shoppers), K) = ({len(s)}, K), got {p.shape}")
        c = self.catalog
        lam = (self.price_sensitivity[s] * np.asarray(price_weight, np.float32))[:, None]
        rho = (self.quality_taste[s] * np.asarray(quality_weight, np.float32))[:, None]
        return (self.interest[s[:, None], c.subcategory[p]]
                + self.affinity[s[:, None], c.brand[p]]
                - lam * c.relative_log_price[p]
                + rho * (c.rating[p] - np.float32(4.0)))

    # -- who shops -------------------------------------------------------------------------------
    def sample(self, n: int, rng=None) -> np.ndarray:
        """Ids of the shoppers of the next n sessions, drawn with probability proportional to activity."""
        n = check_positive_int("n", n)
        rng = as_generator(rng)
        cdf = np.cumsum(self.activity)
        return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(self) - 1)

    def record_sessions(self, shoppers) -> None:
        """Each listed shopper has had one more session (history grows; brand-new shoppers stop being new)."""
        np.add.at(self.history, np.asarray(shoppers).ravel(), 1)

    # -- drift -----------------------------------------------------------------------------------
    def next_change(self) -> int | None:
        """The session index at which preferences change next (None: never)."""
        if self.drift == "random_walk" and self.drift_scale > 0:
            return self._next_walk
        if self.drift == "shift" and not self._shifted:
            return max(self.drift_at, self.time)
        return None

    def advance_to(self, time: int) -> None:
        """Move the drift clock to `time` sessions, applying every change on the way (time never goes back)."""
        time = check_positive_int("time", time, allow_zero=True)
        if time < self.time:
            raise ValueError(f"time must not go back: the population is at {self.time}, got {time}")
        rng = self._rng
        if self.drift == "random_walk" and self.drift_scale > 0:
            while self._next_walk <= time:
                self.interest += rng.normal(0.0, self.drift_scale, self.interest.shape).astype(np.float32)
                self.affinity += rng.normal(0.0, self.drift_scale, self.affinity.shape).astype(np.float32)
                self._next_walk += self.drift_period
        elif self.drift == "shift" and not self._shifted and time >= self.drift_at:
            movers = np.flatnonzero(rng.random(len(self)) < self.drift_fraction)
            self.interest[movers] = self._draw_interest(len(movers), rng)
            self._shifted = True
        self.time = time
