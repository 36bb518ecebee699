"""Queries: what shoppers type, generated from their intent, with a Zipf head/torso/tail (NumPy only).

The query universe is built from the catalog; every query records the intent
behind it (subcategory, and optionally brand, product line + model, attribute,
qualifier). Five kinds, from vague to precise:

    category   "headphones"                 the subcategory's name as shoppers say it
    vague      "cheap phone", "best laptop" a qualifier: "cheap" doubles the weight of price
                                             in the session's utility, "best" that of rating
    attribute  "wireless headphones"        an attribute value + noun
    brand      "sony headphones",           brand + noun, optionally an attribute
               "sony wireless headphones"
    precise    "apple iphone 13",           a product line and model (an accessory's is
               "iphone 13 case",            the device it fits), optionally an attribute
               "apple iphone 13 128gb"

Popularity is Zipf: queries are ranked by a key

    KIND_BONUS[kind] - EXTRA_TERM_PENALTY * [a brand or precise query also names an attribute]
    - SYNONYM_PENALTY * [it names the aisle with a word the titles do not use, "trainers"]
    + log(share of the subcategory's products) + log(share of the brand in that subcategory)
    + RANK_NOISE * Gumbel noise,

and the query at rank r gets weight r^(-zipf_exponent) (generic queries make the
head, long precise ones the tail). Synonyms are kept, rarer: BM25 matches words,
so "cheap trainers" finds no sneakers, the vocabulary gap a learned ranker can close.

A session's query comes from its shopper's intent in two steps:

    P(c | s)     proportional to exp(beta * interest_s[c]) * W_c,  W_c = sum of weights of c's queries
    P(q | c, s)  proportional to weight_q * exp(beta_brand * affinity_s[brand_q]) * lambda_s^[q is "cheap"]

so a shopper searches the aisles she likes, names the brands she likes and, if
price sensitive, types "cheap" more often. KIND_BONUS, beta = 1 and beta_brand = 1
are this project's choices.
"""

from __future__ import annotations

import numpy as np

from rerank_lib.catalog import Catalog, tokenize
from rerank_lib.checks import check_positive
from rerank_lib.seeding import as_generator
from rerank_lib.shoppers import ShopperPopulation

__all__ = ["EXTRA_TERM_PENALTY", "KINDS", "KIND_BONUS", "QUALIFIERS", "RANK_NOISE", "SYNONYM_PENALTY", "QuerySet",
           "generate_queries"]

KINDS: tuple[str, ...] = ("category", "vague", "attribute", "brand", "precise")
KIND_BONUS = {"category": 2.0, "vague": 1.5, "brand": 1.0, "attribute": 0.5, "precise": 0.0}
EXTRA_TERM_PENALTY = 1.0
SYNONYM_PENALTY = 2.0
RANK_NOISE = 0.5
# qualifier -> (price weight, quality weight) multiplying lambda_s and rho_s in the session's utility.
QUALIFIERS: dict[str, tuple[float, float]] = {"": (1.0, 1.0), "cheap": (2.0, 1.0), "best": (1.0, 2.0)}
_QUALIFIER_NAMES = tuple(QUALIFIERS)


class QuerySet:
    """The query universe: parallel arrays, row i = query id i.

    text (object str), kind (int8 into KINDS), subcategory (int16), brand, line,
    model, attribute (int16, -1 = not specified; line/model/attribute are catalog
    piece ids), qualifier (int8 into QUALIFIERS), weight (float64 Zipf weights,
    summing to 1), price_weight and quality_weight (float32, from the qualifier).
    """

    def __init__(self, catalog: Catalog, records: list[tuple], *, zipf_exponent: float, rng: np.random.Generator,
                 beta: float, beta_brand: float):
        self.catalog = catalog
        self.zipf_exponent = zipf_exponent
        self.beta = beta
        self.beta_brand = beta_brand
        texts, kinds, subs, brands, lines, models, attrs, quals, synonyms = zip(*records)
        self.text = np.array(texts, dtype=object)
        self.kind = np.array(kinds, np.int8)
        self.subcategory = np.array(subs, np.int16)
        self.brand = np.array(brands, np.int16)
        self.line = np.array(lines, np.int16)
        self.model = np.array(models, np.int16)
        self.attribute = np.array(attrs, np.int16)
        self.qualifier = np.array(quals, np.int8)
        factors = np.array([QUALIFIERS[q] for q in _QUALIFIER_NAMES], np.float32)
        self.price_weight = factors[self.qualifier, 0]
        self.quality_weight = factors[self.qualifier, 1]

        # Zipf weights by a noisy rank key: generic kinds and big aisles first.
        share = np.bincount(catalog.subcategory, minlength=catalog.n_subcategories) / len(catalog)
        bonus = np.array([KIND_BONUS[k] for k in KINDS])[self.kind]
        longer = np.isin(self.kind, [KINDS.index("brand"), KINDS.index("precise")]) & (self.attribute >= 0)
        bonus = bonus - EXTRA_TERM_PENALTY * longer - SYNONYM_PENALTY * np.array(synonyms, bool)
        # A query naming a brand is as popular as the brand is in its aisle.
        pair = np.bincount(catalog.subcategory.astype(np.int64) * catalog.n_brands + catalog.brand,
                           minlength=catalog.n_subcategories * catalog.n_brands).reshape(catalog.n_subcategories, -1)
        brand_share = np.where(self.brand >= 0, pair[self.subcategory, np.maximum(self.brand, 0)], 1.0)
        brand_share = np.where(self.brand >= 0, brand_share / pair.sum(axis=1)[self.subcategory], 1.0)
        key = (bonus + np.log(share[self.subcategory]) + np.log(brand_share)
               + RANK_NOISE * rng.gumbel(size=len(self.text)))
        rank = np.empty(len(key), np.int64)
        rank[np.argsort(-key, kind="stable")] = np.arange(1, len(key) + 1)
        weight = rank.astype(np.float64) ** -zipf_exponent
        self.weight = weight / weight.sum()
        self.rank = rank

        # Per-subcategory padded tables for vectorised two-step sampling.
        n_sub = catalog.n_subcategories
        counts = np.bincount(self.subcategory, minlength=n_sub)
        q_max = int(counts.max())
        order = np.lexsort((np.arange(len(key)), self.subcategory))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        col = np.arange(len(order)) - starts[self.subcategory[order]]
        self._table = np.full((n_sub, q_max), -1, np.int64)
        self._table[self.subcategory[order], col] = order
        with np.errstate(divide="ignore"):
            self._log_weight = np.where(self._table >= 0, np.log(self.weight)[self._table], -np.inf)
            self._log_mass = np.log(np.bincount(self.subcategory, weights=self.weight, minlength=n_sub))
        self._table_brand = np.where(self._table >= 0, self.brand[self._table], -1)
        self._table_cheap = (self._table >= 0) & (self.qualifier[self._table] == _QUALIFIER_NAMES.index("cheap"))
        for name in ("text", "kind", "subcategory", "brand", "line", "model", "attribute", "qualifier", "weight",
                     "price_weight", "quality_weight", "rank"):
            getattr(self, name).setflags(write=False)

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        counts = np.bincount(self.kind, minlength=len(KINDS))
        mix = ", ".join(f"{k} {n}" for k, n in zip(KINDS, counts))
        return f"QuerySet({len(self):,} queries: {mix}; zipf_exponent={self.zipf_exponent:g})"

    def sample(self, shoppers: ShopperPopulation, shopper_ids, rng=None) -> np.ndarray:
        """One query id per session for the given shoppers (vectorised Gumbel-max in two steps)."""
        if not isinstance(shoppers, ShopperPopulation) or shoppers.catalog is not self.catalog:
            raise ValueError("shoppers must be a ShopperPopulation over the same catalog as the queries")
        rng = as_generator(rng)
        s = np.asarray(shopper_ids).ravel()
        logits = self.beta * shoppers.interest[s] + self._log_mass
        sub = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
        within = self._log_weight[sub].copy()
        brand = self._table_brand[sub]
        has_brand = brand >= 0
        rows = np.broadcast_to(s[:, None], brand.shape)
        within[has_brand] += self.beta_brand * shoppers.affinity[rows[has_brand], brand[has_brand]]
        within += np.where(self._table_cheap[sub], np.log(shoppers.price_sensitivity[s])[:, None], 0.0)
        pick = np.argmax(within + rng.gumbel(size=within.shape), axis=1)
        return self._table[sub, pick]

    def to_frame(self):
        """A pandas DataFrame of the universe sorted by weight (head first)."""
        import pandas as pd

        c = self.catalog
        pieces = np.array(("",) + c.pieces, dtype=object)
        brands = np.array(("",) + c.brand_names, dtype=object)
        frame = pd.DataFrame({
            "query_id": np.arange(len(self)),
            "text": self.text,
            "kind": pd.Categorical.from_codes(self.kind, KINDS),
            "subcategory": pd.Categorical.from_codes(self.subcategory, c.subcategory_names),
            "brand": brands[self.brand + 1],
            "line": pieces[self.line + 1],
            "model": pieces[self.model + 1],
            "attribute": pieces[self.attribute + 1],
            "qualifier": pd.Categorical.from_codes(self.qualifier, _QUALIFIER_NAMES),
            "weight": self.weight,
        })
        return frame.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)


def generate_queries(catalog: Catalog, *, zipf_exponent: float = 1.0, beta: float = 1.0, beta_brand: float = 1.0,
                     seed=None) -> QuerySet:
    """Build the query universe of a catalog (only intents that some product can satisfy) with Zipf weights."""
    if not isinstance(catalog, Catalog):
        raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
    zipf_exponent = check_positive("zipf_exponent", zipf_exponent)
    beta = check_positive("beta", beta, allow_zero=True)
    beta_brand = check_positive("beta_brand", beta_brand, allow_zero=True)
    rng = as_generator(seed)
    pieces = catalog.pieces
    present = np.bincount(catalog.subcategory, minlength=catalog.n_subcategories) > 0
    kind = {k: i for i, k in enumerate(KINDS)}
    cheap, best = _QUALIFIER_NAMES.index("cheap"), _QUALIFIER_NAMES.index("best")
    seen: set[str] = set()
    records: list[tuple] = []

    def add(text, k, c, b=-1, line=-1, model=-1, attr=-1, qual=0, noun=None):
        text = " ".join(text.lower().replace("'", "").split())
        synonym = noun is not None and not set(tokenize(noun)) <= title_words[c]
        if text not in seen:  # the same words could name two intents; the first (more generic) wins
            seen.add(text)
            records.append((text, kind[k], c, b, line, model, attr, qual, synonym))

    # The words of each subcategory's title noun: a query noun outside them is a synonym.
    title_words = [set(tokenize(spec.noun)) for spec in catalog.taxonomy]
    # Distinct (subcategory, brand, line, model, attribute) combos actually in the catalog.
    combos = np.unique(np.stack([catalog.subcategory, catalog.brand, catalog.line, catalog.model,
                                 catalog.attribute], 1), axis=0)
    for c, spec in enumerate(catalog.taxonomy):
        if not present[c]:
            continue
        nouns = spec.query_nouns
        for noun in nouns:
            add(noun, "category", c, noun=noun)
        for noun in nouns:
            add(f"cheap {noun}", "vague", c, qual=cheap, noun=noun)
            add(f"best {noun}", "vague", c, qual=best, noun=noun)
        for a in spec.attributes:
            add(f"{a} {nouns[0]}", "attribute", c, attr=catalog.piece_id(a))
        mine = combos[combos[:, 0] == c]
        accessory = spec.compatible_with is not None
        # Shorter queries first, so that a text naming two intents keeps the more generic one.
        for b in np.unique(mine[:, 1]):
            add(f"{catalog.brand_names[b]} {nouns[-1]}", "brand", c, b=int(b), noun=nouns[-1])
        for _, b, line, model in np.unique(mine[mine[:, 2] >= 0][:, :4], axis=0):
            if accessory:  # "iphone 13 case", any brand
                add(f"{pieces[line]} {pieces[model]} {nouns[-1]}", "precise", c, line=int(line), model=int(model))
            else:
                add(f"{catalog.brand_names[b]} {pieces[line]} {pieces[model]}", "precise", c, b=int(b),
                    line=int(line), model=int(model))
        for _, b, a in np.unique(mine[mine[:, 4] >= 0][:, [0, 1, 4]], axis=0):
            add(f"{catalog.brand_names[b]} {pieces[a]} {nouns[0]}", "brand", c, b=int(b), attr=int(a))
        for _, b, line, model, a in mine[(mine[:, 2] >= 0) & (mine[:, 4] >= 0)]:
            if accessory:  # "iphone 13 rugged case"
                add(f"{pieces[line]} {pieces[model]} {pieces[a]} {nouns[-1]}", "precise", c, line=int(line),
                    model=int(model), attr=int(a))
            else:  # "apple iphone 13 128gb"
                add(f"{catalog.brand_names[b]} {pieces[line]} {pieces[model]} {pieces[a]}", "precise", c, b=int(b),
                    line=int(line), model=int(model), attr=int(a))
    return QuerySet(catalog, records, zipf_exponent=zipf_exponent, rng=rng, beta=beta, beta_brand=beta_brand)
