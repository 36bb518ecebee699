"""BM25 search: the formula, a cross-check with rank_bm25, top-K order, padding, the cache, K limits."""

from collections import Counter

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rerank_lib.catalog import generate_catalog, tokenize
from rerank_lib.search import MAX_K, BM25Search, check_k

QUERIES = ["apple iphone 13 case", "cheap phone", "sony wireless headphones", "black sneakers size 9", "lego"]


@pytest.fixture(scope="module")
def catalog():
    return generate_catalog(3_000, seed=11)


@pytest.fixture(scope="module")
def search(catalog):
    return BM25Search(catalog)


@pytest.fixture(scope="module")
def corpus(catalog):
    return [tokenize(t) for t in catalog.titles()]


def lucene_bm25(corpus, query, k1=1.5, b=0.75):
    """The module docstring's formula, written out directly."""
    n = len(corpus)
    lengths = np.array([len(d) for d in corpus], float)
    df = Counter(t for d in corpus for t in set(d))
    counts = [Counter(d) for d in corpus]
    score = np.zeros(n)
    for t in query:
        if t not in df:
            continue
        idf = np.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
        tf = np.array([c[t] for c in counts], float)
        score += idf * tf / (tf + k1 * (1 - b + b * lengths / lengths.mean()))
    return score


@pytest.mark.parametrize("query", QUERIES)
def test_scores_follow_the_lucene_formula(search, corpus, query):
    np.testing.assert_allclose(search.scores(query), lucene_bm25(corpus, tokenize(query)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("query", QUERIES)
def test_robertson_variant_agrees_with_rank_bm25(catalog, corpus, query):
    # rank_bm25 floors negative idfs (tokens in more than half the titles); none exists here, so no floor applies.
    df = Counter(t for d in corpus for t in set(d))
    assert max(df.values()) < len(corpus) / 2
    robertson = BM25Search(catalog, method="robertson").scores(query)
    okapi = BM25Okapi(corpus, k1=1.5, b=0.75).get_scores(tokenize(query))
    np.testing.assert_allclose(robertson * (1.5 + 1), okapi, rtol=1e-5, atol=1e-5)


def test_top_k_is_sorted_with_deterministic_ties(search, catalog):
    scores = search.scores("black phone case")
    result = search.search("black phone case", 200)
    assert result.n_matched == 200 and len(result.products) == 200
    assert len(set(result.products.tolist())) == 200
    np.testing.assert_array_equal(result.scores, scores[result.products])
    # Sorted by (score desc, popularity desc, id asc), and nothing outside beats the last one.
    key = list(zip(-result.scores, -catalog.popularity[result.products].astype(int), result.products))
    assert key == sorted(key)
    outside = np.setdiff1d(np.arange(len(catalog)), result.products)
    assert scores[outside].max() <= result.scores[-1]
    # A shorter list is a prefix of a longer one.
    np.testing.assert_array_equal(search.search("black phone case", 20).products, result.products[:20])


def test_matches_share_a_token_with_the_query(search, catalog):
    result = search.search("wallet case", 50)
    for product, score in zip(result.products[: result.n_matched], result.scores[: result.n_matched]):
        assert score > 0 and {"wallet", "case"} & set(tokenize(catalog.title(product)))


def test_fewer_matches_than_k_are_padded_with_best_sellers(search, catalog):
    query = "dell xps 13"
    scores = search.scores(query)
    n_match = int((scores > 0).sum())
    k = min(n_match + 40, len(catalog))
    result = search.search(query, k)
    assert n_match < k and result.n_matched == n_match and len(result.products) == k
    padding = result.products[n_match:]
    assert (result.scores[n_match:] == 0).all() and (scores[padding] == 0).all()
    # The padding is the most popular non-matching products, best first.
    non_matching = np.flatnonzero(scores == 0)
    best = non_matching[np.lexsort((non_matching, -catalog.popularity[non_matching].astype(int)))][: k - n_match]
    np.testing.assert_array_equal(padding, best)
    # pad=False returns only the matches.
    unpadded = search.search(query, k, pad=False)
    assert len(unpadded.products) == n_match
    np.testing.assert_array_equal(unpadded.products, result.products[:n_match])


def test_a_query_with_no_known_word_gets_only_best_sellers(search, catalog):
    result = search.search("zzz qqq", 10)
    assert result.n_matched == 0 and (result.scores == 0).all()
    np.testing.assert_array_equal(result.products, np.lexsort((np.arange(len(catalog)), -catalog.popularity))[:10])
    assert len(search.search("zzz qqq", 10, pad=False).products) == 0


def test_cache_serves_repeated_queries(catalog):
    search = BM25Search(catalog, cache_size=2)
    first = search.search("Nike Air Max", 50)
    again = search.search("nike air max", 30)  # same tokens, shorter list: a hit
    assert search.cache_info() == {"hits": 1, "misses": 1, "size": 1}
    np.testing.assert_array_equal(again.products, first.products[:30])
    search.search("nike air max", 80)  # longer than cached: recomputed
    assert search.cache_info()["misses"] == 2
    search.search("tent", 5)
    search.search("shampoo", 5)  # evicts the least recently used
    assert search.cache_info()["size"] == 2
    products, scores, n_matched = search.search_many(["tent", "shampoo", "tent"], 5)
    assert products.shape == scores.shape == (3, 5) and n_matched.shape == (3,)
    np.testing.assert_array_equal(products[0], products[2])


def test_k_limits_name_the_parameter(search, catalog):
    assert check_k(50, 3_000) == 50
    with pytest.raises(ValueError, match="k must be at most the catalog size"):
        search.search("tent", len(catalog) + 1)
    with pytest.raises(ValueError, match="k must be at most MAX_K"):
        check_k(MAX_K + 1, 10 * MAX_K)
    with pytest.raises(ValueError, match="k must be"):
        search.search("tent", 0)
    with pytest.raises(TypeError, match="k"):
        search.search("tent", 2.5)
    with pytest.raises(ValueError, match="method"):
        BM25Search(catalog, method="tfidf")
    with pytest.raises(ValueError, match="b must"):
        BM25Search(catalog, b=1.5)
