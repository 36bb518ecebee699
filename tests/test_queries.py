"""Queries: every intent is satisfiable, popularity is Zipf, and shoppers' tastes shape what they type."""

import numpy as np
import pytest

from rerank_lib.catalog import generate_catalog, tokenize
from rerank_lib.queries import KINDS, QUALIFIERS, generate_queries
from rerank_lib.relevance import query_match
from rerank_lib.shoppers import ShopperPopulation


@pytest.fixture(scope="module")
def world():
    catalog = generate_catalog(5_000, seed=3)
    return catalog, ShopperPopulation(catalog, 3_000, seed=4), generate_queries(catalog, seed=5)


def test_universe_has_every_kind_and_unique_texts(world):
    catalog, _, queries = world
    assert set(np.unique(queries.kind)) == set(range(len(KINDS)))
    assert len(set(queries.text)) == len(queries)
    texts = set(queries.text)
    assert {"phone", "cheap phone", "laptop"} <= texts  # vague
    assert any(t.startswith("iphone ") and t.endswith(" case") for t in texts)  # precise accessory
    assert any(t.startswith("apple iphone ") for t in texts)  # precise product
    cheap = queries.qualifier == list(QUALIFIERS).index("cheap")
    assert (queries.price_weight[cheap] == 2).all() and (queries.price_weight[~cheap] == 1).all()


def test_every_intent_is_satisfiable(world):
    # Some product in the catalog fully matches each query (m = 1): no query asks for a product the shop lacks.
    catalog, _, queries = world
    all_products = np.broadcast_to(np.arange(len(catalog)), (len(queries), len(catalog)))
    best = np.empty(len(queries))
    for start in range(0, len(queries), 200):
        rows = slice(start, start + 200)
        best[rows] = query_match(catalog, queries, np.arange(len(queries))[rows], all_products[rows]).max(axis=1)
    assert (best == 1.0).all(), queries.text[best < 1][:5]


def test_weights_are_zipf_with_generic_queries_in_the_head(world):
    _, _, queries = world
    order = np.argsort(queries.rank)
    ranks = queries.rank[order]
    np.testing.assert_allclose(queries.weight[order] / queries.weight[order][0], ranks.astype(float) ** -1.0)
    head, tail = order[:50], order[-300:]
    precise = KINDS.index("precise")
    assert (queries.kind[head] == precise).mean() < (queries.kind[tail] == precise).mean()
    assert np.mean([len(t.split()) for t in queries.text[head]]) < np.mean([len(t.split()) for t in queries.text[tail]])


def test_sampled_frequencies_are_zipf_like(world):
    catalog, shoppers, queries = world
    q = queries.sample(shoppers, shoppers.sample(200_000, rng=0), rng=1)
    counts = np.sort(np.bincount(q, minlength=len(queries)))[::-1]
    ranks = np.arange(1, len(counts) + 1)
    slope = np.polyfit(np.log(ranks[:500]), np.log(counts[:500]), 1)[0]
    assert -1.3 < slope < -0.7, slope  # the universe's exponent is 1; shoppers' tastes bend it only a little
    # Heavy head and long tail: the top 1% of queries take a large share, most queries are rare.
    assert counts[: len(counts) // 100].sum() / counts.sum() > 0.2


def test_queries_follow_interests_brands_and_price_sensitivity(world):
    catalog, _, queries = world
    shoppers = ShopperPopulation(catalog, 10, seed=0)  # its own, since this test edits shopper 0's tastes
    c = catalog.subcategory_names.index("headphones")
    shoppers.interest[0] = -5.0
    shoppers.interest[0, c] = 5.0
    q = queries.sample(shoppers, np.zeros(2_000, int), rng=0)
    assert (queries.subcategory[q] == c).mean() > 0.95
    # Sony fan: her brand queries in this aisle name Sony more often than a Sony hater's do.
    sony = catalog.brand_names.index("Sony")
    shoppers.affinity[0, sony] = 4.0
    fan = queries.brand[queries.sample(shoppers, np.zeros(4_000, int), rng=1)]
    shoppers.affinity[0, sony] = -4.0
    hater = queries.brand[queries.sample(shoppers, np.zeros(4_000, int), rng=1)]
    assert (fan == sony).mean() > 0.3 and (hater == sony).mean() < (fan == sony).mean() / 10
    # Price-sensitive shoppers type "cheap" more often.
    cheap = list(QUALIFIERS).index("cheap")
    rates = []
    for lam in (0.3, 3.0):
        shoppers.price_sensitivity[0] = lam
        rates.append((queries.qualifier[queries.sample(shoppers, np.zeros(4_000, int), rng=2)] == cheap).mean())
    assert rates[1] > 2 * rates[0]


def test_same_seed_same_queries(world):
    catalog, shoppers, _ = world
    a, b, c = (generate_queries(catalog, seed=s) for s in (9, 9, 10))
    np.testing.assert_array_equal(a.weight, b.weight)
    assert list(a.text) == list(b.text)
    assert not np.array_equal(a.weight, c.weight)
    ids = shoppers.sample(500, rng=0)
    np.testing.assert_array_equal(a.sample(shoppers, ids, rng=1), a.sample(shoppers, ids, rng=1))
    assert not np.array_equal(a.sample(shoppers, ids, rng=1), a.sample(shoppers, ids, rng=2))


def test_bad_arguments_name_the_parameter(world):
    catalog, shoppers, queries = world
    with pytest.raises(ValueError, match="zipf_exponent"):
        generate_queries(catalog, zipf_exponent=0)
    with pytest.raises(ValueError, match="beta"):
        generate_queries(catalog, beta=-1)
    with pytest.raises(TypeError, match="catalog"):
        generate_queries(None)
    other = ShopperPopulation(generate_catalog(100, seed=0), 5, seed=0)
    with pytest.raises(ValueError, match="shoppers"):
        queries.sample(other, [0])


def test_synonyms_the_titles_do_not_use_are_rarer(world):
    catalog, _, queries = world
    # "trainers" names the sneakers aisle, but titles say "Sneakers": BM25 finds none of them.
    trainers = int(np.flatnonzero(queries.text == "trainers")[0])
    sneakers = int(np.flatnonzero(queries.text == "sneakers")[0])
    assert queries.weight[trainers] < queries.weight[sneakers]
    category = queries.kind == KINDS.index("category")
    title_words = [set(tokenize(spec.noun)) for spec in catalog.taxonomy]
    synonym = np.array([not set(tokenize(t)) <= title_words[c] for t, c in zip(queries.text, queries.subcategory)])
    assert (category & synonym).sum() >= 5
    assert np.median(queries.rank[category & synonym]) > 2 * np.median(queries.rank[category & ~synonym])
